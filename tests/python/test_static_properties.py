"""python/examples/static_properties.py (docs/python.md) end to end on the tiny MACE model (float64,
native engine): it runs, prints its tables and draws the PNG; the elastic tensor from finite
strains is symmetric (C_ij and C_ji come from different strains); the three acoustic modes at
Gamma are at zero; and its Gamma frequencies equal those of ASE's own finite-displacement phonon
code (ase.phonons.Phonons, one cell) on the structure it ended with."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mlpot_testlib import Checks

check = Checks()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    model = Path(args.models) / "tiny-float64-lammps.pt"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        r = subprocess.run([sys.executable, Path(args.root) / "python" / "examples" / "static_properties.py",
                            "--model", model, "--engine", "native", "--steps", "300", "--out", tmp / "static.png",
                            "--json", tmp / "static.json"], capture_output=True, text=True, cwd=tmp)
        print(r.stdout[-2500:])
        check("the example runs", r.returncode == 0, r.stderr[-2000:])
        if r.returncode != 0:
            return check.exit_status()
        check("it prints the lattice, the elastic tensor and the Gamma frequencies",
              all(k in r.stdout for k in ["experiment", "elastic tensor C_ij (GPa)", "Gamma frequencies"]))
        png = tmp / "static.png"
        check("it draws the PNG", png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000)
        res = json.loads((tmp / "static.json").read_text())[0]
        c = np.array(res["C"])
        asym = np.abs(c - c.T).max() / np.abs(c).max()
        check("the elastic tensor is symmetric", asym < 1e-2, f"max |C_ij - C_ji| / max |C| = {asym:.1e}")
        freqs = np.array(res["freqs"])
        acoustic = np.sort(np.abs(freqs))[:3]
        check("three acoustic modes at zero", acoustic.max() < 1.0 and np.sort(np.abs(freqs))[3] > 10 * acoustic.max(),
              f"{acoustic} cm^-1, next {np.sort(np.abs(freqs))[3]:.1f}")
        # ASE's phonon code on the same structure and model.
        import mlpot
        from ase import Atoms
        from ase.phonons import Phonons
        from ase.units import invcm
        s = res["structure"]
        atoms = Atoms(numbers=s["numbers"], positions=s["positions"], cell=s["cell"], pbc=True)
        os.chdir(tmp)
        ph = Phonons(atoms, mlpot.Calculator(model, engine="native"), supercell=(1, 1, 1), delta=0.01, name="ph")
        ph.run()
        ph.read(acoustic=False)
        ase_freqs = np.sort(ph.band_structure([[0.0, 0.0, 0.0]])[0].real) / invcm
        # Acoustic modes differ in round-off (near zero, either sign): the optical ones are compared.
        diff = np.abs(np.sort(freqs)[3:] - ase_freqs[3:]).max() / np.abs(ase_freqs).max()
        check("Gamma frequencies equal ASE's Phonons on the same structure", diff < 1e-13,
              f"largest difference {diff:.1e} of the highest frequency ({np.abs(ase_freqs).max():.0f} cm^-1)")
    return check.exit_status()


if __name__ == "__main__":
    sys.exit(main())
