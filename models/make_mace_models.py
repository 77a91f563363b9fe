"""Generate the MACE models mlpot tests and benchmarks with, deterministically, offline.

Random weights from a fixed seed (no download, no training), exported the way MACE users deploy
to LAMMPS: the LAMMPS_MACE wrapper compiled with e3nn's jit (what `mace_create_lammps_model`
does), saved as TorchScript.

  tiny-{float64,float32}-lammps.pt   8x0e+8x1o, max_ell 2, correlation 2: fast tests
  seed-{float64,float32}-lammps.pt   the seed study's architecture: 128x0e+128x1o, max_ell 3,
                                     correlation 3, r_max 5 A, 2 interactions, ~1.0 M parameters

Elements H Li C O F P in all. Beside each TorchScript file, `{arch}-{dtype}.model` holds the same
model as a pickled torch module, which mace-torch's ASE calculator loads (benchmark reference). Usage: python models/make_mace_models.py --out DIR [--only tiny]
"""
import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

# e3nn 0.4.4 (pinned by mace-torch) loads its own packaged constants with torch.load, which
# torch >= 2.6 refuses for pickled `slice` objects unless allowed.
torch.serialization.add_safe_globals([slice])

from e3nn import o3  # noqa: E402
from e3nn.util import jit  # noqa: E402
from mace import modules  # noqa: E402
from mace.calculators.lammps_mace import LAMMPS_MACE  # noqa: E402

ELEMENTS = [1, 3, 6, 8, 9, 15]  # H Li C O F P

ARCHS = {
    "tiny": dict(hidden_irreps="8x0e+8x1o", max_ell=2, correlation=2, radial_MLP=[16, 16],
                 num_bessel=4, MLP_irreps="8x0e"),
    "seed": dict(hidden_irreps="128x0e+128x1o", max_ell=3, correlation=3, radial_MLP=[64, 64, 64],
                 num_bessel=8, MLP_irreps="16x0e"),
}


def build(arch: str, seed: int) -> torch.nn.Module:
    a = ARCHS[arch]
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = modules.ScaleShiftMACE(
        r_max=5.0, num_bessel=a["num_bessel"], num_polynomial_cutoff=5, max_ell=a["max_ell"],
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticInteractionBlock"],
        num_interactions=2, num_elements=len(ELEMENTS), hidden_irreps=o3.Irreps(a["hidden_irreps"]),
        MLP_irreps=o3.Irreps(a["MLP_irreps"]), gate=F.silu,
        # Distinct reference energies per element so a species mix-up changes the energy.
        atomic_energies=np.array([-1.1, -2.3, -3.7, -4.1, -5.3, -6.7]),
        avg_num_neighbors=30.0, atomic_numbers=ELEMENTS, correlation=a["correlation"],
        radial_MLP=a["radial_MLP"], atomic_inter_scale=1.0, atomic_inter_shift=0.0)
    # Random readouts are tiny by default; give the interaction energy a visible size.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "readout" in name:
                p.mul_(10.0)
    return model


def export(model: torch.nn.Module, dtype: torch.dtype, path: Path) -> None:
    m = (model.double() if dtype == torch.float64 else model.float()).to("cpu")
    torch.save(m, str(path).replace("-lammps.pt", ".model"))
    wrapped = LAMMPS_MACE(m)
    compiled = jit.compile(wrapped)
    compiled.save(str(path))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", choices=sorted(ARCHS), action="append")
    ap.add_argument("--seed", type=int, default=20251125)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    for arch in args.only or sorted(ARCHS):
        for dtype, name in [(torch.float64, "float64"), (torch.float32, "float32")]:
            model = build(arch, args.seed)
            path = out / f"{arch}-{name}-lammps.pt"
            export(model, dtype, path)
            n = sum(p.numel() for p in model.parameters())
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            print(f"{path}: {n} parameters, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
