"""mlpot from Python: an ASE calculator for MTP (.mtp/.almtp) and MACE (*-lammps.pt) models on
mlpot's kernels (docs/python.md).

    from mlpot import Calculator
    atoms.calc = Calculator("pot.almtp", elements=["H", "Li", "C", "O", "F", "P"])
    atoms.get_forces()
"""
import atexit

from . import _mlpot
from ._mlpot import Error, available_backends
from .calculator import Calculator
from .structures import li2co3

__all__ = ["Calculator", "Error", "available_backends", "li2co3"]
__version__ = "0.1.0"

# Models still alive at interpreter exit drop their Kokkos memory, then Kokkos is finalised.
atexit.register(_mlpot.shutdown)
