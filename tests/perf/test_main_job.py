"""Smoke test of the main job (perf/main_job.py, the README's first command) with tiny budgets:
it must run LAMMPS through the plugin, print the table with the seed study beside, append
well-formed CSV rows and draw the PNG. Timings are not checked (they are benchmarks)."""
import argparse
import csv
import re
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    ap = argparse.ArgumentParser()
    for k in ("python", "mlpot", "lmp", "plugin-dir", "templates", "models"):
        ap.add_argument(f"--{k}", required=True)
    a = ap.parse_args()
    script = Path(__file__).resolve().parents[2] / "perf" / "main_job.py"
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [a.python, script, "--mlpot", a.mlpot, "--lmp", a.lmp, "--plugin-dir", a.plugin_dir,
               "--templates", a.templates, "--models", a.models, "--out", tmp, "--quick", "--max-seconds", "0.3",
               "--target-seconds", "0.2", "--memory-limit", "0.02"]
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)
        out = r.stdout
        print(out[-3000:], r.stderr[-2000:])
        if r.returncode != 0:
            failures.append(f"exit code {r.returncode}")
        for needle in ("backend   Kokkos OpenMP", "engine    mtp: LAMMPS MD (mtp/kk)", "seed study",
                       "size series (mtp) stopped", "OpenMP scaling", "peak 0."):
            if needle not in out:
                failures.append(f"output lacks {needle!r}")
        # A 0.02 GiB cap stops the series at its second cell (LAMMPS with the plugin, which loads
        # no LibTorch for MTP, peaks at tens of MB at 192 atoms; extrapolated to 384 that is more),
        # before the 0.3 s time budget would.
        if not re.search(r"\(384 atoms\) would need ~[0-9.]+ GiB of memory > 90 % of 0.02 GiB available", out):
            failures.append("the size series did not stop on memory")
        rows = list(csv.DictReader(open(Path(tmp) / "main_job.csv"))) if (Path(tmp) / "main_job.csv").exists() else []
        systems = {row["system"] for row in rows}
        for want in ("li2co3-3x5x4", "li2edc-72", "li2co3-2x2x2"):
            if want not in systems:
                failures.append(f"no CSV row for {want} (rows: {sorted(systems)})")
        for row in rows:
            n, s = int(row["atoms"]), float(row["s_per_step"])
            aps, nsd = float(row["atom_steps_per_s"]), float(row["ns_per_day_at_0.5fs"])
            if not (s > 0 and abs(aps - n / s) <= 1e-4 * aps and abs(nsd - 0.5e-6 * 86400 / s) <= 1e-4 * nsd):
                failures.append(f"inconsistent row {row}")
            if row["engine"] != "lammps" or float(row["seed_ns_per_day"]) != 10.0:
                failures.append(f"unexpected engine or seed figure in {row}")
        png = Path(tmp) / "main_job_openmp.png"
        if not png.exists() or png.read_bytes()[:4] != b"\x89PNG":
            failures.append("no PNG plot")
    for f in failures:
        print("FAIL", f)
    print(f"{'all' if not failures else len(failures)} {'checks passed' if not failures else 'failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
