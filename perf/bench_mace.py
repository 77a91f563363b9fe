"""MACE CPU benchmark: mlpot's LibTorch runner (periodic graph) against mace-torch's own ASE
calculator on the same model weights, structure and thread count, in one run. (The native
engine against both: perf/bench_mace_native.py.)

Cases (issue 3): the seed-architecture float32 model on 192 atoms (Li2CO3 2x2x2) and the tiny
model on 1440 atoms (Li2CO3 3x5x4). Energy, forces and stress are computed by both every step.

Besides mlpot as shipped and mace-torch as users run it, two runs attribute the difference:
mlpot without its TorchScript graph rewrites (--mace-rewrite no), and mace-torch with glibc told
through the environment to keep freed memory, as the mlpot runner does itself (mallopt).
Usage: bench_mace.py --mlpot build/bin/mlpot --models build/models [--threads 2] [--out perf/results]
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

torch.serialization.add_safe_globals([slice])  # e3nn 0.4.4 constants under torch >= 2.6

from ase.io import read  # noqa: E402
from mace.calculators import MACECalculator  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mtp import cpu_name  # noqa: E402


# glibc's environment equivalent of mlpot's mallopt(M_MMAP_MAX, 0), mallopt(M_TRIM_THRESHOLD, -1).
KEEP_FREED_MEMORY = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(64 << 30)}


CSV_HEADER = ("date,commit,machine,model,dtype,atoms,threads,mlpot_ms_per_step,mace_ase_ms_per_step,speedup,"
              "mlpot_ms_per_step_no_virial,mlpot_no_rewrite_ms_per_step,mace_ase_kept_memory_ms_per_step,"
              "speedup_kept_memory")


def mlpot_bench(mlpot, model, structure, threads, steps, virial=True, rewrite=True, engine="torch", warmup=3):
    env = dict(os.environ, OMP_PROC_BIND="false", OMP_NUM_THREADS=str(threads))
    r = subprocess.run([mlpot, "bench", "--model", model, "--input", structure, "--threads", str(threads),
                        "--steps", str(steps), "--warmup", str(warmup), "--virial", "yes" if virial else "no",
                        "--mace-rewrite", "yes" if rewrite else "no", "--mace-engine", engine],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"mlpot bench failed: {r.stderr}")
    ms = float(re.search(r"ms/step\s+([0-9.eE+-]+)", r.stdout).group(1))
    energy = float(re.search(r"energy\s+([0-9.eE+-]+)", r.stdout).group(1))
    return ms, energy


def ase_bench(model_file, structure, dtype, threads, steps, keep_freed_memory=False):
    """mace-torch in a fresh Python process (the allocator settings must precede its start)."""
    env = dict(os.environ, OMP_PROC_BIND="false", OMP_NUM_THREADS=str(threads))
    if keep_freed_memory:
        env.update(KEEP_FREED_MEMORY)
    r = subprocess.run([sys.executable, __file__, "--ase-worker", str(model_file), str(structure), dtype,
                        str(threads), str(steps)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"mace-torch run failed: {r.stderr[-2000:]}")
    ms, energy = r.stdout.split()[-2:]
    return float(ms), float(energy)


def ase_worker(model_file, structure, dtype, threads, steps):
    torch.set_num_threads(threads)
    atoms = read(structure)
    calc = MACECalculator(model_paths=str(model_file), device="cpu", default_dtype=dtype)
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    times = []
    for k in range(steps + 3):
        atoms.positions[0, 0] += 1e-9  # invalidate the cache: a new MD step
        t0 = time.perf_counter()
        atoms.get_potential_energy()
        atoms.get_forces()
        atoms.get_stress()
        if k >= 3:
            times.append(time.perf_counter() - t0)
    print(float(np.median(times)) * 1e3, repr(energy))


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "--ase-worker":
        model, structure, dtype, threads, steps = sys.argv[2:]
        ase_worker(model, structure, dtype, int(threads), int(steps))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--out", default="perf/results")
    args = ap.parse_args()
    models = Path(args.models)
    cases = [("seed", "float32", "2x2x2"), ("tiny", "float32", "3x5x4"), ("tiny", "float64", "3x5x4")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch, dtype, cells in cases:
            xyz = Path(tmp) / f"li2co3-{cells}.xyz"
            subprocess.run([args.mlpot, "build", "li2co3", "--cells", cells, "--out", str(xyz)], check=True,
                           capture_output=True)
            n = int(xyz.read_text().split("\n", 1)[0])
            # Two interleaved rounds, best of each: this VM's timings drift by several percent.
            model = models / f"{arch}-{dtype}-lammps.pt"
            ours, ase = [], []
            for _ in range(2):
                ms, e_ours = mlpot_bench(args.mlpot, model, xyz, args.threads, args.steps)
                ours.append(ms)
                ms, e_ase = ase_bench(models / f"{arch}-{dtype}.model", xyz, dtype, args.threads, args.steps)
                ase.append(ms)
            # Attribution runs, once each.
            ms_plain = mlpot_bench(args.mlpot, model, xyz, args.threads, args.steps, rewrite=False)[0]
            ms_kept = ase_bench(models / f"{arch}-{dtype}.model", xyz, dtype, args.threads, args.steps,
                                keep_freed_memory=True)[0]
            ms_ef = mlpot_bench(args.mlpot, model, xyz, args.threads, args.steps, virial=False)[0]
            ms_ours, ms_ase = min(ours), min(ase)
            tol = 1e-9 if dtype == "float64" else 1e-5
            if abs(e_ours - e_ase) > tol * abs(e_ase):
                sys.exit(f"{arch} {dtype}: energies differ (mlpot {e_ours}, mace-torch {e_ase}): not like for like")
            rows.append((arch, dtype, n, ms_ours, ms_ase, ms_ef, ms_plain, ms_kept))
            print(f"{arch:5s} {dtype:8s} {n:5d} atoms  E+F+S: mlpot {ms_ours:8.1f} ms/step, mace-torch ASE "
                  f"{ms_ase:8.1f} ms/step, speed-up {ms_ase / ms_ours:4.2f}x ({n / ms_ours * 1e3:.3g} atom-steps/s)")
            print(f"{'':21s}attribution: mlpot without graph rewrites {ms_plain:8.1f} ms/step; mace-torch keeping "
                  f"freed memory {ms_kept:8.1f} ms/step (speed-up {ms_kept / ms_ours:4.2f}x); mlpot E+F only "
                  f"{ms_ef:8.1f} ms/step")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "mace_cpu.csv"
    new = not csv.exists()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with csv.open("a") as f:
        if new:
            f.write(CSV_HEADER + "\n")
        for arch, dtype, n, a, b, c, d, e in rows:
            f.write(f"{stamp},{commit},{cpu_name()} ({os.cpu_count()} cores),{arch},{dtype},{n},{args.threads},"
                    f"{a:.2f},{b:.2f},{b / a:.3f},{c:.2f},{d:.2f},{e:.2f},{e / a:.3f}\n")
    print(f"appended to {csv}")


if __name__ == "__main__":
    main()
