"""mlpot.Calculator: the ASE calculator (docs/python.md)."""
import os

import numpy as np
from ase.calculators.calculator import Calculator as _AseCalculator
from ase.calculators.calculator import PropertyNotImplementedError, all_changes
from ase.data import atomic_numbers as _atomic_numbers
from ase.data import chemical_symbols

from . import _mlpot
from ._mlpot import Error


class Calculator(_AseCalculator):
    """ASE calculator for an MTP (.mtp, .almtp) or a MACE model exported for LAMMPS (*-lammps.pt).

    model    path of the model file.
    elements MTP: the element of each species in the file's order (required: MTP files do not
             name their species), e.g. ["H", "Li", "C", "O", "F", "P"] or "H,Li,C,O,F,P". MACE models carry
             their elements; a list given for one must equal them.
    backend  Kokkos backend: "default" (the fastest compiled in), "Serial", "OpenMP", "Cuda".
    threads  Kokkos host threads (0: Kokkos' default, OMP_NUM_THREADS); fixed for the process by
             its first model. For the LibTorch MACE engine also LibTorch's intra-op threads.
    device   MACE: "cpu" or "cuda[:N]".
    engine   MACE: "auto", "native" (mlpot's Kokkos kernels) or "torch" (LibTorch).
    precision MTP: "double" (default) or "mixed" (float arithmetic, double sums; no grades;
             docs/mtp.md, "Mixed precision").
    grades   MTP with a selection state (.almtp): also compute MLIP's extrapolation grade, as the
             properties "grade" (the structure's MV grade) and, in neighbourhood mode,
             "grades" (one per atom).
    stress   compute the virial with every call: None (default) when the cell is periodic in all
             three directions, so that forces and stress cost one call in a cell relaxation.
    skin     A: the neighbour list is built for the cutoff + skin and kept (a Verlet list, as
             LAMMPS') until an atom has moved skin/2 or the cell, periodicity or elements change;
             0 builds it for every call.

    Properties: energy, free_energy (= energy), energies (per atom), forces, stress (needs a
    cell with a volume); with grades=True also grade and grades.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress", "grade", "grades"]
    nolabel = True

    def __init__(self, model, elements=None, backend="default", threads=0, device="cpu", engine="auto",
                 grades=False, stress=None, skin=1.0, precision="double", *, label=None, atoms=None,
                 directory="."):
        # No **kwargs: ASE would keep a misspelt keyword as a parameter and say nothing.
        super().__init__(label=label, atoms=atoms, directory=directory)
        path = os.fspath(model)
        if isinstance(elements, str):  # "H,Li,C" or "H Li C", as the CLI and pair_coeff write them
            elements = elements.replace(",", " ").split()
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such model file")
        if os.path.isdir(path):
            raise IsADirectoryError(f"{path}: is a directory, not a model file")
        kind = "mace" if _mlpot.is_mace_model_file(path) else "mtp"  # as the CLI decides
        if engine not in ("auto", "native", "torch"):
            raise Error(f"{path}: engine='{engine}' is not one of auto, native, torch")
        if grades and precision != "double":
            raise Error(f"{path}: grades=True needs precision='double' (precision mixed computes no grades)")
        self.model = _mlpot.Model(path, kind, backend=backend, threads=int(threads), device=device, engine=engine,
                                  skin=float(skin), precision=precision)
        self.path = path
        if kind == "mace":
            model_elements = [chemical_symbols[z] for z in self.model.atomic_numbers]
            if elements is not None and list(elements) != model_elements:
                raise Error(f"{path}: elements={list(elements)} differ from the MACE model's own elements "
                            f"{model_elements} (leave elements out: the model maps them itself)")
            elements = model_elements
        elif elements is None:
            raise Error(f"{path}: an MTP file does not name its species: pass elements=[...], the element of "
                        f"each of its {self.model.num_species} species in order (as the CLI's --elements)")
        self.elements = self._check_elements(path, list(elements))
        if grades and not self.model.has_selection_state:
            raise Error(f"{path}: grades=True needs an MTP with a selection state (.almtp); this "
                        f"{'MACE model' if kind == 'mace' else 'file has none'}")
        self.grades = bool(grades)
        self.stress = stress
        # Atomic number -> model species index (-1: not in the model), for one vectorised lookup.
        self._species_of = np.full(len(chemical_symbols), -1, dtype=np.int32)
        for index, symbol in enumerate(self.elements):
            self._species_of[_atomic_numbers[symbol]] = index

    def _check_elements(self, path, elements):
        for symbol in elements:
            if symbol not in _atomic_numbers or symbol == "X":
                raise Error(f"{path}: elements: '{symbol}' is not a chemical element")
        if len(set(elements)) != len(elements):
            raise Error(f"{path}: elements: {elements} names an element twice")
        if len(elements) > self.model.num_species:
            raise Error(f"{path}: elements: {len(elements)} given, the model has {self.model.num_species} species")
        return elements

    def _species(self, numbers):
        species = self._species_of[numbers]
        bad = np.flatnonzero(species < 0)
        if bad.size:
            i = int(bad[0])
            raise Error(f"atoms[{i}] is {chemical_symbols[numbers[i]]}, which {self.path} does not have "
                        f"(its elements: {' '.join(self.elements)})")
        return species

    def check_state(self, atoms, tol=1e-15):
        """What changed since the last calculation, by exact comparison of the arrays the models
        read (ASE's own compare_atoms runs np.isclose on each, 0.3 ms per call at 1440 atoms:
        1.5 % of an MTP force call). Charges and magnetic moments do not enter these models."""
        old = self.atoms
        if old is None:
            return list(all_changes)
        changes = []
        if not np.array_equal(old.positions, atoms.positions):
            changes.append("positions")
        if not np.array_equal(old.numbers, atoms.numbers):
            changes.append("numbers")
        if not np.array_equal(old.cell.array, atoms.cell.array):
            changes.append("cell")
        if not np.array_equal(old.pbc, atoms.pbc):
            changes.append("pbc")
        return changes

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        a = self.atoms
        positions = np.ascontiguousarray(a.positions, dtype=np.float64)
        finite = np.isfinite(positions).all(axis=1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise Error(f"atoms[{i}] has a non-finite position {positions[i].tolist()}")
        species = self._species(a.numbers)
        cell = np.ascontiguousarray(a.cell.array, dtype=np.float64)
        pbc = [bool(p) for p in a.pbc]
        volume = abs(np.linalg.det(cell))
        with_stress = "stress" in properties or (self.stress is None and all(pbc)) or bool(self.stress)
        if with_stress and not volume > 0:
            if "stress" in properties:
                raise PropertyNotImplementedError("stress: the cell has no volume (non-periodic Atoms without a cell)")
            with_stress = False
        r = self.model.evaluate(positions, species, cell, pbc, virial=with_stress, grade=self.grades)
        self.results = {"energy": r["energy"], "free_energy": r["energy"], "energies": r["energies"],
                        "forces": r["forces"]}
        if with_stress:
            w = r["virial"]  # xx yy zz xy xz yz, eV; ASE's stress is -virial/V in Voigt order
            self.results["stress"] = -np.array([w[0], w[1], w[2], w[5], w[4], w[3]]) / volume
        if self.grades:
            self.results["grade"] = r["grade"]
            if "atom_grades" in r:
                self.results["grades"] = r["atom_grades"]
