"""Per-call cost of mlpot.Calculator (the Python package) against `mlpot bench`'s force call on the
same structure and thread count, and against motep's and mace-torch's own ASE calculators, in one
run (docs/python.md, docs/performance.md).

Li2CO3 3x5x4 (1440 atoms), one thread by default:
  - MTP: the synthetic level-16 model (mlpot make-model), mlpot.Calculator against `mlpot bench`
    (its force call on a list built once) and against motep's MTP calculator (engine cext);
  - MACE, both engines: the seed float32 model, mlpot.Calculator against `mlpot bench
    --mace-engine E` and against mace-torch's MACECalculator on the eager `.model`.
Each Python call follows a small random displacement of every atom (as an MD step: ASE then
recomputes; the Verlet list is kept), forces and stress; the median of the timed calls, after
warm-up calls (MTP 1, MACE 4: TorchScript optimises the LibTorch engine's graph over its first
calls, which then vary by up to 2x, as do `mlpot bench`'s with too short a warm-up). Each
calculator runs in a Python process of its own, one at a time (the LibTorch engine and mace-torch
take ~10 GB each at 1440 atoms: two at once swap on a 24 GB VM). Interleaved rounds of `mlpot
bench` and the calculator (MTP 3, MACE 2), the best round of each: the two differ by a few per
cent, less than one round's noise on these VMs.
Rows -> perf/results/python_calculator_cpu.csv.

Usage: PYTHONPATH=build/python bench_python_calculator.py --mlpot build/bin/mlpot
       --templates ../shared/data/mtp-templates --models build/models [--threads 1] [--out perf/results]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mtp import append_rows  # noqa: E402

CSV_HEADER = ("model,engine,atoms,threads,bench_ms_per_call,python_ms_per_call,python_overhead_percent,"
              "reference,reference_ms_per_call")
SYMBOLS = ["H", "Li", "C", "O", "F", "P"]


def bench_ms(mlpot, model, cells, threads, steps, warmup, extra=()):
    r = subprocess.run([mlpot, "bench", "--model", model, "--system", f"li2co3:{cells}", "--threads", str(threads),
                        "--steps", str(steps), "--warmup", str(warmup), *extra], capture_output=True, text=True,
                       env=dict(os.environ, OMP_PROC_BIND="false"))
    m = re.search(r"^ms/step\s+(\S+)", r.stdout, re.M)
    if r.returncode != 0 or not m:
        sys.exit(f"mlpot bench failed: {r.stdout}{r.stderr}")
    return float(m.group(1))


def calls_ms(atoms, calc, calls, warmup, seed=1):
    """Median ms of get_forces + get_stress after a 0.002 A random step of every atom, after
    `warmup` such calls (the first builds the list and the buffers; TorchScript optimises its
    graph over the first few)."""
    atoms = atoms.copy()
    atoms.calc = calc
    rng = np.random.default_rng(seed)
    for _ in range(warmup):
        atoms.positions = atoms.positions + rng.normal(0, 0.002, atoms.positions.shape)
        atoms.get_forces()
    times = []
    for _ in range(calls):
        atoms.positions = atoms.positions + rng.normal(0, 0.002, atoms.positions.shape)
        t0 = time.perf_counter()
        atoms.get_forces()
        atoms.get_stress()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def make_calculator(kind, model, engine, threads):
    import mlpot
    if kind == "mlpot":
        if str(model).endswith(".pt"):
            return mlpot.Calculator(model, engine=engine, threads=threads)
        return mlpot.Calculator(model, elements=SYMBOLS, threads=threads)
    if kind == "motep":
        from motep.calculator import MTP
        from motep.io.mlip.mtp import read_mtp
        data = read_mtp(str(model))
        data.species = [1, 3, 6, 8, 9, 15]
        return MTP(data, engine="cext")
    import torch
    torch.set_num_threads(threads)
    torch.serialization.add_safe_globals([slice])
    from mace.calculators import MACECalculator
    dtype = "float32" if "float32" in str(model) else "float64"
    return MACECalculator(model_paths=str(model).replace("-lammps.pt", ".model"), device="cpu", default_dtype=dtype)


def child_ms(args, kind, model, engine, calls, warmup):
    """calls_ms of one calculator in a Python process of its own."""
    r = subprocess.run([sys.executable, __file__, "--child", kind, str(model), engine, str(calls), str(warmup),
                        "--cells", args.cells,
                        "--threads", str(args.threads), "--mlpot", args.mlpot, "--templates", args.templates,
                        "--models", args.models], capture_output=True, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_PROC_BIND="false"))
    m = re.search(r"^CHILD_MS (\S+)", r.stdout, re.M)
    if r.returncode != 0 or not m:
        sys.exit(f"{kind} {model} {engine} failed: {r.stdout[-2000:]}{r.stderr[-2000:]}")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--mace-model", default="seed-float32")
    ap.add_argument("--cells", default="3x5x4")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mtp-calls", type=int, default=30)
    ap.add_argument("--mace-calls", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mace-rounds", type=int, default=2)
    ap.add_argument("--no-mace", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    ap.add_argument("--mace-warmup", type=int, default=4, help="MACE calls before timing (TorchScript compiles)")
    ap.add_argument("--child", nargs=5, metavar=("KIND", "MODEL", "ENGINE", "CALLS", "WARMUP"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    cells = [int(c) for c in args.cells.split("x")]
    if args.child:
        import mlpot
        kind, model, engine, calls, warmup = args.child
        calc = make_calculator(kind, model, engine, args.threads)
        print(f"CHILD_MS {calls_ms(mlpot.li2co3(*cells), calc, int(calls), int(warmup))}")
        return
    n = 24 * cells[0] * cells[1] * cells[2]
    rows = []
    references = {}  # one timing per reference calculator and model (mace-torch serves both engines)

    def compare(label, model, engine, rounds, calls, warmup, bench_extra=(), reference=None, reference_calls=3):
        bench, py = [], []
        for _ in range(rounds):
            bench.append(bench_ms(args.mlpot, model, args.cells, args.threads, max(3, calls), warmup, bench_extra))
            py.append(child_ms(args, "mlpot", model, engine, calls, warmup))
        bench, py = min(bench), min(py)
        key = (reference[0], str(model))
        if key not in references:
            references[key] = child_ms(args, reference[0], model, engine, reference_calls, warmup)
        ref = references[key]
        rows.append((label, engine, bench, py, reference[1], ref))
        print(f"{label} {engine}, {n} atoms, {args.threads} thread(s): mlpot bench {bench:.2f} ms, mlpot.Calculator "
              f"{py:.2f} ms ({100 * (py / bench - 1):+.1f} %), {reference[1]} {ref:.1f} ms", flush=True)

    with tempfile.TemporaryDirectory() as d:
        model = Path(d) / "syn16.mtp"
        subprocess.run([args.mlpot, "make-model", "--template", Path(args.templates) / "16.almtp", "--species", "6",
                        "--out", model], check=True, capture_output=True)
        compare("syn16-mtp", model, "kokkos", args.rounds, args.mtp_calls, 1, reference=("motep", "motep cext"),
                reference_calls=max(3, args.mtp_calls // 5))
    if not args.no_mace:
        pt = Path(args.models) / f"{args.mace_model}-lammps.pt"
        for engine in ["native", "torch"]:
            compare(args.mace_model, pt, engine, args.mace_rounds, args.mace_calls, args.mace_warmup,
                    ["--mace-engine", engine],
                    reference=("mace-torch", "mace-torch MACECalculator"), reference_calls=args.mace_calls)
    lines = [f"{m},{e},{n},{args.threads},{b:.3f},{p:.3f},{100 * (p / b - 1):.1f},{r},{rm:.3f}"
             for m, e, b, p, r, rm in rows]
    print("->", append_rows(args.out, "python_calculator_cpu.csv", CSV_HEADER, lines))


if __name__ == "__main__":
    main()
