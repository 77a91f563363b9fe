"""Helpers shared by the Python-driven tests: their ok/FAIL bookkeeping, random MTP models in MLIP
format, random periodic structures, .cfg writing/reading, running the mlpot CLI, and mace-torch's
results for a structure."""
import re
import subprocess
from pathlib import Path

import numpy as np


class Checks:
    """A test script's checks: check(name, ok, detail) prints an ok/FAIL line (the detail always,
    or only on failure with quiet_ok); exit_status() prints the tally and gives the exit code."""

    def __init__(self, quiet_ok=False):
        self.results, self.quiet_ok = [], quiet_ok

    def __call__(self, name, ok, detail=""):
        self.results.append(bool(ok))
        shown = f"  {detail}" if detail and not (ok and self.quiet_ok) else ""
        print(("ok   " if ok else "FAIL ") + name + shown, flush=True)

    def count(self):
        return len(self.results)

    def exit_status(self):
        failed = self.results.count(False)
        print(f"{len(self.results) - failed} passed, {failed} failed")
        return 1 if failed else 0


def differences(result, energy, forces, virial):
    """An mlpot .cfg result against a reference (energy, forces [n,3], virial [3,3]):
    |dE|/|E|, max |dF| and max |dW| (the virial in MLIP's PlusStress order xx yy zz yz xz xy)."""
    w = np.asarray(virial)
    w6 = np.array([w[0, 0], w[1, 1], w[2, 2], w[1, 2], w[0, 2], w[0, 1]])
    return (abs(result["energy"] - energy) / abs(energy), np.abs(result["forces"] - forces).max(),
            np.abs(np.array(result["plus_stress"]) - w6).max())


def mace_test_structures(rng):
    """Small periodic cells for MACE checks: orthorhombic, triclinic, and one smaller than
    2 r_max in every direction."""
    out = []
    cell = np.diag([7.1, 6.8, 7.4])
    out.append(("orthorhombic", cell, *random_structure(rng, cell, 14)))
    cell = np.array([[6.9, 0.0, 0.0], [1.7, 6.2, 0.0], [-1.2, 0.9, 6.6]])
    out.append(("triclinic", cell, *random_structure(rng, cell, 12)))
    cell = np.array([[4.1, 0.0, 0.0], [0.7, 3.9, 0.0], [0.4, -0.5, 4.3]])  # < 2 r_max = 10 A
    out.append(("small-cell", cell, *random_structure(rng, cell, 6)))
    return out


def random_structure(rng, cell, n, min_dist=1.0):
    """n atoms uniformly in a periodic cell, none closer than min_dist to another or its images;
    types 0..5 (all six SEI elements) in a random order. Returns (positions, types)."""
    pos = []
    while len(pos) < n:
        p = rng.uniform(0, 1, 3) @ cell
        ok = True
        for q in pos:
            for s in np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).T.reshape(-1, 3):
                if np.linalg.norm(p - q - s @ cell) < min_dist:
                    ok = False
        if ok:
            pos.append(p)
    types = np.arange(n) % 6
    rng.shuffle(types)
    return np.array(pos), types


def read_template(path):
    """The basis part of an MLIP .mtp/.almtp template, as raw text fields."""
    text = Path(path).read_text(errors="replace").split("#", 1)[0]
    fields = {}
    for key in ["radial_funcs_count", "alpha_moments_count", "alpha_index_basic_count",
                "alpha_index_times_count", "alpha_scalar_moments", "radial_basis_size"]:
        fields[key] = int(re.search(rf"{key}\s*=\s*(\d+)", text).group(1))
    for key in ["alpha_index_basic", "alpha_index_times", "alpha_moment_mapping"]:
        fields[key] = re.search(rf"{key}\s*=\s*(\{{.*?\}})\s*\n", text, re.S).group(1)
    return fields


