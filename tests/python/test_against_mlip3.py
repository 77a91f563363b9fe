"""`mlpot eval` against MLIP-3's own `mlp calculate_efs`, for every radial basis: random
potentials of levels 8 and 16 (1 and 3 species) on test_radial_bases' structures (pairs inside
min_dist, a cell smaller than the cutoff). Runs only where an `mlp` binary is at hand (the CMake
option MLPOT_MLP; MLIP-3 is not in the package registries, so CI has none): the suite's own
check of each basis is test_radial_bases, against MLIP-3's formulas written in Python.

MLIP-3 prints energies with 12 decimals, forces with 6 and PlusStress with 5, so forces and
stresses are compared to half a printed unit plus 1e-9 of the largest value. RBShapeev: MLIP-3 sums
powers of r whose coefficients cancel (about 1e-8 of the energy and 3e-9 of the largest force on
[1.9, 4.6] A; mlpot uses a recurrence), so its relative bounds are 1e-7 instead of 1e-11 (energy)
and 1e-9 (forces, stress).
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import test_radial_bases as trb
from mlpot_testlib import random_mtp, read_cfg_results, write_cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--mlp", required=True)
    ap.add_argument("--templates", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    failures, worst = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for kind in trb.BASES:
            for level, species_count in (("08", 1), ("16", 3)):
                mtp = tmp / f"{kind}_{level}.mtp"
                mtp.write_text(random_mtp(Path(args.templates) / f"{level}.almtp", species_count, rng,
                                          min_dist=trb.MIN_DIST, max_dist=trb.MAX_DIST,
                                          scaling=0.05 if kind != "RBTaylor" else 1e-3, radial_basis_type=kind))
                structs = trb.structures(rng, species_count)
                cfg = tmp / "in.cfg"
                write_cfg(cfg, [(c, p, t) for _, c, p, t in structs])
                r = subprocess.run([args.mlp, "calculate_efs", str(mtp), str(cfg), f"--output_filename={tmp}/mlp.cfg"],
                                   capture_output=True, text=True)
                q = subprocess.run([args.mlpot, "eval", "--model", str(mtp), "--input", str(cfg), "--output",
                                    str(tmp / "mlpot.cfg")], capture_output=True, text=True)
                if r.returncode or q.returncode or not (tmp / "mlp.cfg").exists():
                    failures.append(f"{kind} level {level}: mlp rc {r.returncode}, mlpot rc {q.returncode}: "
                                    f"{r.stdout[-200:]} {q.stderr[-200:]}")
                    continue
                theirs, ours = read_cfg_results(tmp / "mlp.cfg"), read_cfg_results(tmp / "mlpot.cfg")
                (tmp / "mlp.cfg").unlink()
                e_rel = 1e-7 if kind == "RBShapeev" else 1e-11
                rel = 1e-7 if kind == "RBShapeev" else 1e-9
                for (name, *_), a, b in zip(structs, theirs, ours):
                    de = abs(a["energy"] - b["energy"]) / max(1.0, abs(b["energy"]))
                    f_scale, s_scale = np.abs(b["forces"]).max(), np.abs(b["plus_stress"]).max()
                    df = np.abs(a["forces"] - b["forces"]).max()
                    ds = np.abs(np.array(a["plus_stress"]) - b["plus_stress"]).max()
                    for key, v in (("energy", de), ("forces", df / max(1.0, f_scale)),
                                   ("stress", ds / max(1.0, s_scale))):
                        worst[f"{kind} {key}"] = max(worst.get(f"{kind} {key}", 0.0), v)
                    if de > e_rel or df > 5e-7 + rel * f_scale or ds > 5e-6 + rel * s_scale:
                        failures.append(f"{kind}, level {level}, {name}: energy {de:.2e} (relative), "
                                        f"forces {df:.2e} eV/A, stress {ds:.2e} eV")
    for k, v in worst.items():
        print(f"worst {k}: {v:.2e}")
    for m in failures:
        print("FAIL:", m)
    return 1 if failures or not worst else 0


if __name__ == "__main__":
    sys.exit(main())
