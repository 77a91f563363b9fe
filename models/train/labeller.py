"""The stand-in for DFT: CHGNet 0.3.0 (PyPI's chgnet 0.4.2 carries its weights), a universal
potential trained on PBE(+U) data of the Materials Project. Every label this pipeline makes
comes from here and says so (LABEL_SOURCE)."""
import contextlib
import io

import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator

CHGNET_MODEL = "0.3.0"
LABEL_SOURCE = f"CHGNet {CHGNET_MODEL} labels, not DFT"


class ChgnetLabeller:
    """Energies (eV), forces (eV/A) and stresses (eV/A^3, ASE's sign) of ase.Atoms from CHGNet
    on the CPU. Loading the weights takes seconds, so one instance serves the whole run."""

    def __init__(self, threads=None):
        import torch
        if threads:
            torch.set_num_threads(int(threads))
        # chgnet prints its banner and device choice; keep the pipeline's log to what it does.
        with contextlib.redirect_stdout(io.StringIO()):
            from chgnet.model import CHGNet
            from chgnet.model.dynamics import CHGNetCalculator
            self.model = CHGNet.load(model_name=CHGNET_MODEL, use_device="cpu", verbose=False)
            self.calc = CHGNetCalculator(self.model, use_device="cpu", on_isolated_atoms="error")
        self.calls = 0

    def label(self, atoms):
        """A copy of atoms with a SinglePointCalculator holding CHGNet's energy, forces, stress."""
        work = atoms.copy()
        work.calc = self.calc
        with contextlib.redirect_stdout(io.StringIO()):
            energy = float(work.get_potential_energy())
            forces = np.array(work.get_forces(), dtype=float)
            stress = np.array(work.get_stress(voigt=True), dtype=float)
        self.calls += 1
        out = atoms.copy()
        out.calc = SinglePointCalculator(out, energy=energy, forces=forces, stress=stress)
        out.info["label_source"] = LABEL_SOURCE
        return out

    def calculator(self):
        """The ASE calculator itself (for relaxations and MD under CHGNet in the validation)."""
        return self.calc