def random_mtp(template, species_count, rng, min_dist=1.0, max_dist=5.0, scaling=0.05,
               radial_scale=1.0, moment_scale=1.0, radial_basis_type="RBChebyshev"):
    """MLIP-format text of a random-coefficient MTP on `template`'s basis."""
    t = read_template(template)
    K, R, S = t["radial_funcs_count"], t["radial_basis_size"], species_count
    rad = rng.normal(0.0, radial_scale, size=(S, S, K, R))
    species = rng.uniform(-5, 5, size=S)
    moments = rng.uniform(-1, 1, size=t["alpha_scalar_moments"]) * moment_scale
    f = lambda v: repr(float(v))
    lines = ["MTP", "version = 1.1.0", "potential_name = random", f"scaling = {f(scaling)}",
             f"species_count = {S}", "potential_tag = ", f"radial_basis_type = {radial_basis_type}",
             f"\tmin_dist = {f(min_dist)}", f"\tmax_dist = {f(max_dist)}",
             f"\tradial_basis_size = {R}", f"\tradial_funcs_count = {K}", "\tradial_coeffs"]
    for a in range(S):
        for b in range(S):
            lines.append(f"\t\t{a}-{b}")
            for mu in range(K):
                lines.append("\t\t\t{" + ", ".join(f(v) for v in rad[a, b, mu]) + "}")
    for key in ["alpha_moments_count", "alpha_index_basic_count", "alpha_index_basic",
                "alpha_index_times_count", "alpha_index_times", "alpha_scalar_moments",
                "alpha_moment_mapping"]:
        lines.append(f"{key} = {t[key]}")
    lines.append("species_coeffs = {" + ", ".join(f(v) for v in species) + "}")
    lines.append("moment_coeffs = {" + ", ".join(f(v) for v in moments) + "}")
    return "\n".join(lines) + "\n"


def write_cfg(path, structures):
    """structures: list of (cell 3x3 or None, positions Nx3, types N)."""
    out = []
    for cell, pos, types in structures:
        out += ["BEGIN_CFG", " Size", f"    {len(types)}"]
        if cell is not None:
            out.append(" Supercell")
            out += ["    " + " ".join(repr(float(v)) for v in row) for row in cell]
        out.append(" AtomData:  id type cartes_x cartes_y cartes_z")
        for i, (t, p) in enumerate(zip(types, pos)):
            out.append(f"    {i + 1} {int(t)} " + " ".join(repr(float(v)) for v in p))
        out += ["END_CFG", ""]
    Path(path).write_text("\n".join(out))


def read_cfg_results(path):
    """Energy, forces, PlusStress of each configuration in an mlpot output .cfg."""
    results = []
    lines = Path(path).read_text().splitlines()
    k = 0
    while k < len(lines):
        if lines[k].strip() == "BEGIN_CFG":
            cur = {"forces": []}
            k += 1
            while lines[k].strip() != "END_CFG":
                s = lines[k].strip()
                if s == "Size":
                    n = int(lines[k + 1]); k += 2; continue
                if s.startswith("AtomData"):
                    cols = s.split()[1:]
                    for a in range(n):
                        w = lines[k + 1 + a].split()
                        cur["forces"].append([float(w[cols.index(c)]) for c in ("fx", "fy", "fz")])
                    k += 1 + n; continue
                if s == "Energy":
                    cur["energy"] = float(lines[k + 1]); k += 2; continue
                if s.startswith("PlusStress"):
                    cur["plus_stress"] = [float(v) for v in lines[k + 1].split()]; k += 2; continue
                k += 1
            cur["forces"] = np.array(cur["forces"])
            results.append(cur)
        k += 1
    return results


