"""LAMMPS `run 0` with mtp/kk (or mace/kk, periodic graph) against mlpot's own result for the
same structure: energy, forces (per atom, by id) and the virial, relative to their size (floor 1).
Usage: lammps_check.py --lmp LMP --plugin-dir DIR --model M.mtp|M-lammps.pt --cfg IN.cfg --ref REF.cfg
       --kokkos "g 1" | "t 2" --tol 1e-10 [--device cuda|cpu] [--atom-virials-out F] [--atom-virials-ref F]
       [--graph periodic|messages] [--ranks N]
REF.cfg is `mlpot eval` output for IN.cfg (Energy, fx fy fz, PlusStress). A model ending in .pt
is MACE (`pair_style mace FILE device D periodic`; with --graph messages the native engine's
message passing between layers, on --ranks MPI ranks through mpirun), otherwise MTP. The per-atom virials
(compute stress/atom, eV, xx yy zz xy xz yz by id) must sum to the global virial, and so must
MTP's centroid form (compute centroid/stress/atom); --atom-virials-out
writes them (prepare.sh: the CPU's), --atom-virials-ref compares with such a file (the GPU's)."""
import argparse
import os

import numpy as np
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from main_job import write_data  # noqa: E402
from compare_cfg import differences, numbers  # noqa: E402

NKTV2P = 1.6021765e6  # metal units: eV/A^3 -> bar


def dump_columns(path):
    """The columns after id of a one-frame dump written with `dump_modify sort id`."""
    lines = Path(path).read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS")) + 1
    return np.array([[float(v) for v in l.split()[1:]] for l in lines[start:]])


