"""MACE model files as users have them: exported by older mace-torch releases, and with the
architecture options of mace-torch that the tiny, seed and variant models do not use.

Models (scripts/build.sh, models/make_mace_models.py): build/models/compat/mace-VERSION/tiny-*
(the tiny model exported by each release in scripts/mace-compat-versions.txt, with the same
weights) and build/models/options/NAME-float64 (the tiny model with one option each).

Each file is checked against mace-torch's own evaluation of that file (the exported TorchScript
run in Python on mace-torch's neighbourhood graph): float64 energy within 1e-9 relative and
forces within 1e-8 eV/A (relative above 1 eV/A), float32 within 1e-5 relative, in the periodic and the ghost-node graph;
float64 results with and without mlpot's graph rewrites must be the same bit for bit (the
rewrites find their patterns in the exported graph, and these graphs differ from the others).
Every release's export must also give what the current release's export of the same weights
gives (mace-torch's results for both files agree to round-off: the weights are the same).

With `--engine native` (mlpot's own kernels) each file is checked instead against mace-torch's
MACECalculator on the eager model with the same weights, evaluated in float64 (the `.model`
beside each option file; the current release's tiny `.model` for the older releases' exports),
in the periodic and the ghost-node graph; every option must be evaluated, and the models of
beyond/ (what the native engine does not implement, BEYOND_NATIVE) must be refused with a message
naming what, and run by `auto` on the LibTorch runner (which `--engine torch` checks on them).
"""
import argparse
import ast
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from mlpot_testlib import (Checks, differences, mace_eager_reference, mace_reference, mace_test_structures,  # noqa: E402
                           read_cfg_results, run, write_cfg)


# Bounds (energy relative; forces and virial relative to the largest), ~10x the worst measured
# over 3 cells on 2026-12-02 (docs/mace.md): float64 3.1e-16, 2.3e-14, ~2e-14; the Chebyshev
# option 4.7e-14, 8.1e-14; float32 4.8e-9, 4.5e-6.
COMPAT_TOL = {"float64": (3.1e-15, 2.3e-13, 2.3e-13), "chebyshev": (4.8e-13, 8.7e-13, 8.7e-13),
              "float32": (4.8e-8, 7.1e-5, 7.1e-5)}
# Native engine against the eager model, ~10x the worst measured on 2026-12-07 (float64 2.9e-16,
# 1.6e-14, 3.1e-14; the bar 1e-10). float32 files against their weights evaluated in
# float64 (1.2e-9, 8.3e-7, 7.3e-7): as in test_mace_parity, the 1e-5 for forces and
# virial. (The Chebyshev option has its own bound, either engine.)
NATIVE_TOL = {"float64": (2e-15, 2e-13, 3e-13), "float32": (5e-8, 1e-5, 1e-5)}
# models/make_mace_models.py's beyond/ models, which the native engine refuses, and words its
# message must contain.
BEYOND_NATIVE = {"max_ell4": "max_ell 4 (above 3)", "tanh_readout": "activation other than SiLU"}