def motep_reference(mtp_path, cell, pos, types):
    """motep's results for one periodic structure: energy, forces [n,3], the virial as MLIP's
    PlusStress (xx yy zz yz xz xy, eV) and per-atom energies. motep is the independent MTP
    implementation (agrees with MLIP-3 to ~1e-13); MLIP species t is atomic number t+1."""
    from ase import Atoms
    from motep.calculator import MTP
    from motep.io.mlip.mtp import read_mtp
    data = read_mtp(str(mtp_path))
    data.species = list(range(1, data.species_count + 1))
    atoms = Atoms(numbers=np.asarray(types) + 1, positions=pos, cell=cell, pbc=True)
    atoms.calc = MTP(data, engine="cext")
    e, f = atoms.get_potential_energy(), atoms.get_forces()
    plus_stress = -atoms.get_stress(voigt=True) * atoms.get_volume()  # stress is -virial/V, Voigt order
    return e, f, plus_stress, atoms.get_potential_energies()


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def mace_reference(model, cell, pos, types, dtype, atomic_virials=False):
    """mace-torch's results for one periodic structure: the LAMMPS-exported TorchScript `model`
    evaluated in Python on the graph of mace-torch's own neighbourhood code. Returns energy,
    forces [n,3], virial [3,3] (-dE/d(strain)) and, with `atomic_virials`, mace-torch's per-atom
    virials [n,3,3] (compute_atomic_stresses of the model inside the wrapper), else None."""
    import torch
    torch.serialization.add_safe_globals([slice])  # e3nn 0.4.4 constants under torch >= 2.6
    from mace.data.neighborhood import get_neighborhood
    edge_index, shifts, unit_shifts, cell_out = get_neighborhood(positions=pos, cutoff=float(model.r_max),
                                                                 pbc=(True, True, True), cell=cell)
    n = len(pos)
    t = lambda a, d=dtype: torch.tensor(np.asarray(a), dtype=d)
    # cfg types index the model's own elements (7 in the variant model, 6 in the others).
    n_elements = len(model.atomic_numbers)
    node_attrs = torch.nn.functional.one_hot(torch.tensor(types, dtype=torch.long), n_elements).to(dtype)

    def graph():
        return {"positions": t(pos), "edge_index": torch.tensor(edge_index, dtype=torch.long),
                "shifts": t(shifts), "unit_shifts": t(unit_shifts), "cell": t(cell_out), "node_attrs": node_attrs,
                "batch": torch.zeros(n, dtype=torch.long), "ptr": torch.tensor([0, n], dtype=torch.long)}
    out = model(graph(), torch.ones(n, dtype=torch.float64), True)
    atomic = None
    if atomic_virials:
        data = graph()
        data["head"] = model.head
        inner = model.model(data, training=False, compute_force=True, compute_virials=False, compute_stress=False,
                            compute_displacement=False, compute_edge_forces=True, compute_atomic_stresses=True)
        atomic = inner["atomic_virials"].detach().double().numpy()
    return (float(out["total_energy_local"].sum()), out["forces"].detach().double().numpy(),
            out["virials"].detach().double().numpy().reshape(3, 3), atomic)


_EAGER_CALCULATORS = {}


def mace_eager_reference(model_file, atomic_numbers, cell, pos, types, dtype, head=None):
    """mace-torch's own ASE calculator (MACECalculator) on the pickled eager model (the `.model`
    file with the exported model's weights): no TorchScript, mace-torch's graph and autograd.
    `types` index `atomic_numbers` (the exported model's element order). Returns energy,
    forces [n,3] and virial [3,3] (-stress x volume)."""
    import torch
    torch.serialization.add_safe_globals([slice])
    from ase import Atoms
    from mace.calculators import MACECalculator
    key = (str(model_file), dtype, head)
    if key not in _EAGER_CALCULATORS:  # loading the model is the slow part: once per file
        kw = {"head": head} if head else {}
        _EAGER_CALCULATORS[key] = MACECalculator(model_paths=str(model_file), device="cpu", default_dtype=dtype, **kw)
    calc = _EAGER_CALCULATORS[key]
    atoms = Atoms(numbers=[atomic_numbers[t] for t in types], positions=pos, cell=cell, pbc=True)
    atoms.calc = calc
    e, f = atoms.get_potential_energy(), atoms.get_forces()
    xx, yy, zz, yz, xz, xy = atoms.get_stress(voigt=True)
    w = -np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]) * atoms.get_volume()
    return float(e), np.asarray(f, dtype=float), w
