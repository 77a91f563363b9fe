"""Whole-process speed of `mlpot eval` (MLIP-3's `mlp calculate_efs` use): energies, forces and
stresses of every configuration in a file, timed from process start to exit, against motep's C
engine in a process of its own (its Python start-up and imports included, as a user pays them)
and, where a binary is given, MLIP-3's `mlp calculate_efs`. One run, so compare the ratios.

Two input files, the level-16, 6-species synthetic MTP (cutoff 5 A):
  8 x 1440:      8 rattled Li2CO3 3x5x4 configurations (the MD-sized case);
  1000 x 24-96:  1000 rattled Li2CO3 cells of 24, 48, 72 and 96 atoms (a training set).

Usage: bench_eval.py --mlpot build/bin/mlpot --templates ../shared/data/mtp-templates
                     [--mlp /path/to/mlp] [--repeats 3] [--out perf/results]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))
from mlpot_testlib import read_cfg_results, write_cfg  # noqa: E402

from bench_mtp import append_rows  # noqa: E402

MOTEP_SCRIPT = """
import sys
from motep.calculator import MTP
from motep.io.mlip.cfg import read_cfg
from motep.io.mlip.mtp import read_mtp
data = read_mtp(sys.argv[1])
data.species = list(range(1, data.species_count + 1))
calcs = {}  # one per atom count: a motep calculator keeps its neighbour list's size
energies = []
for atoms in read_cfg(sys.argv[2], index=":"):
    atoms.numbers = atoms.numbers + 1  # MLIP type t <-> species t + 1
    calc = calcs.setdefault(len(atoms), MTP(data, engine="cext"))
    atoms.calc = calc
    energies.append(atoms.get_potential_energy())
    atoms.get_forces(); atoms.get_stress()
    calc.reset()
