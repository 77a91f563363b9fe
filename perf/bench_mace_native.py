"""MACE on the CPU, the native engine against the LibTorch runner and against mace-torch, in one
run: the same model file, structure (Li2CO3), thread count and outputs (energy, forces, stress
every step), interleaved rounds, best of each.

Cases: the seed-architecture model (128x0e+128x1o, max_ell 3, correlation 3) in float32 on 192
and 1440 atoms, and in float64 on 192 atoms; the tiny model in float32 on 1440 atoms. mace-torch
(its ASE calculator on the eager .model) is timed on the 192-atom cases and the tiny one (the
seed model on 1440 atoms takes it minutes per step on 2 cores). Appends to
perf/results/mace_native_cpu.csv.

With --lmp and --plugin-dir also LAMMPS: `mace/kk periodic` with the seed float32 model on
Li2CO3 1440 atoms (the main job's MACE case), 2 MD steps with each engine, seconds per step and
the process's peak resident memory -> perf/results/mace_native_lammps_cpu.csv.

Usage: bench_mace_native.py --mlpot build/bin/mlpot --models build/models [--threads 2] [--steps 3]
       [--cases seed-float32-2x2x2,...] [--lmp build/bin/lmp --plugin-dir build/lib] [--out perf/results]
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mace import ase_bench, mlpot_bench  # noqa: E402
from bench_mtp import append_rows  # noqa: E402

CASES = ["seed-float32-2x2x2", "seed-float32-3x5x4", "seed-float64-2x2x2", "tiny-float32-3x5x4"]
ASE_CASES = {"seed-float32-2x2x2", "seed-float64-2x2x2", "tiny-float32-3x5x4"}
LAMMPS_CSV_HEADER = "model,dtype,atoms,threads,engine,s_per_step,peak_rss_gib"
LAMMPS_INPUT = """units metal
atom_style atomic
atom_modify map yes
read_data {data}
pair_style mace {model} periodic engine {engine}
pair_coeff * * H Li C O F P
velocity all create 300 4928459 loop geom
timestep 0.0005
fix 1 all nve
thermo 1
run 2
"""
# Runs a command and prints its peak resident memory (KiB) last: each LAMMPS run in its own
# Python process, so the figure is that run's alone.
PEAK_RSS_WRAPPER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
                    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")


def lammps_bench(args, tmp, threads):
    """LAMMPS mace/kk periodic, seed float32, 1440 atoms: (engine, s/step, peak GiB) per engine."""
    import re
    cfg = Path(tmp) / "l1440.cfg"
    data = Path(tmp) / "l1440.data"
    subprocess.run([args.mlpot, "build", "li2co3", "--cells", "3x5x4", "--out", str(cfg)], check=True,
                   capture_output=True)
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, str(root / "lammps/examples/cfg2data.py"), str(cfg), str(data)], check=True,
                   capture_output=True)
    env = dict(os.environ, OMP_PROC_BIND="false", LAMMPS_PLUGIN_PATH=str(Path(args.plugin_dir).resolve()))
    rows = []
    for engine in ("native", "torch"):
        script = Path(tmp) / f"in.{engine}"
        script.write_text(LAMMPS_INPUT.format(data=data, model=Path(args.models).resolve() / "seed-float32-lammps.pt",
                                              engine=engine))
        r = subprocess.run([sys.executable, "-c", PEAK_RSS_WRAPPER, str(Path(args.lmp).absolute()), "-k", "on", "t", str(threads), "-sf",
                            "kk", "-pk", "kokkos", "newton", "on", "neigh", "half", "-in", str(script), "-log", "none"],
                           capture_output=True, text=True, env=env, cwd=tmp)
        loop = re.search(r"Loop time of ([0-9.eE+-]+) on \d+ procs for (\d+) steps", r.stdout)
        if r.returncode != 0 or not loop or f"{engine} engine" not in r.stdout:
            sys.exit(f"LAMMPS with engine {engine} failed: {r.stdout[-1500:]}{r.stderr[-1500:]}")
        s_per_step = float(loop.group(1)) / int(loop.group(2))
        peak = int(r.stdout.split()[-1]) / 2**20
        rows.append((engine, s_per_step, peak))
        print(f"LAMMPS mace/kk periodic, seed float32, 1440 atoms, {engine:6s}: {s_per_step:7.3f} s/step, "
              f"peak memory {peak:.2f} GiB", flush=True)
    return rows


CSV_HEADER = ("model,dtype,atoms,threads,native_ms_per_step,torch_ms_per_step,"
              "mace_ase_ms_per_step,native_vs_torch,native_vs_mace_ase,native_atom_steps_per_s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--lmp", help="LAMMPS with KOKKOS (and --plugin-dir): also the LAMMPS case")
    ap.add_argument("--plugin-dir")
    ap.add_argument("--out", default="perf/results")
    args = ap.parse_args()
    models = Path(args.models)
    rows, lammps_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        if args.lmp:
            lammps_rows = lammps_bench(args, tmp, args.threads)
        for case in [c for c in args.cases.split(",") if c]:
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
    lines = []
    for arch, dtype, n, a, b, c in rows:
        ase = "" if c != c else f"{c:.2f}"
        ratio = "" if c != c else f"{c / a:.3f}"
        lines.append(f"{arch},{dtype},{n},{args.threads},{a:.2f},{b:.2f},{ase},{b / a:.3f},{ratio},{n / a * 1e3:.4g}")
    if lines:
        print(f"appended to {append_rows(args.out, 'mace_native_cpu.csv', CSV_HEADER, lines)}")
    if lammps_rows:
        lines = [f"seed,float32,1440,{args.threads},{engine},{sps:.4f},{peak:.3f}" for engine, sps, peak in lammps_rows]
        print(f"appended to {append_rows(args.out, 'mace_native_lammps_cpu.csv', LAMMPS_CSV_HEADER, lines)}")


if __name__ == "__main__":
    main()
