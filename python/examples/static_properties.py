"""The seed study's static checks of a potential on Li2CO3, through mlpot.Calculator and ASE:

  1. relax the cell and the atoms (FrechetCellFilter + FIRE) from the experimental structure and
     report the lattice parameters against experiment (the seed's Table S1);
  2. the elastic tensor C_ij by finite strains of the relaxed cell (+-0.5 % per Voigt component,
     atoms relaxed at each strain: relaxed-ion constants, as DFT reports them; Table S2);
  3. the phonon frequencies at Gamma by finite displacements (+-0.01 A of every atom of the
     24-atom conventional cell, whose force constants summed over periodic images are its Gamma
     dynamical matrix: the primitive cell's Gamma modes and those folded from the C-centring;
     Fig. S3's Gamma point).

Printed as tables and drawn in one PNG. The default models are the built-in ones (the synthetic
level-16 MTP and the seed-architecture MACE, random weights until trained models exist): the
numbers then only show the pipeline; with a trained model they are the seed's checks.

    PYTHONPATH=build/python python3 python/examples/static_properties.py --out li2co3_static.png
    PYTHONPATH=build/python python3 python/examples/static_properties.py --model my.almtp \\
        --elements H,Li,C,O,F,P --out mine.png
"""
import argparse
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE
from ase.units import GPa, _amu, _c, _e

import mlpot

ROOT = Path(__file__).resolve().parents[2]
# Experimental Li2CO3 (C2/c; Effenberger & Zemann 1979): a, b, c in A, beta in degrees.
EXPERIMENT = {"a": 8.359, "b": 4.977, "c": 6.194, "beta": 114.79}  # as src/core/builders.cpp


def relax(atoms, fmax, steps, cell=True):
    """Relaxes atoms (and the cell); returns whether it converged."""
    target = FrechetCellFilter(atoms) if cell else atoms
    opt = FIRE(target, logfile=None)
    with warnings.catch_warnings():
        # SciPy's matrix logarithm (the filter's cell coordinates) warns about its last digits.
        warnings.filterwarnings("ignore", message="logm result may be inaccurate")
        return bool(opt.run(fmax=fmax, steps=steps))


def lattice(atoms):
    a, b, c, alpha, beta, gamma = atoms.cell.cellpar()
    return {"a": a, "b": b, "c": c, "beta": beta, "alpha": alpha, "gamma": gamma}


def elastic_tensor(atoms, delta, fmax, steps):
    """C_ij (GPa) by central differences of the stress over Voigt strains (engineering shears)."""
    c = np.zeros((6, 6))
    cell0 = atoms.cell.array.copy()
    for j in range(6):
        stresses = []
        for sign in (+1, -1):
            e = np.zeros((3, 3))
            k = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)][j]
            if j < 3:
                e[k] = sign * delta
            else:
                e[k] = e[k[::-1]] = sign * delta / 2  # engineering shear strain delta
            strained = atoms.copy()
            strained.calc = atoms.calc
            strained.set_cell(cell0 @ (np.eye(3) + e), scale_atoms=True)
            relax(strained, fmax, steps, cell=False)
            stresses.append(strained.get_stress(voigt=True))
        c[:, j] = (stresses[0] - stresses[1]) / (2 * delta) / GPa
    return c


def gamma_frequencies(atoms, delta):
    """Frequencies at Gamma (cm^-1; imaginary ones negative) from finite displacements."""
    n = len(atoms)
    fc = np.zeros((3 * n, 3 * n))
    work = atoms.copy()
    work.calc = atoms.calc
    x0 = atoms.positions.copy()
    for i in range(n):
        for d in range(3):
            forces = []
            for sign in (+1, -1):
                x = x0.copy()
                x[i, d] += sign * delta
                work.positions = x
                forces.append(work.get_forces().ravel())
            fc[3 * i + d] = -(forces[0] - forces[1]) / (2 * delta)
    fc = 0.5 * (fc + fc.T)
    m = np.repeat(atoms.get_masses(), 3)
    w2 = np.linalg.eigvalsh(fc / np.sqrt(np.outer(m, m)))  # eV / (A^2 amu)
    # omega = sqrt(eV / (A^2 amu)) in rad/s, then wavenumbers in cm^-1.
    omega = np.sign(w2) * np.sqrt(np.abs(w2) * _e / 1e-20 / _amu)
    return omega / (2 * np.pi * _c * 100)


