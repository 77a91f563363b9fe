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


ref, got, tol, label = numbers(sys.argv[1]), numbers(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
if len(ref) != len(got) or not ref:
    print(f"{label}: FAIL (different sizes {len(ref)} vs {len(got)})")
    sys.exit(1)
if [k for k, _ in ref] != [k for k, _ in got]:
    print(f"{label}: FAIL (different layouts)")
    sys.exit(1)
scale = {}
for k, v in ref:
    scale[k] = max(scale.get(k, 1.0), abs(v))
# Energies: each configuration against its own value.
worst = max(abs(a - b) / (max(1.0, abs(a)) if k == "e" else scale[k]) for (k, a), (_, b) in zip(ref, got))
print(f"{label}: {len(ref)} values, worst relative difference {worst:.2e} (limit {tol:g}) ->",
      "PASS" if worst <= tol else "FAIL")
sys.exit(0 if worst <= tol else 1)