def main():
    ap = argparse.ArgumentParser()
    for k in ("lmp", "plugin-dir", "model", "cfg", "ref"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--kokkos", default="g 1")
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--device", default="cuda", help="MACE: where the model runs")
    ap.add_argument("--engine", default="auto", help="MACE: auto, native or torch (pair_style mace ... engine E)")
    ap.add_argument("--atom-virials-out", help="write the per-atom virials here")
    ap.add_argument("--atom-virials-ref", help="compare the per-atom virials with this file")
    ap.add_argument("--graph", default="periodic", choices=["periodic", "messages"], help="MACE's graph in LAMMPS")
    ap.add_argument("--ranks", type=int, default=1, help="MPI ranks (mpirun), all on the one GPU")
    a = ap.parse_args()
    mace = a.model.endswith(".pt")
    graph = "periodic" if a.graph == "periodic" else ""
    style = (f"pair_style mace {Path(a.model).resolve()} device {a.device} {graph} engine {a.engine}" if mace
             else f"pair_style mtp {Path(a.model).resolve()} elements H Li C O F P")
    ref = numbers(a.ref)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "in.data"
        write_data(a.cfg, data)
        centroid_lines = "" if mace else (
            "compute cs all centroid/stress/atom NULL virial\n"
            "dump cs all custom 1 centroid.dump id " + " ".join(f"c_cs[{k}]" for k in range(1, 10)) + "\n"
            "dump_modify cs sort id format float %.17g\n")
        (tmp / "in.lammps").write_text(f"""units metal
atom_style atomic
atom_modify map yes
read_data {data}
{style}
pair_coeff * * H Li C O F P
compute p all pressure NULL virial
compute sa all stress/atom NULL virial
dump sa all custom 1 stress.dump id c_sa[1] c_sa[2] c_sa[3] c_sa[4] c_sa[5] c_sa[6]
dump_modify sa sort id format float %.17g
{centroid_lines}thermo_style custom step pe c_p[1] c_p[2] c_p[3] c_p[4] c_p[5] c_p[6] vol
thermo_modify format float %.17g
dump d all custom 1 forces.dump id fx fy fz
dump_modify d sort id format float %.17g
run 0
""")
        env = dict(os.environ, LAMMPS_PLUGIN_PATH=str(Path(a.plugin_dir).resolve()), OMP_PROC_BIND="false")
        cmd = [str(Path(a.lmp).resolve()), "-in", "in.lammps", "-log", "log.lammps", "-screen", "none", "-nocite", "-k", "on",
               *a.kokkos.split(), "-sf", "kk", "-pk", "kokkos", "newton", "on", "neigh", "half"]
        if a.ranks > 1:
            cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(a.ranks)] + cmd
        r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
        log = (tmp / "log.lammps").read_text(errors="replace") if (tmp / "log.lammps").exists() else ""
        if r.returncode != 0:
            print(f"lammps {'mace' if mace else 'mtp'}/kk run 0: FAIL", [l for l in (log + r.stderr).splitlines() if "ERROR" in l][-1:])
            return 1
        row = re.search(r"^\s+0(\s+\S+){8}\s*$", log, re.M).group(0).split()
        pe = float(row[1])
        vol = float(row[8])
        xx, yy, zz, xy, xz, yz = (float(v) * vol / NKTV2P for v in row[2:8])  # eV
        f = [float(v) for v in dump_columns(tmp / "forces.dump").ravel()]
        atom_w = -dump_columns(tmp / "stress.dump") / NKTV2P  # eV
        atom_cw = None if mace else -dump_columns(tmp / "centroid.dump") / NKTV2P
    # LAMMPS' results in the layout of REF.cfg (mlpot eval's): forces by id, energy, PlusStress.
    got = [("f", v) for v in f] + [("e", pe)] + [("s", v) for v in (xx, yy, zz, yz, xz, xy)]
    d = differences(ref, got)
    if d is None:
        print(f"lammps {'mace' if mace else 'mtp'}/kk run 0: FAIL (not the layout of {a.ref})")
        return 1
    de, df, dw = d["e"], d["f"], d["s"]
    ok = max(de, df) <= a.tol and dw <= max(a.tol, 1e-9)
    where = f"{a.kokkos}{', ' + a.graph if mace else ''}{f', {a.ranks} ranks' if a.ranks > 1 else ''}"
    print(f"lammps {'mace' if mace else 'mtp'}/kk run 0 ({where}) vs mlpot eval: energy {de:.1e}, forces {df:.1e}, virial {dw:.1e} "
          f"(limit {a.tol:g}) -> {'PASS' if ok else 'FAIL'}")
    w = np.array([xx, yy, zz, xy, xz, yz])
    dsum = np.abs(atom_w.sum(axis=0) - w).max() / max(1.0, np.abs(w).max())
    ok_sum = dsum <= max(a.tol, 1e-9)
    print(f"  per-atom virials sum to the global virial: {dsum:.1e} -> {'PASS' if ok_sum else 'FAIL'}")
    ok = ok and ok_sum
    if atom_cw is not None:
        w9 = w[[0, 1, 2, 3, 4, 5, 3, 4, 5]]  # yx zx zy of the symmetric global virial
        dcsum = np.abs(atom_cw.sum(axis=0) - w9).max() / max(1.0, np.abs(w9).max())
        ok_csum = dcsum <= max(a.tol, 1e-9)
        print(f"  centroid per-atom virials sum to the global virial: {dcsum:.1e} -> {'PASS' if ok_csum else 'FAIL'}")
        ok = ok and ok_csum
    if a.atom_virials_out:
        np.savetxt(a.atom_virials_out, atom_w, fmt="%.17g")
    if a.atom_virials_ref:
        w_ref = np.loadtxt(a.atom_virials_ref)
        dav = np.abs(atom_w - w_ref).max() / max(1.0, np.abs(w_ref).max()) if w_ref.shape == atom_w.shape else np.inf
        ok_av = dav <= a.tol
        print(f"  per-atom virials vs {Path(a.atom_virials_ref).name}: {dav:.1e} (limit {a.tol:g}) -> "
              f"{'PASS' if ok_av else 'FAIL'}")
        ok = ok and ok_av
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
