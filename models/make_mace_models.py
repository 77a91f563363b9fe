"""Generate the MACE models mlpot tests and benchmarks with, deterministically, offline.

Random weights from a fixed seed (no download, no training), exported the way MACE users deploy
to LAMMPS: the LAMMPS_MACE wrapper compiled with e3nn's jit (what `mace_create_lammps_model`
does), saved as TorchScript.

  tiny-{float64,float32}-lammps.pt   8x0e+8x1o, max_ell 2, correlation 2: fast tests
  seed-{float64,float32}-lammps.pt   the seed study's architecture: 128x0e+128x1o, max_ell 3,
                                     correlation 3, r_max 5 A, 2 interactions, ~1.0 M parameters
  variant-{float64,float32}-lammps.pt  what the other two leave out of what users deploy: plain MACE
                                     (no scale-shift), 16x0e+16x1o+16x2e (L = 2 features), 3
                                     interactions with density-normalised blocks, correlation 3, 2, 2,
                                     r_max 6 A, ZBL pair repulsion, Agnesi distance transform, two
                                     heads (exported with the first, not the default last), and Na
                                     as a 7th element (H Li C O F Na P), ~72 k parameters

  options/NAME-float64-lammps.pt     the tiny model with one of mace-torch's other architecture
                                     options each (OPTIONS below): what a user's model may have
                                     that the three above do not; float64 only
  beyond/NAME-float64-lammps.pt      the tiny model with what mlpot's native engine does not
                                     implement (BEYOND_NATIVE below), for its refusal tests

Elements H Li C O F P in tiny, seed and options. Beside each TorchScript file, `{arch}-{dtype}.model` holds the same
model as a pickled torch module, which mace-torch's ASE calculator loads (benchmark reference). Usage: python models/make_mace_models.py --out DIR [--only tiny|seed|variant|options|beyond]
(scripts/build.sh also runs it with older mace-torch releases first on PYTHONPATH, --only tiny,
for the export compatibility tests.)
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
    "variant": dict(hidden_irreps="16x0e+16x1o+16x2e", max_ell=3, correlation=[3, 2, 2], radial_MLP=[32, 32],
                    num_bessel=6, MLP_irreps="16x0e"),
}
# The tiny model with one more of mace-torch 0.3.16's ScaleShiftMACE options each. Left out:
# RealAgnosticAttResidualInteractionBlock and RealAgnosticResidualNonLinearInteractionBlock
# (mace-torch 0.3.16 itself fails to compile them to TorchScript, so they cannot be exported for
# LAMMPS), embedding_specs (extra inputs such as total charge, which LAMMPS_MACE does not pass)
# and the cuequivariance/openequivariance kernels (GPU libraries, not installed).
OPTIONS = {
    "so3": dict(use_so3=True),
    "agnostic_product": dict(use_agnostic_product=True),
    "last_readout_only": dict(use_last_readout_only=True),
    "radial_gaussian": dict(radial_type="gaussian"),
    "radial_chebyshev": dict(radial_type="chebyshev"),
    "soft_transform": dict(distance_transform="Soft"),
    "no_cutoff_weights": dict(apply_cutoff=False),
    "full_cg": dict(use_reduced_cg=False),
    "bias_readout": dict(readout_cls="NonLinearBiasReadoutBlock"),
    "edge_irreps_first": dict(edge_irreps=o3.Irreps("8x0e+8x1o"), use_edge_irreps_first=True),
    "keep_last_layer_irreps": dict(keep_last_layer_irreps=True),
    "one_interaction": dict(num_interactions=1),
    "max_ell1_correlation1": dict(max_ell=1, correlation=1),
}
# The tiny model with what mlpot's native engine does not implement (it refuses these by name and
# `auto` runs them on LibTorch): spherical harmonics above max_ell 3, a readout activation other
# than SiLU. Written to beyond/ (not counted among the options above).
BEYOND_NATIVE = {
    "max_ell4": dict(max_ell=4),
    "tanh_readout": dict(gate=torch.tanh),
}
VARIANT_ELEMENTS = [1, 3, 6, 8, 9, 11, 15]  # H Li C O F Na P
VARIANT_HEADS = ["pbe", "r2scan"]


def build(arch: str, seed: int, option: str = None) -> torch.nn.Module:
    a = ARCHS[arch]
    torch.manual_seed(seed)
    np.random.seed(seed)
    # Distinct reference energies per element (and head) so a species mix-up changes the energy.
    common = dict(max_ell=a["max_ell"], hidden_irreps=o3.Irreps(a["hidden_irreps"]), MLP_irreps=o3.Irreps(a["MLP_irreps"]),
                  gate=F.silu, correlation=a["correlation"], radial_MLP=a["radial_MLP"], num_bessel=a["num_bessel"])
    if arch == "variant":
        model = modules.MACE(
            r_max=6.0, num_polynomial_cutoff=6, num_interactions=3,
            interaction_cls=modules.interaction_classes["RealAgnosticDensityResidualInteractionBlock"],
            interaction_cls_first=modules.interaction_classes["RealAgnosticDensityInteractionBlock"],
            num_elements=len(VARIANT_ELEMENTS), atomic_numbers=VARIANT_ELEMENTS, avg_num_neighbors=20.0,
            atomic_energies=np.array([[-1.1, -2.3, -3.7, -4.1, -5.3, -0.7, -6.7],
                                      [-1.0, -2.0, -3.0, -4.0, -5.0, -0.5, -6.0]]),
            pair_repulsion=True, distance_transform="Agnesi", heads=VARIANT_HEADS, **common)
    else:
        kwargs = dict(
            r_max=5.0, num_polynomial_cutoff=5, num_interactions=2,
            interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
            interaction_cls_first=modules.interaction_classes["RealAgnosticInteractionBlock"],
            num_elements=len(ELEMENTS), atomic_numbers=ELEMENTS, avg_num_neighbors=30.0,
            atomic_energies=np.array([-1.1, -2.3, -3.7, -4.1, -5.3, -6.7]),
            atomic_inter_scale=1.0, atomic_inter_shift=0.0, **common)
        kwargs.update({**OPTIONS, **BEYOND_NATIVE}[option] if option else {})
        if isinstance(kwargs.get("readout_cls"), str):
            # Named, not imported: older mace-torch releases (--only tiny) lack some blocks.
            from mace.modules import blocks
            kwargs["readout_cls"] = getattr(blocks, kwargs["readout_cls"])
        model = modules.ScaleShiftMACE(**kwargs)
    # Random readouts are tiny by default; give the interaction energy a visible size.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "readout" in name:
                p.mul_(10.0)
    return model


def export(model: torch.nn.Module, dtype: torch.dtype, path: Path, head=None) -> None:
    m = (model.double() if dtype == torch.float64 else model.float()).to("cpu")
    torch.save(m, str(path).replace("-lammps.pt", ".model"))
    wrapped = LAMMPS_MACE(m) if head is None else LAMMPS_MACE(m, head=head)
    compiled = jit.compile(wrapped)
    compiled.save(str(path))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", choices=sorted(ARCHS) + ["options", "beyond"], action="append")
    ap.add_argument("--seed", type=int, default=20251125)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    for arch in args.only or sorted(ARCHS) + ["options", "beyond"]:
        if arch in ("options", "beyond"):
            (out / arch).mkdir(exist_ok=True)
            for option in OPTIONS if arch == "options" else BEYOND_NATIVE:
                model = build("tiny", args.seed, option)
                path = out / arch / f"{option}-float64-lammps.pt"
                export(model, torch.float64, path)
                print(f"{path}: {sum(p.numel() for p in model.parameters())} parameters")
            continue
        for dtype, name in [(torch.float64, "float64"), (torch.float32, "float32")]:
            model = build(arch, args.seed)
            path = out / f"{arch}-{name}-lammps.pt"
            export(model, dtype, path, head=VARIANT_HEADS[0] if arch == "variant" else None)
            n = sum(p.numel() for p in model.parameters())
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            print(f"{path}: {n} parameters, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
