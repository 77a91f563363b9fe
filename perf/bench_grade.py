"""Extrapolation-grade overhead on the CPU: the force call alone against the force call plus
the grade (configuration and neighbourhood mode), same model, structure and threads, in one
run; reported as the extra fraction of the plain force call.

The states are MLIP's initial ones (A = 1e-6 I, written by `mlpot make-model --selection`): the
grade's cost depends only on n, not on the state's values.

Usage: bench_grade.py --mlpot build/bin/mlpot --template 16.almtp --structure li.cfg --work DIR
"""
import argparse
import datetime
import subprocess
import sys
from pathlib import Path

from bench_mtp import cpu_name, mlpot_bench


def git_commit():
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                       cwd=Path(__file__).parent)
    return r.stdout.strip() or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--template", required=True)
    ap.add_argument("--structure", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", default="perf/results")
    args = ap.parse_args()
    work = Path(args.work)
    models = {}
    for mode in ("cfg", "nbh"):
        models[mode] = work / f"synthetic-l16-6sp-{mode}.almtp"
        subprocess.run([args.mlpot, "make-model", "--template", args.template, "--species", "6", "--min-dist", "0.92",
                        "--max-dist", "5.0", "--selection", mode, "--out", models[mode]], check=True,
                       capture_output=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    print(f"MTP extrapolation-grade overhead: level 16, 6 species, n = 1250 parameters, {args.structure}")
    print(f"{'threads':>7} {'mode':>14} {'plain us/atom':>14} {'graded':>10} {'extra':>8}")
    for threads in (1, 2):
        for mode in ("cfg", "nbh"):
            plain, nbr, _ = mlpot_bench(args.mlpot, models[mode], args.structure, "OpenMP", threads, args.steps)
            graded, _, _ = mlpot_bench(args.mlpot, models[mode], args.structure, "OpenMP", threads, args.steps,
                                       extra=["--grade", "yes"])
            name = "configuration" if mode == "cfg" else "neighbourhood"
            extra = graded / plain - 1.0
            print(f"{threads:>7} {name:>14} {plain:>14.2f} {graded:>10.2f} {100 * extra:>7.1f}%")
            rows.append((threads, name, plain, graded, extra, nbr))
    out = Path(args.out) / "grade_cpu.csv"
    new = not out.exists()
    with out.open("a") as f:
        if new:
            f.write("date,commit,machine,cpu,structure,neighbours_per_atom,threads,mode,plain_us_per_atom_step,"
                    "graded_us_per_atom_step,extra_fraction\n")
        for threads, name, plain, graded, extra, nbr in rows:
            f.write(f"{stamp},{git_commit()},vm x86_64,{cpu_name()},{Path(args.structure).name},{nbr:.1f},{threads},"
                    f"{name},{plain:.3f},{graded:.3f},{extra:.4f}\n")
    print(f"appended to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