def built_in_models(mlpot_cli, templates, models):
    """The synthetic level-16 MTP (made now with `mlpot make-model`) and the seed MACE (float64)."""
    out = []
    tmp = Path(tempfile.mkdtemp(prefix="mlpot-static-"))
    mtp = tmp / "syn16.mtp"
    subprocess.run([mlpot_cli, "make-model", "--template", Path(templates) / "16.almtp", "--species", "6",
                    "--out", mtp], check=True, capture_output=True)
    out.append(("MTP level 16 (synthetic)", mtp, ["H", "Li", "C", "O", "F", "P"]))
    seed = Path(models) / "seed-float64-lammps.pt"
    if seed.exists():
        out.append(("MACE seed float64 (random weights)", seed, None))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help="a model file (repeat for several); default: the built-in ones")
    ap.add_argument("--elements", help="MTP species, comma-separated (H,Li,C,O,F,P)")
    ap.add_argument("--engine", default="auto", help="MACE engine: auto, native, torch")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--mlpot", default=str(ROOT / "build" / "bin" / "mlpot"), help="CLI for the built-in MTP")
    ap.add_argument("--templates", default=str(ROOT.parent / "shared" / "data" / "mtp-templates"))
    ap.add_argument("--models", default=str(ROOT / "build" / "models"))
    ap.add_argument("--fmax", type=float, default=1e-3, help="relaxation force bound, eV/A")
    ap.add_argument("--steps", type=int, default=400, help="relaxation steps at most")
    ap.add_argument("--strain", type=float, default=0.005)
    ap.add_argument("--out", default="li2co3_static.png")
    ap.add_argument("--json", help="also write the results to this file (lattice, C_ij in GPa, frequencies in cm^-1)")
    args = ap.parse_args()

    if args.model:
        elements = args.elements.split(",") if args.elements else None
        models = [(Path(m).name, Path(m), elements) for m in args.model]
    else:
        models = built_in_models(args.mlpot, args.templates, args.models)

    results = []
    for label, path, elements in models:
        calc = mlpot.Calculator(path, elements=elements, threads=args.threads,
                                **({"engine": args.engine} if str(path).endswith(".pt") else {}))
        atoms = mlpot.li2co3(1, 1, 1)
        atoms.calc = calc
        converged = relax(atoms, args.fmax, args.steps)
        volume_change = atoms.get_volume() / mlpot.li2co3(1, 1, 1).get_volume() - 1
        if not converged or abs(volume_change) > 0.3:
            # No minimum near the experimental cell (an untrained model): the checks go on at the
            # experimental cell with the atoms relaxed in it.
            why = "did not converge" if not converged else "ended far from the experimental cell"
            print(f"{label}: the cell relaxation {why} (volume {100 * volume_change:+.0f} %); going on at the "
                  "experimental cell with the atoms relaxed in it")
            atoms = mlpot.li2co3(1, 1, 1)
            atoms.calc = calc
            relax(atoms, args.fmax, args.steps, cell=False)
            converged = False
        c = elastic_tensor(atoms, args.strain, args.fmax, args.steps)
        freqs = gamma_frequencies(atoms, 0.01)
        results.append({"label": label, "cell_relaxed": converged, "lattice": lattice(atoms), "C": c,
                        "freqs": freqs, "pressure_gpa": -atoms.get_stress()[:3].mean() / GPa,
                        "structure": {"cell": atoms.cell.array.tolist(), "positions": atoms.positions.tolist(),
                                      "numbers": atoms.numbers.tolist()}})

    for r in results:
        print(f"\n== {r['label']}")
        lat = r["lattice"]
        print(f"lattice ({'relaxed' if r['cell_relaxed'] else 'experimental cell, atoms relaxed'}; "
              f"pressure {r['pressure_gpa']:.2f} GPa)")
        print("           " + "".join(f"{k:>10}" for k in EXPERIMENT))
        print("model      " + "".join(f"{lat[k]:10.3f}" for k in EXPERIMENT))
        print("experiment " + "".join(f"{v:10.3f}" for v in EXPERIMENT.values()))
        print("elastic tensor C_ij (GPa), relaxed ions")
        for row in r["C"]:
            print("  " + "".join(f"{v:9.1f}" for v in row))
        asym = np.abs(r["C"] - r["C"].T).max() / max(1.0, np.abs(r["C"]).max())
        print(f"  largest |C_ij - C_ji| / max|C|: {asym:.1e}")
        f = r["freqs"]
        acoustic = np.argsort(np.abs(f))[:3]  # the three closest to zero
        optical = np.delete(f, acoustic)
        print(f"Gamma frequencies (cm^-1; imaginary as negative): acoustic {', '.join(f'{f[k]:.2f}' for k in acoustic)}; "
              f"the other {len(optical)} from {optical.min():.1f} to {optical.max():.1f}, "
              f"{int((optical < -1).sum())} imaginary")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(results), 2, figsize=(11, 4.2 * len(results)), squeeze=False)
    for (ax_c, ax_f), r in zip(axes, results):
        lim = max(1.0, np.abs(r["C"]).max())
        ax_c.imshow(r["C"], cmap="RdBu_r", vmin=-lim, vmax=lim)
        for i in range(6):
            for j in range(6):
                ax_c.text(j, i, f"{r['C'][i, j]:.0f}", ha="center", va="center", fontsize=8)
        ax_c.set_xticks(range(6), [f"{k}" for k in range(1, 7)])
        ax_c.set_yticks(range(6), [f"{k}" for k in range(1, 7)])
        ax_c.set_title(f"{r['label']}: C_ij (GPa)")
        ax_f.vlines(r["freqs"], 0, 1, colors="k", linewidth=0.8)
        ax_f.set_yticks([])
        ax_f.set_xlabel("frequency at Gamma (cm$^{-1}$)")
        ax_f.set_title(f"{r['label']}: {len(r['freqs'])} Gamma modes")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"\n-> {args.out}")
    if args.json:
        import json
        Path(args.json).write_text(json.dumps([{**r, "C": r["C"].tolist(), "freqs": r["freqs"].tolist()}
                                               for r in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
