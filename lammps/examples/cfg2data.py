"""Convert an mlpot/MLIP .cfg (one configuration, LAMMPS-triangular cell) into a LAMMPS data
file with six atom types H Li C O F P (type = MLIP species + 1).  Usage: cfg2data.py IN.cfg OUT.data"""
import sys

lines = open(sys.argv[1]).read().splitlines()
n = int(lines[2])
cell = [[float(v) for v in lines[k].split()] for k in (4, 5, 6)]
atoms = [l.split() for l in lines[8:8 + n]]
out = ["converted from " + sys.argv[1], "", f"{n} atoms", "6 atom types", "",
       f"0 {cell[0][0]!r} xlo xhi", f"0 {cell[1][1]!r} ylo yhi", f"0 {cell[2][2]!r} zlo zhi",
       f"{cell[1][0]!r} {cell[2][0]!r} {cell[2][1]!r} xy xz yz", "", "Masses", ""]
out += [f"{t + 1} {m}" for t, m in enumerate([1.008, 6.94, 12.011, 15.999, 18.998, 30.974])]
out += ["", "Atoms # atomic", ""] + [f"{a[0]} {int(a[1]) + 1} {a[2]} {a[3]} {a[4]}" for a in atoms]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
