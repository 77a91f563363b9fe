"""MACE on the CPU, the native engine against the LibTorch runner and against mace-torch, in one
run: the same model file, structure (Li2CO3), thread count and outputs (energy, forces, stress
every step), interleaved rounds, best of each.

Cases: the seed-architecture model (128x0e+128x1o, max_ell 3, correlation 3) in float32 on 192
and 1440 atoms, and in float64 on 192 atoms; the tiny model in float32 on 1440 atoms. mace-torch
(its ASE calculator on the eager .model) is timed on the 192-atom cases and the tiny one (the
seed model on 1440 atoms takes it minutes per step on 2 cores). Appends to
perf/results/mace_native_cpu.csv.

Usage: bench_mace_native.py --mlpot build/bin/mlpot --models build/models [--threads 2] [--steps 3]
       [--cases seed-float32-2x2x2,...] [--out perf/results]
"""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mace import ase_bench, mlpot_bench  # noqa: E402
from bench_mtp import cpu_name  # noqa: E402

CASES = ["seed-float32-2x2x2", "seed-float32-3x5x4", "seed-float64-2x2x2", "tiny-float32-3x5x4"]
ASE_CASES = {"seed-float32-2x2x2", "seed-float64-2x2x2", "tiny-float32-3x5x4"}
CSV_HEADER = ("date,commit,machine,model,dtype,atoms,threads,native_ms_per_step,torch_ms_per_step,"
              "mace_ase_ms_per_step,native_vs_torch,native_vs_mace_ase,native_atom_steps_per_s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--out", default="perf/results")
    args = ap.parse_args()
    models = Path(args.models)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            arch, dtype, cells = case.split("-")
            xyz = Path(tmp) / f"li2co3-{cells}.xyz"
            subprocess.run([args.mlpot, "build", "li2co3", "--cells", cells, "--out", str(xyz)], check=True,
                           capture_output=True)
            n = int(xyz.read_text().split("\n", 1)[0])
            model = models / f"{arch}-{dtype}-lammps.pt"
            times = {"native": [], "torch": [], "ase": []}
            energies = {}
            for _ in range(args.rounds):
                for engine in ("native", "torch"):
                    ms, energies[engine] = mlpot_bench(args.mlpot, model, xyz, args.threads, args.steps,
                                                       engine=engine, warmup=1)
                    times[engine].append(ms)
                if case in ASE_CASES:
                    ms, energies["ase"] = ase_bench(models / f"{arch}-{dtype}.model", xyz, dtype, args.threads,
                                                    args.steps)
                    times["ase"].append(ms)
            tol = 1e-9 if dtype == "float64" else 1e-5
            for other in ("torch", "ase"):
                if other in energies and abs(energies["native"] - energies[other]) > tol * abs(energies[other]):
                    sys.exit(f"{case}: energies differ (native {energies['native']}, {other} {energies[other]})")
            best = {k: min(v) if v else float("nan") for k, v in times.items()}
            rows.append((arch, dtype, n, best["native"], best["torch"], best["ase"]))
            print(f"{case:20s} {n:5d} atoms  native {best['native']:9.1f} ms/step  LibTorch runner "
                  f"{best['torch']:9.1f} ms/step ({best['torch'] / best['native']:.2f}x)  mace-torch "
                  f"{best['ase']:9.1f} ms/step ({best['ase'] / best['native']:.2f}x)", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "mace_native_cpu.csv"
    new = not csv.exists()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with csv.open("a") as f:
        if new:
            f.write(CSV_HEADER + "\n")
        for arch, dtype, n, a, b, c in rows:
            ase = "" if c != c else f"{c:.2f}"
            ratio = "" if c != c else f"{c / a:.3f}"
            f.write(f"{stamp},{commit},{cpu_name()} ({os.cpu_count()} cores),{arch},{dtype},{n},{args.threads},"
                    f"{a:.2f},{b:.2f},{ase},{b / a:.3f},{ratio},{n / a * 1e3:.4g}\n")
    print(f"appended to {csv}")


if __name__ == "__main__":
    main()
