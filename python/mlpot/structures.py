"""Built-in structures of the seed study, as ase.Atoms (the same builders as `mlpot build`)."""
from ase import Atoms

from . import _mlpot


def li2co3(na=1, nb=1, nc=1):
    """Monoclinic Li2CO3 (C2/c, 24 atoms per cell; docs/cli.md, `mlpot build li2co3`), repeated
    na x nb x nc, periodic."""
    s = _mlpot.build_li2co3(int(na), int(nb), int(nc))
    symbols = [s["elements"][t] for t in s["species"]]
    return Atoms(symbols=symbols, positions=s["positions"], cell=s["cell"], pbc=True)
