"""Compare energies, forces and PlusStress of two .cfg files written by `mlpot eval`.
Usage: compare_cfg.py REF.cfg GOT.cfg TOLERANCE LABEL  (relative, floor 1 for forces/stress)."""
import sys


def numbers(path):
    vals, take = [], None
    for line in open(path):
        s = line.split()
        if not s:
            continue
        if s[0] in ("Energy", "PlusStress:"):
            take = "next"
            continue
        if s[0].startswith("AtomData"):
            cols = s[1:]
            take = "atoms"
            continue
        if s[0] in ("END_CFG", "Feature", "BEGIN_CFG", "Size", "Supercell"):
            take = None
            continue
        if take == "atoms":
            vals += [float(s[cols.index(c)]) for c in ("fx", "fy", "fz")]
        elif take == "next":
            vals += [float(v) for v in s]
            take = None
    return vals


ref, got, tol, label = numbers(sys.argv[1]), numbers(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
if len(ref) != len(got) or not ref:
    print(f"{label}: FAIL (different sizes {len(ref)} vs {len(got)})")
    sys.exit(1)
worst = max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(ref, got))
print(f"{label}: {len(ref)} values, worst relative difference {worst:.2e} (limit {tol:g}) ->",
      "PASS" if worst <= tol else "FAIL")
sys.exit(0 if worst <= tol else 1)
