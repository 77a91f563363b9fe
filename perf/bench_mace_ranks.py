"""LAMMPS MACE across MPI ranks: the native engine's message passing (the default) against one
rank and against the ghost-node graph, on the same cores, in one run.

Seed float32 model on Li2CO3 (3x5x4 = 1440 atoms by default), LAMMPS `mace/kk`:
  - 1 rank x N threads, periodic graph (`periodic`);
  - 1 rank x N threads, message passing;
  - N ranks x 1 thread, message passing;
  - N ranks x 1 thread, ghost-node graph (`ghost_nodes`; --no-ghost-nodes leaves it out).
On a GPU (--gpu): `-k on g 1`, every rank on the one GPU ("2 ranks sharing the GPU").
Each: 2 MD steps after the set-up's force call; seconds per step (LAMMPS' loop time / steps) and
the peak resident memory of the largest process (each run in its own Python process).
Rows -> perf/results/mace_ranks_<cpu|cuda>.csv.

Usage: bench_mace_ranks.py --lmp build/bin/lmp --plugin-dir build/lib --mlpot build/bin/mlpot
       --models build/models [--ranks 2] [--cells 3x5x4,...] [--gpu] [--out perf/results]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mtp import append_rows  # noqa: E402

# Runs a command and prints its peak resident memory (KiB) last (as bench_mace_native.py, which
# imports mace-torch: the device's python has no mace-torch).
PEAK_RSS_WRAPPER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
                    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")

CSV_HEADER = "model,atoms,graph,ranks,threads_per_rank,device,s_per_step,ns_per_day,peak_rss_gib_per_process,command"
INPUT = """units metal
atom_style atomic
atom_modify map yes
read_data {data}
pair_style mace {model} {keyword}
pair_coeff * * H Li C O F P
velocity all create 300 4928459 loop geom
timestep 0.0005
fix 1 all nve
thermo 1
run {steps}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmp", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--model", default="seed-float32")
    ap.add_argument("--ranks", type=int, default=os.cpu_count())
    ap.add_argument("--cells", default="3x5x4")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--gpu", action="store_true", help="-k on g 1: every rank on the one GPU")
    ap.add_argument("--no-ghost-nodes", action="store_true")
    ap.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    ap.add_argument("--out", default="perf/results")
    args = ap.parse_args()
    n = args.ranks
    root = Path(__file__).resolve().parents[1]
    model = Path(args.models).resolve() / f"{args.model}-lammps.pt"
    env = dict(os.environ, OMP_PROC_BIND="false", LAMMPS_PLUGIN_PATH=str(Path(args.plugin_dir).resolve()))
    device = "cuda" if args.gpu else "cpu"
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for cells in args.cells.split(","):
            cfg, data = Path(tmp) / f"{cells}.cfg", Path(tmp) / f"{cells}.data"
            subprocess.run([args.mlpot, "build", "li2co3", "--cells", cells, "--out", str(cfg)], check=True,
                           capture_output=True)
            subprocess.run([sys.executable, str(root / "lammps/examples/cfg2data.py"), str(cfg), str(data)],
                           check=True, capture_output=True)
            configs = [("periodic", 1, n, "periodic"), ("message passing", 1, n, "")]
            if n > 1:
                configs.append(("message passing", n, 1, ""))
            if n > 1 and not args.no_ghost_nodes:
                configs.append(("ghost nodes", n, 1, "ghost_nodes"))
            for graph, ranks, threads, keyword in configs:
                if args.gpu:
                    threads = 1
                script = Path(tmp) / f"in.{cells}.{ranks}.{keyword or 'mp'}"
                script.write_text(INPUT.format(data=data, model=model, keyword=keyword, steps=args.steps))
                kk = ["-k", "on", "g", "1"] if args.gpu else ["-k", "on", "t", str(threads)]
                cmd = [str(Path(args.lmp).absolute())] + kk + ["-sf", "kk", "-pk", "kokkos", "newton", "on", "neigh",
                                                               "half", "-in", str(script), "-log", "none"]
                if ranks > 1:
                    cmd = [args.mpirun, "--allow-run-as-root", "--oversubscribe", "-np", str(ranks),
                           "-x", f"OMP_NUM_THREADS={threads}"] + cmd
                r = subprocess.run([sys.executable, "-c", PEAK_RSS_WRAPPER] + cmd, capture_output=True, text=True,
                                   env=dict(env, OMP_NUM_THREADS=str(threads)), cwd=tmp)
                loop = re.search(r"Loop time of ([0-9.eE+-]+) on \d+ procs for (\d+) steps", r.stdout)
                atoms = re.search(r"Loop time of .* with (\d+) atoms", r.stdout)
                if r.returncode != 0 or not loop:
                    print(f"{cells} {graph} {ranks}x{threads}: LAMMPS failed\n{r.stdout[-1500:]}{r.stderr[-1500:]}",
                          file=sys.stderr)
                    continue
                s = float(loop.group(1)) / int(loop.group(2))
                peak = int(r.stdout.split()[-1]) / 2**20
                natoms = int(atoms.group(1)) if atoms else 0
                ns_day = 0.0005e-3 * 86400 / s  # 0.5 fs steps
                print(f"{args.model} {natoms:6d} atoms  {graph:16s} {ranks} rank(s) x {threads} thread(s) on {device}: "
                      f"{s:8.3f} s/step ({ns_day:.4f} ns/day), peak {peak:.2f} GiB per process", flush=True)
                style = f"pair_style mace {args.model}-lammps.pt {keyword}".strip()
                command = (f"{'mpirun -np %d ' % ranks if ranks > 1 else ''}lmp {' '.join(kk)} -sf kk "
                           f"(Li2CO3 {cells}; {style}; run {args.steps})")
                lines.append(f"{args.model},{natoms},{graph},{ranks},{threads},{device},{s:.4f},{ns_day:.5f},"
                             f"{peak:.3f},\"{command}\"")
    if lines:
        print("->", append_rows(args.out, f"mace_ranks_{device}.csv", CSV_HEADER, lines))
    return 0 if lines else 1


if __name__ == "__main__":
    sys.exit(main())
