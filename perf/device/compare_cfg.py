"""Compare energies, forces and PlusStress of two .cfg files written by `mlpot eval`.
Usage: compare_cfg.py REF.cfg GOT.cfg TOLERANCE LABEL
Each difference is relative to its quantity's scale in REF, floor 1: the energy to |E|, a force
component to the largest force component, a stress component to the largest stress component
(as perf/device/lammps_check.py does). Per-value relative errors would judge a small force left
over from the cancellation of large ones by float32's round-off of the large ones: two CPU runs of
the seed float32 MACE differ by 2e-5 on forces of 0.65 eV/A where the largest is 652 eV/A."""
import sys


def numbers(path):
    """The values in file order with their kind: 'e' energy, 'f' force component, 's' stress."""
    vals, take = [], None
    for line in open(path):
        s = line.split()
        if not s:
            continue
        if s[0] in ("Energy", "PlusStress:"):
            take = "e" if s[0] == "Energy" else "s"
            continue
        if s[0].startswith("AtomData"):
            cols = s[1:]
            take = "atoms"
            continue
        if s[0] in ("END_CFG", "Feature", "BEGIN_CFG", "Size", "Supercell"):
            take = None
            continue
        if take == "atoms":
            vals += [("f", float(s[cols.index(c)])) for c in ("fx", "fy", "fz")]
        elif take in ("e", "s"):
            vals += [(take, float(v)) for v in s]
            take = None
    return vals


def differences(ref, got):
    """The worst difference per kind ('e', 'f', 's') of two numbers() lists of one layout: an energy
    against max(1, |E|), a force or stress component against the largest of its kind in REF
    (floor 1). None if the layouts differ."""
    if not ref or [k for k, _ in ref] != [k for k, _ in got]:
        return None
    scale = {}
    for k, v in ref:
        scale[k] = max(scale.get(k, 1.0), abs(v))
    worst = {}
    for (k, a), (_, b) in zip(ref, got):
        d = abs(a - b) / (max(1.0, abs(a)) if k == "e" else scale[k])
        worst[k] = max(worst.get(k, 0.0), d)
    return worst


def main():
    tol, label = float(sys.argv[3]), sys.argv[4]
    try:
        ref, got = numbers(sys.argv[1]), numbers(sys.argv[2])
    except OSError as e:
        print(f"{label}: FAIL ({e})")
        return 1
    d = differences(ref, got)
    if d is None:
        print(f"{label}: FAIL (different layouts: {len(ref)} vs {len(got)} values)")
        return 1
    worst = max(d.values())
    print(f"{label}: {len(ref)} values, worst relative difference {worst:.2e} (limit {tol:g}) ->",
          "PASS" if worst <= tol else "FAIL")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
