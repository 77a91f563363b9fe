"""mlpot against MLIP-3's own printed output: its examples 03 (`mlp calculate_efs`) and 04
(`mlp calculate_grade`), read from shared/data/mlip3-examples (MLIP-3 computed those numbers, not
us). Each value must agree within half a unit of the last digit MLIP-3 printed, plus the
round-off of the two codes' sums (2e-14 of the value): the tightest bound the printed text allows.
The worst deviation of each quantity, in units of its print precision, is printed."""
import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from mlpot_testlib import Checks, motep_reference, run

ROUND_OFF = 2e-14


def read_cfg_text(path):
    """Per configuration: energy, PlusStress, per-atom columns and features, as printed strings."""
    cfgs, lines, k = [], Path(path).read_text().splitlines(), 0
    while k < len(lines):
        if lines[k].strip() != "BEGIN_CFG":
            k += 1
            continue
        cur, k = {"atoms": {}, "features": {}}, k + 1
        while lines[k].strip() != "END_CFG":
            s = lines[k].strip()
            if s == "Size":
                n = int(lines[k + 1])
                k += 2
                continue
            if s == "Supercell":
                cur["cell"] = np.array([[float(v) for v in lines[k + 1 + d].split()] for d in range(3)])
                k += 4
                continue
            if s.startswith("AtomData"):
                cols = s.split()[1:]
                rows = [lines[k + 1 + a].split() for a in range(n)]
                cur["atoms"] = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
                k += 1 + n
                continue
            if s == "Energy":
                cur["energy"] = lines[k + 1].strip()
                k += 2
                continue
            if s.startswith("PlusStress"):
                cur["plus_stress"] = lines[k + 1].split()
                k += 2
                continue
            if s.startswith("Feature"):
                w = s.split()
                cur["features"][w[1]] = w[2] if len(w) > 2 else ""
            k += 1
        cfgs.append(cur)
        k += 1
    return cfgs


def half_unit(text):
    """Half a unit of the last printed digit of a number written in fixed notation."""
    return 0.5 * 10.0 ** -(len(text.split(".")[1]) if "." in text else 0)


def worst(ours, printed):
    """The largest |ours - printed| in units of its allowed bound, and whether all are within."""
    ratios = [abs(float(o) - float(p)) / (half_unit(p) + ROUND_OFF * abs(float(p))) for o, p in zip(ours, printed)]
    if not ratios or len(ours) != len(printed):
        return float("inf"), False
    return max(ratios), True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--examples", required=True, help="shared/data/mlip3-examples")
    args = ap.parse_args()
    ex = Path(args.examples)
    check = Checks()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 03: mlp calculate_efs pot.almtp train.cfg. Its printed output does not come from the
        # pot.almtp beside it: motep, the independent implementation, gives the energies mlpot
        # gives for that file (-96.42 eV for the first configuration, where the sample prints
        # -573.06; checked 2026-12-02), so the sample was written with another potential. mlpot
        # is held to motep on MLIP-3's own inputs here, and to the sample whenever motep
        # reproduces it (a corrected sample then binds mlpot at print precision).
        efs = ex / "03.calculate_efs"
        out = tmp / "efs.cfg"
        r = run([args.mlpot, "eval", "--model", efs / "pot.almtp", "--input", efs / "train.cfg", "--output", out])
        check("eval on MLIP-3's example 03", r.returncode == 0, r.stderr)
        ours, ref = read_cfg_text(out), read_cfg_text(efs / "sample_out" / "calculated.cfg.0")
        inputs = read_cfg_text(efs / "train.cfg")
        check("03: as many configurations as MLIP-3 printed", len(ours) == len(ref) == len(inputs) == 2,
              f"{len(ours)} vs {len(ref)}")
        potential = tmp / "pot03.mtp"  # the potential part (motep reads no selection state)
        potential.write_bytes((efs / "pot.almtp").read_bytes().split(b"\n#MVS")[0] + b"\n")
        for i, (o, p, c) in enumerate(zip(ours, ref, inputs)):
            pos = np.array([[float(v) for v in c["atoms"][k]] for k in ("cartes_x", "cartes_y", "cartes_z")]).T
            e, f, w, _ = motep_reference(potential, c["cell"], pos, [int(t) for t in c["atoms"]["type"]])
            de = abs(float(o["energy"]) - e) / abs(e)
            f_ours = np.array([[float(v) for v in o["atoms"][k]] for k in ("fx", "fy", "fz")]).T
            df = np.abs(f_ours - f).max() / np.abs(f).max()
            dw = np.abs(np.array([float(v) for v in o["plus_stress"]]) - w).max() / np.abs(w).max()
            check(f"03 cfg {i}: mlpot = motep on MLIP-3's example (rel. energy {de:.1e}, forces {df:.1e}, "
                  f"virial {dw:.1e})", max(de, df, dw) < 1e-13)
            motep_text = {"energy": [repr(float(e))], "PlusStress": [repr(float(v)) for v in w],
                          "forces": [repr(float(v)) for v in np.concatenate([f[:, 0], f[:, 1], f[:, 2]])]}
            for name, get in (("energy", lambda c: [c["energy"]]), ("PlusStress", lambda c: c["plus_stress"]),
                              ("forces", lambda c: c["atoms"]["fx"] + c["atoms"]["fy"] + c["atoms"]["fz"])):
                motep_ratio, _ = worst(motep_text[name], get(p))
                ratio, complete = worst(get(o), get(p))
                if motep_ratio <= 1.0:
                    check(f"03 cfg {i}: {name} within MLIP-3's print precision (worst {ratio:.2f} of the bound)",
                          complete and ratio <= 1.0)
                else:
                    print(f"note 03 cfg {i}: MLIP-3's printed {name} is not reproduced by motep either "
                          f"({motep_ratio:.3g} of the print bound; mlpot {ratio:.3g}): compared with motep above")

        # 04: mlp calculate_grade pot.almtp train.cfg graded.cfg
        gr = ex / "04.calculate_grade"
        out = tmp / "graded.cfg"
        r = run([args.mlpot, "grade", "--model", gr / "pot.almtp", "--input", gr / "train.cfg", "--output", out])
        check("grade on MLIP-3's example 04", r.returncode == 0, r.stderr)
        ours, ref = read_cfg_text(out), read_cfg_text(gr / "sample_out" / "graded.cfg.0")
        check("04: as many configurations as MLIP-3 printed", len(ours) == len(ref) == 2, f"{len(ours)} vs {len(ref)}")
        for i, (o, p) in enumerate(zip(ours, ref)):
            ratio, complete = worst([o["features"].get("MV_grade", "nan")], [p["features"]["MV_grade"]])
            check(f"04 cfg {i}: MV_grade {o['features'].get('MV_grade')} = MLIP-3's {p['features']['MV_grade']} "
                  f"(worst {ratio:.2f} of the bound)", complete and ratio <= 1.0)
            ratio, complete = worst(o["atoms"].get("nbh_grades", []), p["atoms"]["nbh_grades"])
            check(f"04 cfg {i}: nbh_grades within MLIP-3's print precision (worst {ratio:.2f} of the bound)",
                  complete and ratio <= 1.0)
    return check.exit_status()


if __name__ == "__main__":
    sys.exit(main())
