"""docs/python.md's install line works: `pip install` of this repository (scikit-build-core through
pyproject.toml, against the same Kokkos and LibTorch as the C++ build) into a fresh target folder,
then, from a process that sees only that folder (and the venv's numpy, ase, torch), the installed
package evaluates an MTP and both MACE engines and gives what the build tree's package gives.

The build requirements come from the cache venv (scripts/python-build-requirements.txt, checksummed)
rather than from the network (--no-build-isolation); ccache serves the compiler."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from mlpot_testlib import Checks

check = Checks()

PROBE = r"""
import json, sys
import numpy as np
import mlpot
SYMBOLS = ["H", "Li", "C", "O", "F", "P"]
out = {"file": mlpot.__file__}
atoms = mlpot.li2co3(1, 1, 1)
atoms.positions += np.random.default_rng(1).normal(0, 0.05, atoms.positions.shape)
for label, calc in [("mtp", lambda: mlpot.Calculator(sys.argv[1], elements=SYMBOLS)),
                    ("mace-native", lambda: mlpot.Calculator(sys.argv[2], engine="native")),
                    ("mace-torch", lambda: mlpot.Calculator(sys.argv[2], engine="torch"))]:
    a = atoms.copy()
    a.calc = calc()
    out[label] = [a.get_potential_energy()] + a.get_forces().ravel().tolist() + a.get_stress().tolist()
print("RESULT " + json.dumps(out))
"""


def probe(python, path, mtp, mace, cwd):
    env = dict(os.environ, PYTHONPATH=str(path), OMP_NUM_THREADS="1", OMP_PROC_BIND="false")
    r = subprocess.run([python, "-c", PROBE, mtp, mace], capture_output=True, text=True, env=env, cwd=cwd)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    return (json.loads(line[0][7:]) if line else None), r.stdout[-1500:] + r.stderr[-1500:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--build-package", required=True, help="the build tree's package folder (build/python)")
    ap.add_argument("--kokkos-dir", required=True, help="Kokkos_DIR (PREFIX/lib/cmake/Kokkos)")
    ap.add_argument("--torch-prefix", required=True)
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        target = tmp / "site"
        cmd = [args.python, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-cache-dir",
               "--target", str(target), "-C", f"build-dir={tmp / 'build'}",
               # docs/python.md's line: Kokkos by its install prefix, LibTorch by torch's CMake prefix.
               "-C", f"cmake.define.Kokkos_ROOT={Path(args.kokkos_dir).parents[2]}",
               "-C", f"cmake.define.MLPOT_TORCH_PREFIX={args.torch_prefix}",
               "-C", "cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache", args.root]
        r = subprocess.run(cmd, capture_output=True, text=True)
        check("pip install of the repository", r.returncode == 0,
              "" if r.returncode == 0 else (r.stdout + r.stderr)[-3000:])
        if r.returncode != 0:
            return check.exit_status()
        installed = sorted(p.name for p in (target / "mlpot").iterdir())
        check("the wheel holds the package, the extension and libmlpot_mace.so",
              {"__init__.py", "calculator.py", "libmlpot_mace.so"} <= set(installed)
              and any(p.startswith("_mlpot.") for p in installed), str(installed))
        mtp = tmp / "syn08.mtp"
        subprocess.run([args.mlpot, "make-model", "--template", Path(args.templates) / "08.almtp", "--species", "6",
                        "--out", mtp], check=True, capture_output=True)
        mace = str(Path(args.models) / "tiny-float64-lammps.pt")
        got, log = probe(args.python, target, str(mtp), mace, tmp)
        check("the installed package imports from its folder and evaluates MTP and MACE",
              got is not None and got["file"].startswith(str(target)), got["file"] if got else log)
        ref, log_ref = probe(args.python, args.build_package, str(mtp), mace, tmp)
        check("the build tree's package evaluates", ref is not None, ref["file"] if ref else log_ref)
        if got and ref:
            for key in ["mtp", "mace-native", "mace-torch"]:
                a, b = got[key], ref[key]
                diff = max(abs(x - y) for x, y in zip(a, b)) / max(1.0, max(abs(y) for y in b))
                check(f"installed = build tree: {key}", len(a) == len(b) and diff < 1e-12, f"{diff:.1e}")
    return check.exit_status()


if __name__ == "__main__":
    sys.exit(main())