print(repr(float(energies[0])), len(energies))
"""


def one_thread_env(threads=1):
    return dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="false", OPENBLAS_NUM_THREADS="1",
                MKL_NUM_THREADS="1")


def wall(cmd, env, repeats):
    """Median wall time of `cmd` as a whole process, and its last result."""
    times, r = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            sys.exit(f"{cmd[0]} failed: {r.stderr[-2000:]}")
    return float(np.median(times)), r


def rattled_inputs(mlpot, tmp, rng):
    """The two input files: (name, path, configurations, atoms)."""
    def cell_of(cells):
        path = tmp / f"li2co3-{cells}.cfg"
        subprocess.run([str(mlpot), "build", "li2co3", "--cells", cells, "--out", path], check=True,
                       capture_output=True)
        lines = path.read_text().splitlines()
        n = int(lines[lines.index(" Size") + 1])
        k = lines.index(" Supercell")
        cell = np.array([[float(v) for v in lines[k + 1 + a].split()] for a in range(3)])
        k = next(i for i, l in enumerate(lines) if l.strip().startswith("AtomData"))
        rows = np.array([[float(v) for v in lines[k + 1 + a].split()] for a in range(n)])
        return cell, rows[:, 2:5], rows[:, 1].astype(int)

    def rattle(cell, pos, types, count):
        return [(cell, pos + rng.normal(0.0, 0.05, pos.shape), types) for _ in range(count)]

    inputs = []
    big = rattle(*cell_of("3x5x4"), 8)
    write_cfg(tmp / "8x1440.cfg", big)
    inputs.append(("8 x 1440 atoms", tmp / "8x1440.cfg", len(big), sum(len(t) for _, _, t in big)))
    small = []
    for cells in ("1x1x1", "2x1x1", "1x1x3", "2x2x1"):  # 24, 48, 72, 96 atoms
        small += rattle(*cell_of(cells), 250)
    order = rng.permutation(len(small))
    small = [small[i] for i in order]
    write_cfg(tmp / "1000x24-96.cfg", small)
    inputs.append(("1000 x 24-96 atoms", tmp / "1000x24-96.cfg", len(small), sum(len(t) for _, _, t in small)))
    return inputs


def make_model(mlpot, templates, path):
    subprocess.run([str(mlpot), "make-model", "--template", Path(templates) / "16.almtp", "--species", "6",
                    "--out", path], check=True, capture_output=True)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--mlp", help="MLIP-3's mlp binary, for mlp calculate_efs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="perf/results")
    ap.add_argument("--inputs-only", metavar="DIR",
                    help="write the model and the two input files to DIR and stop (perf/device/prepare.sh)")
    args = ap.parse_args()
    mlpot = Path(args.mlpot).resolve()
    rng = np.random.default_rng(20261202)
    if args.inputs_only:
        d = Path(args.inputs_only)
        d.mkdir(parents=True, exist_ok=True)
        make_model(mlpot, args.templates, d / "synthetic-l16-6sp.mtp")
        for name, path, _, _ in rattled_inputs(mlpot, d, rng):
            print(f"{path}: {name}")
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = make_model(mlpot, args.templates, tmp / "synthetic-l16-6sp.mtp")
        # Start-up: the process with one 1-atom configuration.
        one = tmp / "one.cfg"
        write_cfg(one, [(np.eye(3) * 10.0, np.zeros((1, 3)), [0])])
        t, _ = wall([mlpot, "eval", "--model", model, "--input", one, "--output", tmp / "o.cfg", "--threads", "1"],
                    one_thread_env(), max(5, args.repeats))
        rows.append(("1 x 1 atom (start-up)", 1, 1, "mlpot eval", 1, t))
        print(f"start-up (mlpot eval of one 1-atom configuration): {t * 1e3:.1f} ms")
        for name, path, configs, atoms in rattled_inputs(mlpot, tmp, rng):
            out = tmp / "out.cfg"
            base = [mlpot, "eval", "--model", model, "--input", path, "--output", out]
            ours = {}
            for label, extra, threads in (("mlpot eval", [], 1), ("mlpot eval --batch-atoms 0", ["--batch-atoms", "0"], 1),
                                          ("mlpot eval", [], 2)):
                t, _ = wall(base + extra + ["--threads", str(threads)], one_thread_env(threads), args.repeats)
                rows.append((name, configs, atoms, label, threads, t))
                ours.setdefault(threads, read_cfg_results(out))
            t, r = wall([sys.executable, "-c", MOTEP_SCRIPT, model, path], one_thread_env(), args.repeats)
            rows.append((name, configs, atoms, "motep cext (Python process)", 1, t))
            e_motep = float(r.stdout.split()[0])
            e_ours = ours[1][0]["energy"]
            if abs(e_ours - e_motep) > 1e-9 * max(1.0, abs(e_motep)):
                sys.exit(f"{name}: mlpot {e_ours!r} and motep {e_motep!r} disagree: not like for like")
            if args.mlp:
                out.unlink()
                t, _ = wall([args.mlp, "calculate_efs", model, path, f"--output_filename={out}"], one_thread_env(),
                            args.repeats)
                rows.append((name, configs, atoms, "MLIP-3 mlp calculate_efs", 1, t))
                e_mlp = read_cfg_results(out)[0]["energy"]
                if abs(e_ours - e_mlp) > 1e-9 * max(1.0, abs(e_mlp)):
                    sys.exit(f"{name}: mlpot {e_ours!r} and MLIP-3 {e_mlp!r} disagree: not like for like")

    print(f"{'input':22s} {'engine':30s} {'threads':>7s} {'wall s':>8s} {'us/atom':>8s} {'vs motep':>9s} {'vs MLIP-3':>9s}")
    ref = {}
    for name, _, _, engine, th, t in rows:
        if engine.startswith("motep"):
            ref.setdefault(name, {})["motep"] = t
        if engine.startswith("MLIP-3"):
            ref.setdefault(name, {})["mlip"] = t
    lines = []
    for name, configs, atoms, engine, th, t in rows:
        r = ref.get(name, {})
        vs_motep = r["motep"] / t if "motep" in r else float("nan")
        vs_mlip = r["mlip"] / t if "mlip" in r else float("nan")
        print(f"{name:22s} {engine:30s} {th:7d} {t:8.3f} {t / atoms * 1e6:8.2f} {vs_motep:8.2f}x {vs_mlip:8.2f}x")
        lines.append(f"synthetic-l16-6sp.mtp,{name},{configs},{atoms},{engine},{th},{t:.4f},{t / atoms * 1e6:.3f},"
                     f"{vs_motep:.3f},{vs_mlip:.3f}")
    csv = append_rows(args.out, "eval_cpu.csv", "model,input,configurations,atoms,engine,threads,wall_s,us_per_atom,"
                      "motep_over_engine,mlip3_over_engine", lines)
    print(f"appended to {csv}")


if __name__ == "__main__":
    main()