def generator_options():
    """The option names of models/make_mace_models.py's OPTIONS dict (read, not imported)."""
    source = Path(__file__).resolve().parents[2] / "models" / "make_mace_models.py"
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "OPTIONS" for t in node.targets):
            return [k.value for k in node.value.keys]
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--versions", required=True, help="scripts/mace-compat-versions.txt")
    ap.add_argument("--engine", choices=("torch", "native"), default="torch")
    args = ap.parse_args()
    mlpot, models, engine = args.mlpot, Path(args.models), args.engine
    native = engine == "native"
    eng = ["--mace-engine", engine]
    check = Checks()
    versions = [line.split()[0] for line in Path(args.versions).read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    structs = mace_test_structures(np.random.default_rng(11))

    # What each file is checked as: (label, path, dtype, compare its results with the current
    # release's export of the same weights).
    files = []
    for v in versions:
        for dt in ("float64", "float32"):
            files.append((f"mace-torch {v} {dt}", models / "compat" / f"mace-{v}" / f"tiny-{dt}-lammps.pt", dt))
    options = sorted((models / "options").glob("*-float64-lammps.pt"))
    # Exactly the options the generator makes (docs/mace.md counts 13): a missing one fails.
    wanted = generator_options()
    made = sorted(p.name[:-len("-float64-lammps.pt")] for p in options)
    check(f"option models present: the generator's {len(wanted)}", made == sorted(wanted) and len(wanted) == 13,
          f"made {made}, generator {sorted(wanted)}")
    for p in options:
        files.append((f"option {p.name[:-len('-float64-lammps.pt')]}", p, "float64"))
    for name in BEYOND_NATIVE:
        files.append((f"beyond {name}", models / "beyond" / f"{name}-float64-lammps.pt", "float64"))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = tmp / "in.cfg"
        write_cfg(cfg, [(c, p, t) for _, c, p, t in structs])
        current = {dt: [mace_reference(torch.jit.load(str(models / f"tiny-{dt}-lammps.pt")), c, p, t,
                                       torch.float64 if dt == "float64" else torch.float32)
                        for _, c, p, t in structs] for dt in ("float64", "float32")}
        for label, path, dt in files:
            if not path.is_file():
                check(f"{label}: model file", False, f"{path} missing (scripts/build.sh makes it)")
                continue
            dtype = torch.float64 if dt == "float64" else torch.float32
            model = torch.jit.load(str(path))
            option = label.split(" ", 1)[1] if label.startswith(("option ", "beyond ")) else None
            if native and option in BEYOND_NATIVE:
                r = run([mlpot, "eval", "--model", path, "--input", cfg, "--output", tmp / "refused.cfg"] + eng)
                check(f"{label}: the native engine refuses it by name", r.returncode == 1 and "not supported" in r.stderr
                      and BEYOND_NATIVE[option] in r.stderr and str(path) in r.stderr, r.stderr.strip()[-800:])
                r = run([mlpot, "info", path])
                line = next((x for x in r.stdout.splitlines() if x.startswith("engine")), "")
                check(f"{label}: auto runs it on the LibTorch runner and says why", r.returncode == 0
                      and line.startswith("engine             torch (") and BEYOND_NATIVE[option] in line, line)
                continue
            if native:
                eager = (path.with_name(path.name.replace("-lammps.pt", ".model")) if option
                         else models / f"tiny-{dt}.model")
                # float64 evaluation of the file's weights, also for float32 files (test_mace_parity).
                refs = [mace_eager_reference(eager, model.atomic_numbers.tolist(), c, p, t, "float64") + (None,)
                        for _, c, p, t in structs]
            else:
                refs = [mace_reference(model, c, p, t, dtype) for _, c, p, t in structs]
            per_mode = {}
            modes = (("periodic", ["--mace-mode", "periodic"]), ("ghost", ["--mace-mode", "ghost"]))
            if not native:
                modes += (("plain", ["--mace-mode", "periodic", "--mace-rewrite", "no"]),)
            for mode, extra in modes:
                out = tmp / f"out-{mode}.cfg"
                # One LibTorch thread: float64 results with two vary now and then (docs/mace.md, "Precision").
                r = run([mlpot, "eval", "--model", path, "--input", cfg, "--output", out, "--graph", "host",
                         "--threads", "1"] + extra + eng)
                if r.returncode != 0:
                    check(f"{label} {mode}: mlpot eval", False, r.stderr.strip()[-800:])
                    continue
                per_mode[mode] = read_cfg_results(out)
            for k, (name, *_rest) in enumerate(structs):
                e, f, w, _ = refs[k]
                fmax, wmax = np.abs(f).max(), np.abs(w).max()
                for mode in ("periodic", "ghost"):
                    if mode not in per_mode:
                        continue
                    de, df, dw = differences(per_mode[mode][k], e, f, w)
                    df, dw = df / fmax, dw / wmax  # relative to the largest
                    # The random Chebyshev radial basis gives forces of ~1e9 eV/A, with more
                    # round-off relative to them.
                    bound = (COMPAT_TOL["chebyshev"] if "chebyshev" in label
                             else NATIVE_TOL[dt] if native else COMPAT_TOL[dt])
                    ok = de < bound[0] and df < bound[1] and dw < bound[2]
                    check(f"{label} {name} {mode} vs mace-torch", ok and fmax > 1e-4,
                          f"|dE|/|E| {de:.1e}  max|dF|/max|F| {df:.1e} (max|F| {fmax:.2g})  max|dW|/max|W| {dw:.1e}")
                if "plain" in per_mode and "periodic" in per_mode and dt == "float64":
                    g, p = per_mode["periodic"][k], per_mode["plain"][k]
                    same = (g["energy"] == p["energy"] and np.array_equal(g["forces"], p["forces"])
                            and np.array_equal(g["plus_stress"], p["plus_stress"]))
                    check(f"{label} {name} graph rewrites change nothing", same,
                          f"energy {abs(g['energy'] - p['energy']):.1e}, "
                          f"forces {np.abs(g['forces'] - p['forces']).max():.1e}")
                if label.startswith("mace-torch") and not native:
                    ec, fc, _, _ = current[dt][k]
                    tol = 1e-12 if dt == "float64" else 1e-5
                    same_weights = abs(ec - e) <= tol * abs(e) and np.abs(fc - f).max() <= tol * 10 * fmax
                    g = per_mode.get("periodic", [{}] * len(structs))[k]
                    ok = same_weights and "energy" in g and abs(g["energy"] - ec) <= tol * abs(ec)
                    check(f"{label} {name} equals the current release's export", ok,
                          f"mace-torch: |dE| {abs(ec - e):.1e}; mlpot: |dE| "
                          f"{abs(g.get('energy', np.nan) - ec):.1e}")
            if native:
                continue
            r = run([mlpot, "info", path] + eng)
            line = next((x for x in r.stdout.splitlines() if x.startswith("graph rewrites")), "")
            counts = [int(c) for c in re.findall(r"(\d+) ", line)]
            check(f"{label}: mlpot info, graph rewrites applied",
                  r.returncode == 0 and len(counts) == 4 and counts[0] > 0, line.strip() or r.stderr.strip())

    return check.exit_status()


if __name__ == "__main__":
    sys.exit(main())
