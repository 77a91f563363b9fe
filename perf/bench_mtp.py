"""MTP CPU benchmark: mlpot's force call against motep's C engine on the same model and
structure, in one run (timings on a shared machine are noisy; compare the ratio).

Usage: bench_mtp.py --mlpot build/bin/mlpot --model M.mtp --structure li.cfg [--out perf/results]
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def mlpot_bench(mlpot, model, structure, backend, threads, steps, extra=()):
    cmd = [mlpot, "bench", "--model", model, "--input", structure, "--backend", backend,
           "--threads", str(threads), "--steps", str(steps), *extra]
    env = {"OMP_PROC_BIND": "false", "OMP_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"mlpot bench failed: {r.stderr}")
    us = float(re.search(r"us/atom-step\s+([0-9.eE+-]+)", r.stdout).group(1))
    nbr = float(re.search(r"([0-9.]+) neighbours/atom", r.stdout).group(1))
    energy = float(re.search(r"energy\s+([0-9.eE+-]+)", r.stdout).group(1))
    return us, nbr, energy


def motep_bench(model, structure, steps):
    from motep.calculator import MTP
    from motep.io.mlip.cfg import read_cfg
    from motep.io.mlip.mtp import read_mtp
    data = read_mtp(model)
    data.species = list(range(1, data.species_count + 1))
    atoms = read_cfg(structure, index=-1)  # cfg `type` t becomes number t
    atoms.numbers = atoms.numbers + 1      # MLIP type t <-> species t + 1
    calc = MTP(data, engine="cext")
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    times = []
    for _ in range(steps):
        calc.reset()
        t0 = time.perf_counter()
        atoms.get_forces()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) / len(atoms) * 1e6, energy


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def append_rows(out_dir, name, header, lines):
    """Appends `lines` (CSV text after the date, commit and machine columns) to out_dir/name,
    writing `header` (the columns after those three) first in a new file. Returns the path."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / name
    new = not csv.exists()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with csv.open("a") as f:
        if new:
            f.write(f"date,commit,machine,{header}\n")
        for line in lines:
            f.write(f"{stamp},{commit},{cpu_name()} ({os.cpu_count()} cores),{line}\n")
    return csv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--structure", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", default="perf/results")
    args = ap.parse_args()
    rows = []
    print(f"MTP CPU benchmark: {args.model} on {args.structure}")
    us_serial, nbr, e_ours = mlpot_bench(args.mlpot, args.model, args.structure, "Serial", 1, args.steps)
    rows.append(("mlpot Kokkos Serial", 1, us_serial))
    for threads in (1, 2):
        us, _, _ = mlpot_bench(args.mlpot, args.model, args.structure, "OpenMP", threads, args.steps)
        rows.append(("mlpot Kokkos OpenMP", threads, us))
    # --precision mixed (float arithmetic, double sums; docs/mtp.md, "Mixed precision"), each
    # right after the double row it is compared with.
    for backend, threads in (("Serial", 1), ("OpenMP", 2)):
        us_d, _, _ = mlpot_bench(args.mlpot, args.model, args.structure, backend, threads, args.steps)
        us_m, _, e_mixed = mlpot_bench(args.mlpot, args.model, args.structure, backend, threads, args.steps,
                                       ("--precision", "mixed"))
        rows.append((f"mlpot Kokkos {backend} (again, beside mixed)", threads, us_d))
        rows.append((f"mlpot Kokkos {backend} precision mixed", threads, us_m))
        print(f"{backend} {threads} thread(s): mixed {us_d / us_m:.2f}x as fast as double; energy mixed - double "
              f"{e_mixed - e_ours:.2e} eV")
    us_motep, e_motep = motep_bench(args.model, args.structure, max(3, args.steps // 3))
    rows.append(("motep cext (incl. ASE neighbour list)", 1, us_motep))
    print(f"{nbr:.1f} neighbours/atom; energy mlpot {e_ours:.10f} eV, motep {e_motep:.10f} eV")
    if abs(e_ours - e_motep) > 1e-9 * max(1.0, abs(e_motep)):
        sys.exit("mlpot and motep disagree on the energy: the comparison is not like for like")
    print(f"{'engine':40s} {'threads':>7s} {'us/atom-step':>13s} {'vs motep':>9s}")
    for name, th, us in rows:
        print(f"{name:40s} {th:7d} {us:13.2f} {us_motep / us:8.2f}x")
    omp1 = rows[1][2]
    omp2 = rows[2][2]
    print(f"OpenMP speed-up 1 -> 2 threads: {omp1 / omp2:.2f}x")
    csv = append_rows(args.out, "mtp_cpu.csv",
                      "model,structure,neighbours_per_atom,engine,threads,us_per_atom_step,motep_over_engine",
                      [f"{Path(args.model).name},{Path(args.structure).name},{nbr:.1f},{name},{th},{us:.3f},"
                       f"{us_motep / us:.3f}" for name, th, us in rows])
    print(f"appended to {csv}")


if __name__ == "__main__":
    main()
