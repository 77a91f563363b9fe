"""The LAMMPS pair styles mtp, mtp/kk, mace and mace/kk driven through a real LAMMPS
(4Feb2025, KOKKOS/OpenMP, MPI) with mlpot's plugin, checked against the library's standalone
`mlpot eval`, across MPI rank counts, for energy conservation, per-atom sums, restarts and bad
input."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from mlpot_testlib import (Checks, mace_reference, motep_reference, random_mtp, random_structure,  # noqa: E402
                           read_cfg_results)

NKTV2P = 1.6021765e6  # metal units: eV/A^3 -> bar
# The bounds, each about 10x the worst this test measured on 2026-12-02 (docs/lammps.md), all
# relative to the largest value of the quantity:
# run 0 against mlpot eval (the same sums in another order), and MACE's per-atom virials
# against mace-torch's atomic_virials: worst 1.1e-14 (MTP forces), 7.9e-15 (variant per-atom virials).
RUN0_TOL = 1e-13
# LAMMPS' MTP styles against motep: worst 1.6e-14 (forces), per-atom energies 6.2e-15.
MOTEP_TOL = 1e-13
# MD across rank counts and styles after 100 (MTP) or 10 (MACE) steps: worst positions 5.3e-15 A,
# forces 1.2e-14, energy 1.0e-15.
MD_TOL = 1e-13
# precision mixed: run 0 against mlpot eval --precision mixed (the same float kernel), and the NVE
# drift bound docs/mtp.md states (eV/atom/step).
MIXED_RUN0_TOL = 1e-6
MIXED_DRIFT = 1e-8
# float32 MACE (seed model) through LAMMPS against mace-torch in float32: worst forces 1.6e-6,
# per-atom virials 1.0e-6, energy 3.4e-9.
F32_TOL = 1e-5
SYMBOLS = ["H", "Li", "C", "O", "F", "P"]
check = Checks()


def write_data(path, cell, pos, species, bonds=None, masses=None, velocities=None):
    """LAMMPS data file, atom types = model species + 1 for all six SEI elements. With `bonds`
    (pairs of 0-based atom indices): atom_style bond, one molecule, one bond type. `masses`: one
    per type instead of the defaults; `velocities` [n,3] in A/ps: a Velocities section."""
    a, b, c = (np.asarray(v, dtype=float).tolist() for v in cell)
    assert abs(a[1]) < 1e-12 and abs(a[2]) < 1e-12 and abs(b[2]) < 1e-12, "cell must be LAMMPS-triangular"
    counts = [f"{len(pos)} atoms", "6 atom types"]
    if bonds is not None:
        counts += [f"{len(bonds)} bonds", "1 bond types"]
    lines = ["mlpot test structure", ""] + counts + ["",
             f"0 {a[0]!r} xlo xhi", f"0 {b[1]!r} ylo yhi", f"0 {c[2]!r} zlo zhi",
             f"{b[0]!r} {c[0]!r} {c[1]!r} xy xz yz", "", "Masses", ""]
    masses = [1.008, 6.94, 12.011, 15.999, 18.998, 30.974] if masses is None else [float(m) for m in masses]
    mol = "" if bonds is None else " 1"
    lines += [f"{t + 1} {m}" for t, m in enumerate(masses)]
    lines += ["", "Atoms # atomic" if bonds is None else "Atoms # bond", ""]
    lines += [f"{i + 1}{mol} {int(s) + 1} {float(p[0])!r} {float(p[1])!r} {float(p[2])!r}"
              for i, (s, p) in enumerate(zip(species, pos))]
    if bonds is not None:
        lines += ["", "Bonds", ""] + [f"{k + 1} 1 {i + 1} {j + 1}" for k, (i, j) in enumerate(bonds)]
    if velocities is not None:
        lines += ["", "Velocities", ""] + [f"{i + 1} {float(v[0])!r} {float(v[1])!r} {float(v[2])!r}"
                                           for i, v in enumerate(velocities)]
    Path(path).write_text("\n".join(lines) + "\n")


def carbonate_bonds(cell, pos, species, r_max=1.45):
    """C-O pairs (species 2 and 3) closer than r_max under the minimum image: the carbonate bonds."""
    inv = np.linalg.inv(cell)
    out = []
    for i in np.flatnonzero(species == 2):
        for j in np.flatnonzero(species == 3):
            d = (pos[j] - pos[i]) @ inv
            d = (d - np.round(d)) @ cell
            if np.linalg.norm(d) < r_max:
                out.append((int(i), int(j)))
    return out


def write_cfg(path, cell, pos, species):
    out = ["BEGIN_CFG", " Size", f"    {len(pos)}", " Supercell"]
    out += ["    " + " ".join(repr(float(v)) for v in row) for row in cell]
    out.append(" AtomData:  id type cartes_x cartes_y cartes_z")
    out += [f"    {i + 1} {s} " + " ".join(repr(float(v)) for v in p) for i, (s, p) in enumerate(zip(species, pos))]
    out += ["END_CFG", ""]
    Path(path).write_text("\n".join(out))


def wrapper_without_model():
    """A TorchScript module with LAMMPS_MACE's metadata and forward signature but no inner
    'model' (zero energy and forces): what a hand-made or foreign export may look like."""
    import torch
    from typing import Dict, Optional

    class Wrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("r_max", torch.tensor(5.0, dtype=torch.float64))
            self.register_buffer("atomic_numbers", torch.tensor([1, 3, 6, 8, 9, 15]))
            self.register_buffer("num_interactions", torch.tensor(1))

        def forward(self, data: Dict[str, torch.Tensor], local_or_ghost: torch.Tensor,
                    compute_virials: bool = False) -> Dict[str, Optional[torch.Tensor]]:
            pos = data["positions"]
            return {"total_energy_local": torch.zeros(1, dtype=pos.dtype), "node_energy": torch.zeros_like(pos[:, 0]),
                    "forces": torch.zeros_like(pos), "virials": torch.zeros(1, 3, 3, dtype=pos.dtype)}

    return Wrapper()


class Lammps:
    def __init__(self, lmp, plugin_dir, workdir):
        self.lmp, self.plugin_dir, self.dir = lmp, plugin_dir, Path(workdir)

    def run(self, script, ranks=1, kokkos=False, name="in.lmp", timeout=600, kokkos_args=None):
        inp = self.dir / name
        inp.write_text(script)
        cmd = [self.lmp, "-in", str(inp), "-log", str(self.dir / (name + ".log")), "-screen", "none", "-nocite"]
        if kokkos:
            cmd += ["-k", "on", "t", "1", "-sf", "kk", "-pk", "kokkos", "newton", "on", "neigh", "half"] + (kokkos_args or [])
        if ranks > 1:
            cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks)] + cmd
        env = dict(os.environ, LAMMPS_PLUGIN_PATH=str(self.plugin_dir), OMP_NUM_THREADS="1", OMP_PROC_BIND="false")
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir, env=env, timeout=timeout)
        log = (self.dir / (name + ".log")).read_text() if (self.dir / (name + ".log")).exists() else ""
        return r, log + r.stdout + r.stderr


def values(text, key):
    return [float(v) for v in re.findall(rf"^{key} (\S+)", text, re.M)]


def run0_script(data, pair_style, pair_coeff, dump, pre=""):
    return f"""
units metal
atom_style atomic
{pre}
boundary p p p
read_data {data}
{pair_style}
{pair_coeff}
compute pe_atom all pe/atom
compute s_atom all stress/atom NULL virial
compute pe_sum all reduce sum c_pe_atom
compute s_sum all reduce sum c_s_atom[1] c_s_atom[2] c_s_atom[3] c_s_atom[4] c_s_atom[5] c_s_atom[6]
compute vir all pressure NULL virial
thermo_style custom step pe c_pe_sum
dump f all custom 1 {dump} id fx fy fz
dump_modify f format float %.17g sort id
run 0
print "ENERGY $(pe:%.17g)"
print "PESUM $(c_pe_sum:%.17g)"
print "VOL $(vol:%.17g)"
""" + "".join(f'print "VIR{k} $(c_vir[{k}]:%.17g)"\nprint "SSUM{k} $(c_s_sum[{k}]:%.17g)"\n' for k in range(1, 7))


def read_dump(path):
    """The per-atom columns after id of a one-frame dump (id first), in id order."""
    lines = Path(path).read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("ITEM: ATOMS"))
    rows = np.array([[float(v) for v in line.split()] for line in lines[k + 1:]])
    return rows[np.argsort(rows[:, 0])][:, 1:]


def compare_run0(lmp, label, data, cfg_results, pair_style, pair_coeff, ranks=1, kokkos=False, tol=RUN0_TOL,
                 per_atom_virial=True, pre="", atom_virial_ref=None, centroid=False, centroid_ref=None, motep_ref=None,
                 engine=None):
    """run 0 against mlpot eval's results; with `atom_virial_ref` ([n,3,3], mace-torch's
    atomic_virials) the per-atom virials of compute stress/atom against it too. With `centroid`
    (or a `centroid_ref` [n,9] from another run), compute centroid/stress/atom must sum to the
    global virial (and equal centroid_ref). With `motep_ref` (motep's energy, forces, virial
    xx yy zz xy xz yz and per-atom energies) the energy, forces, virial and compute pe/atom
    against motep, the independent MTP code. With `engine` (MACE: native or torch), the style's
    log line must name that engine. Returns (energy, forces, centroid virials or None)."""
    dump = lmp.dir / f"forces-{label.replace(' ', '_').replace('/', '_')}.dump"
    script = run0_script(data, pair_style, pair_coeff, dump, pre)
    dump_pe = lmp.dir / f"pe-{label.replace(' ', '_').replace('/', '_')}.dump"
    if motep_ref is not None:
        script = script.replace("run 0\n", f"dump pe all custom 1 {dump_pe} id c_pe_atom\n"
                                "dump_modify pe format float %.17g sort id\nrun 0\n")
    dump_av = lmp.dir / f"virials-{label.replace(' ', '_').replace('/', '_')}.dump"
    centroid = centroid or centroid_ref is not None
    dump_cv = lmp.dir / f"centroid-{label.replace(' ', '_').replace('/', '_')}.dump"
    if centroid:
        cols = " ".join(f"c_cs[{k}]" for k in range(1, 10))
        script = script.replace("run 0\n", f"compute cs all centroid/stress/atom NULL virial\n"
                                f"dump cv all custom 1 {dump_cv} id {cols}\n"
                                "dump_modify cv format float %.17g sort id\nrun 0\n")
    if atom_virial_ref is not None:
        cols = " ".join(f"c_s_atom[{k}]" for k in range(1, 7))
        script = script.replace("run 0\n", f"dump av all custom 1 {dump_av} id {cols}\n"
                                "dump_modify av format float %.17g sort id\nrun 0\n")
    if not per_atom_virial:
        script = script.replace("compute s_atom all stress/atom NULL virial\n", "").replace(
            "compute s_sum all reduce sum c_s_atom[1] c_s_atom[2] c_s_atom[3] c_s_atom[4] c_s_atom[5] c_s_atom[6]\n", "")
        script = "\n".join(l for l in script.splitlines() if "SSUM" not in l)
    r, out = lmp.run(script, ranks=ranks, kokkos=kokkos, name=f"run0-{label.replace(' ', '_').replace('/', '_')}.in")
    if r.returncode != 0 or not values(out, "ENERGY"):
        check(f"{label}: LAMMPS run 0", False, out[-1500:])
        return None
    if engine:
        line = next((x for x in out.splitlines() if " engine (" in x), "")
        check(f"{label}: the {engine} engine runs it", f": {engine} engine (" in line, line)
    e = values(out, "ENERGY")[0]
    vol = values(out, "VOL")[0]
    w_lmp = np.array([values(out, f"VIR{k}")[0] for k in range(1, 7)]) * vol / NKTV2P  # xx yy zz xy xz yz
    ref = cfg_results
    ps = np.array(ref["plus_stress"])  # xx yy zz yz xz xy
    w_ref = np.array([ps[0], ps[1], ps[2], ps[5], ps[4], ps[3]])
    f = read_dump(dump)
    de = abs(e - ref["energy"]) / abs(ref["energy"])
    df = np.abs(f - ref["forces"]).max() / max(1.0, np.abs(ref["forces"]).max())
    dw = np.abs(w_lmp - w_ref).max() / max(1.0, np.abs(w_ref).max())
    check(f"{label}: run 0 equals mlpot eval", de < tol and df < tol and dw < tol,
          f"rel. energy {de:.1e}, forces {df:.1e}, virial {dw:.1e}")
    if motep_ref is not None:
        em, fm, wm, eam = motep_ref
        pe_atom = read_dump(dump_pe)[:, 0]
        dem = abs(e - em) / abs(em)
        dfm = np.abs(f - fm).max() / max(1.0, np.abs(fm).max())
        dwm = np.abs(w_lmp - wm).max() / max(1.0, np.abs(wm).max())
        deam = np.abs(pe_atom - eam).max() / max(1.0, np.abs(eam).max())
        check(f"{label}: run 0 equals motep (energy, forces, virial, per-atom energies)",
              max(dem, dfm, dwm, deam) < MOTEP_TOL and np.ptp(eam) > 1e-3,
              f"rel. energy {dem:.1e}, forces {dfm:.1e}, virial {dwm:.1e}, per-atom energies {deam:.1e}")
    pesum = values(out, "PESUM")[0]
    check(f"{label}: per-atom energies sum to the total", abs(pesum - e) <= tol * abs(e), f"{pesum!r} vs {e!r}")
    if per_atom_virial:
        ssum = np.array([values(out, f"SSUM{k}")[0] for k in range(1, 7)])
        pv = np.array([values(out, f"VIR{k}")[0] for k in range(1, 7)]) * vol
        check(f"{label}: per-atom virials sum to the global virial",
              np.abs(ssum + pv).max() <= tol * max(1.0, np.abs(pv).max()), f"max diff {np.abs(ssum + pv).max():.2e}")
    if atom_virial_ref is not None:
        w = -read_dump(dump_av) / NKTV2P  # stress/atom is -virial in bar A^3
        a = atom_virial_ref
        w_ref = np.stack([a[:, 0, 0], a[:, 1, 1], a[:, 2, 2], a[:, 0, 1], a[:, 0, 2], a[:, 1, 2]], axis=1)
        dav = np.abs(w - w_ref).max() / max(1.0, np.abs(w_ref).max())
        check(f"{label}: per-atom virials equal mace-torch's atomic_virials", dav < tol and np.abs(w_ref).max() > 1e-3,
              f"rel. {dav:.1e} (max |W_i| {np.abs(w_ref).max():.3g} eV)")
    cv = None
    if centroid:
        cv = -read_dump(dump_cv) / NKTV2P  # eV: xx yy zz xy xz yz yx zx zy
        w9 = w_lmp[[0, 1, 2, 3, 4, 5, 3, 4, 5]]
        dsum = np.abs(cv.sum(axis=0) - w9).max() / max(1.0, np.abs(w9).max())
        check(f"{label}: centroid per-atom virials sum to the global virial", dsum < max(tol, 1e-9),
              f"rel. {dsum:.1e}")
        if centroid_ref is not None:
            dcv = np.abs(cv - centroid_ref).max() / max(1.0, np.abs(centroid_ref).max())
            check(f"{label}: centroid per-atom virials equal the 1-rank mtp run's", dcv < tol,
                  f"rel. {dcv:.1e} (max {np.abs(centroid_ref).max():.3g} eV)")
    return e, f, cv


def as_cfg_results(energy, forces, virial):
    """A reference (virial [3,3]) in the form read_cfg_results gives mlpot eval's results."""
    w = np.asarray(virial)
    return {"energy": energy, "forces": forces, "plus_stress": [w[0, 0], w[1, 1], w[2, 2], w[1, 2], w[0, 2], w[0, 1]]}


def li2co3_cells(mlpot, cells, path):
    """`mlpot build li2co3 --cells CELLS` read back: cell, species, positions."""
    subprocess.run([mlpot, "build", "li2co3", "--cells", cells, "--out", path], check=True, capture_output=True)
    lines = Path(path).read_text().splitlines()
    n = int(lines[2])
    cell = np.array([[float(v) for v in lines[k].split()] for k in (4, 5, 6)])
    atoms = [l.split() for l in lines[8:8 + n]]
    return cell, np.array([int(a[1]) for a in atoms]), np.array([[float(v) for v in a[2:5]] for a in atoms])


def md_final(lmp, data, pair_style, pair_coeff, steps, ranks=1, kokkos=False, name="md", pre=""):
    """NVE from 300 K: (unwrapped positions, forces, potential energy) after `steps`, or None."""
    final = lmp.dir / f"{name}.final"
    script = md_script(data, pair_style, pair_coeff, steps, thermo=steps,
                       extra=f"write_dump all custom {final} id xu yu zu fx fy fz modify format float %.17g sort id")
    r, out = lmp.run(pre + "\n" + script, ranks=ranks, kokkos=kokkos, name=f"{name}.in")
    pe = values(out, "FINALPE")
    if r.returncode != 0 or not pe or not final.exists():
        check(f"{name}: LAMMPS MD run", False, out[-1500:])
        return None
    cols = read_dump(final)
    return cols[:, 0:3], cols[:, 3:6], pe[0]


def check_nve_drift(lmp, label, data, pair_style, pair_coeff, n_atoms, bound, name):
    """2000 NVE steps of 0.5 fs from 300 K on 2 ranks (Kokkos): the total energy's drift, a linear
    fit, per atom and step below `bound` (eV), the relative figure reported too (the synthetic
    models' energy zero is arbitrary). Returns LAMMPS' result and output."""
    r, out = lmp.run(md_script(data, pair_style, pair_coeff, 2000, thermo=10), ranks=2, kokkos=True, name=name)
    et = thermo_etotal(out)
    if r.returncode == 0 and len(et) == 201:
        et = np.array(et)
        slope = np.polyfit(np.arange(len(et)) * 10, et, 1)[0]
        per_atom = abs(slope) / n_atoms
        check(f"{label} NVE, 2000 steps of 0.5 fs at 300 K: drift < {bound:g} eV/atom/step", per_atom < bound,
              f"drift {per_atom:.2e} eV/atom/step = {abs(slope) / abs(et[0]):.2e} of |E| per step, "
              f"std(E) {np.std(et):.2e} eV, |E| {abs(et[0]):.4g} eV")
    else:
        check(f"{label} NVE run", False, out[-1500:])
    return r, out


def thermo_etotal(out):
    """The total energies of md_script's thermo lines (step pe ke etotal) in a LAMMPS log."""
    et = []
    for line in out.splitlines():
        w = line.split()
        if len(w) == 4 and w[0].isdigit():
            try:
                et.append(float(w[3]))
            except ValueError:
                pass
    return et


def compare_md(label, got, ref, tol):
    """Positions (A, absolute), forces (relative to the largest) and energy after MD, against `ref`."""
    if got is None or ref is None:
        check(label, False, "a run failed")
        return
    dx = np.abs(got[0] - ref[0]).max()
    df = np.abs(got[1] - ref[1]).max() / max(1.0, np.abs(ref[1]).max())
    de = abs(got[2] - ref[2]) / abs(ref[2])
    check(label, dx < tol and df < tol and de < tol and len(got[0]) == len(ref[0]),
          f"positions {dx:.1e} A, forces {df:.1e}, energy {de:.1e} (relative)")


def md_script(data, pair_style, pair_coeff, steps, dt=0.0005, temp=300.0, thermo=1, extra=""):
    return f"""
units metal
atom_style atomic
boundary p p p
read_data {data}
{pair_style}
{pair_coeff}
velocity all create {temp} 4928459 loop geom
timestep {dt}
fix 1 all nve
thermo_style custom step pe ke etotal
thermo_modify format float %.15g
thermo {thermo}
run {steps}
print "FINALPE $(pe:%.17g)"
print "FINALETOT $(etotal:%.17g)"
{extra}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmp", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    for k in ("lmp", "plugin_dir", "mlpot", "templates", "models"):
        setattr(args, k, str(Path(getattr(args, k)).resolve()))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lmp = Lammps(args.lmp, args.plugin_dir, tmp)
        mlpot = args.mlpot
        # Model and structures: synthetic level-16 MTP; Li2CO3 2x2x2 (192 atoms), displaced, plus
        # one atom of each of H, F, P so all six species are exercised.
        mtp = tmp / "syn16.mtp"
        subprocess.run([mlpot, "make-model", "--template", f"{args.templates}/16.almtp", "--out", mtp], check=True,
                       capture_output=True)
        cell, species, pos = li2co3_cells(mlpot, "2x2x2", tmp / "li.cfg")
        rng = np.random.default_rng(3)
        pos = pos + rng.normal(0, 0.05, pos.shape)
        species[[5, 50, 100]] = [0, 4, 5]
        data, cfg = tmp / "li.data", tmp / "li-ref.cfg"
        write_data(data, cell, pos, species)
        write_cfg(cfg, cell, pos, species)
        r = subprocess.run([mlpot, "eval", "--model", mtp, "--input", cfg, "--output", tmp / "mtp-ref.cfg"],
                           capture_output=True, text=True)
        check("mlpot eval reference (MTP)", r.returncode == 0, r.stderr)
        ref_mtp = read_cfg_results(tmp / "mtp-ref.cfg")[0]
        ps_mtp = f"pair_style mtp {mtp} elements H Li C O F P"
        pc_mtp = "pair_coeff * * H Li C O F P"
        e_m, f_m, ps_m, ea_m = motep_reference(mtp, cell, pos, species)
        motep_ref = (e_m, f_m, ps_m[[0, 1, 2, 5, 4, 3]], ea_m)  # virial as LAMMPS orders it: xx yy zz xy xz yz

        # MTP: run 0 against mlpot eval, CPU and Kokkos, 1 and 4 ranks; species by index too.
        # compute centroid/stress/atom (the library's form is checked against finite differences of
        # the site energies in test_mtp_kernel): the same on every rank count and style.
        cv_mtp = (compare_run0(lmp, "mtp", data, ref_mtp, ps_mtp, pc_mtp, centroid=True, motep_ref=motep_ref)
                  or (None,) * 3)[2]
        compare_run0(lmp, "mtp (species indices)", data, ref_mtp, f"pair_style mtp {mtp}", "pair_coeff * * 0 1 2 3 4 5")
        compare_run0(lmp, "mtp/kk", data, ref_mtp, ps_mtp, pc_mtp, kokkos=True, centroid_ref=cv_mtp, motep_ref=motep_ref)
        for ranks in (2, 4):
            compare_run0(lmp, f"mtp -np {ranks}", data, ref_mtp, ps_mtp, pc_mtp, ranks=ranks, centroid_ref=cv_mtp,
                         motep_ref=motep_ref)
            compare_run0(lmp, f"mtp/kk -np {ranks}", data, ref_mtp, ps_mtp, pc_mtp, ranks=ranks, kokkos=True,
                         centroid_ref=cv_mtp, motep_ref=motep_ref)
        # The styles' backend keyword: mtp on the Serial and OpenMP kernels, mace on the CPU device
        # named explicitly; a backend this build lacks is a LAMMPS error naming it.
        for backend in ("serial", "openmp"):
            compare_run0(lmp, f"mtp backend {backend}", data, ref_mtp, ps_mtp + f" backend {backend}", pc_mtp,
                         motep_ref=motep_ref)
        compare_run0(lmp, "mtp/kk -np 2 backend default", data, ref_mtp, ps_mtp + " backend default", pc_mtp, ranks=2,
                     kokkos=True)

        # precision mixed (docs/mtp.md, "Mixed precision"): run 0 of mtp and mtp/kk on 1 and 2 ranks
        # against mlpot eval --precision mixed. The same float kernel, but LAMMPS' lists hold the
        # neighbours in another order, so the float sums of the moments round differently
        # (~1e-7).
        r = subprocess.run([mlpot, "eval", "--model", mtp, "--input", cfg, "--output", tmp / "mtp-mixed.cfg",
                            "--precision", "mixed"], capture_output=True, text=True)
        check("mlpot eval reference (MTP, precision mixed)", r.returncode == 0, r.stderr)
        ref_mixed = read_cfg_results(tmp / "mtp-mixed.cfg")[0]
        for ranks in (1, 2):
            for kk in (False, True):
                compare_run0(lmp, f"mtp{'/kk' if kk else ''} -np {ranks} precision mixed", data, ref_mixed,
                             ps_mtp + " precision mixed", pc_mtp, ranks=ranks, kokkos=kk, tol=MIXED_RUN0_TOL)

        # Under pair_style hybrid/overlay (how MTP users add ZBL or other short-range terms), with
        # a zero lj/cut beside it: the same results.
        ps_hybrid = f"pair_style hybrid/overlay mtp {mtp} elements H Li C O F P lj/cut 3.0"
        pc_hybrid = "pair_coeff * * mtp H Li C O F P\npair_coeff * * lj/cut 0.0 1.0"
        compare_run0(lmp, "hybrid/overlay mtp + zero lj/cut", data, ref_mtp, ps_hybrid, pc_hybrid)
        compare_run0(lmp, "hybrid/overlay/kk mtp/kk + zero lj/cut/kk -np 2", data, ref_mtp, ps_hybrid, pc_hybrid,
                     ranks=2, kokkos=True)

        # The syntax of MLIP-3's and MLIP-2's own LAMMPS interfaces (pair_style mlip, types map to
        # species t-1 with pair_coeff * *) and of lammps-mtp-kokkos (chunksize): the same results.
        ps_mlip3 = f"pair_style mlip load_from={mtp}"
        compare_run0(lmp, "mlip (MLIP-3 syntax)", data, ref_mtp, ps_mlip3, "pair_coeff * *")
        compare_run0(lmp, "mlip/kk (MLIP-3 syntax) -np 2", data, ref_mtp, ps_mlip3, "pair_coeff * *", ranks=2,
                     kokkos=True)
        ini = tmp / "mlip.ini"
        ini.write_text(f"# MLIP-2 settings\nmtp-filename  {mtp}\ncalculate-efs TRUE\nselect FALSE\n")
        compare_run0(lmp, "mlip (MLIP-2 mlip.ini)", data, ref_mtp, f"pair_style mlip {ini}", "pair_coeff * *")
        compare_run0(lmp, "mtp/kk chunksize (lammps-mtp-kokkos syntax)", data, ref_mtp,
                     f"pair_style mtp {mtp} chunksize 32768", "pair_coeff * *", kokkos=True)

        # Every other radial basis MLIP-3 evaluates (test_radial_bases holds mlpot eval to MLIP-3's
        # formulas for each): run 0 of mtp/kk on 2 ranks and of MLIP-3's pair_style mlip against
        # mlpot eval. min_dist 1.35 A puts the C-O bonds (1.28 A) inside the repulsive branch.
        for basis in ("RBChebyshev_repuls", "BChebyshev", "BChebyshev_repuls", "RBShapeev", "RBTaylor"):
            mtp_b = tmp / f"{basis}.mtp"
            mtp_b.write_text(random_mtp(Path(args.templates) / "08.almtp", 6, rng, min_dist=1.35,
                                        scaling=1e-3 if basis == "RBTaylor" else 0.05, radial_basis_type=basis))
            r = subprocess.run([mlpot, "eval", "--model", mtp_b, "--input", cfg, "--output", tmp / f"{basis}.cfg"],
                               capture_output=True, text=True)
            check(f"mlpot eval reference ({basis})", r.returncode == 0, r.stderr)
            ref_b = read_cfg_results(tmp / f"{basis}.cfg")[0]
            compare_run0(lmp, f"mtp/kk -np 2, {basis}", data, ref_b, f"pair_style mtp {mtp_b} elements H Li C O F P",
                         pc_mtp, ranks=2, kokkos=True)
            compare_run0(lmp, f"mlip (MLIP-3 syntax), {basis}", data, ref_b, f"pair_style mlip load_from={mtp_b}",
                         "pair_coeff * *")

        # MTP: 100 MD steps on 1, 2 and 4 ranks give the same trajectory: positions, forces and the
        # energy after 100 steps against the 1-rank mtp run.
        finals = {}
        for ranks in (1, 2, 4):
            for kk in (False, True):
                finals[(ranks, kk)] = md_final(lmp, data, ps_mtp, pc_mtp, 100, ranks=ranks, kokkos=kk,
                                               name=f"md-{ranks}-{kk}")
        for key, got in finals.items():
            if key != (1, False):
                compare_md(f"mtp{'/kk' if key[1] else ''} 100 MD steps on {key[0]} rank(s) equal 1 rank (mtp)",
                           got, finals[(1, False)], MD_TOL)

        # NVE energy conservation: 2000 steps of 0.5 fs at 300 K, in double and (its drift
        # reported beside double's; docs/mtp.md, "Mixed precision") in precision mixed.
        r, _ = check_nve_drift(lmp, "mtp/kk", data, ps_mtp, pc_mtp, len(pos), 1e-8, "nve.in")
        check("mtp/kk NVE run: exit status 0", r.returncode == 0)
        check_nve_drift(lmp, "mtp/kk precision mixed", data, ps_mtp + " precision mixed", pc_mtp, len(pos), MIXED_DRIFT,
                        "nve-mixed.in")

        # Restart: continue from a restart file with the pair style given again.
        r, out = lmp.run(md_script(data, ps_mtp, pc_mtp, 20, thermo=20, extra="write_restart li.restart"),
                         name="restart-a.in")
        e_before = values(out, "FINALPE")
        r, out = lmp.run(f"""
read_restart li.restart
{ps_mtp}
{pc_mtp}
run 0
print "ENERGY $(pe:%.17g)"
""", name="restart-b.in")
        e_after = values(out, "ENERGY")
        check("mtp: energy after read_restart equals the energy written", bool(e_before) and bool(e_after)
              and abs(e_before[0] - e_after[0]) <= 1e-10 * abs(e_before[0]), f"{e_before} vs {e_after}")

        # MACE (float64 tiny model): run 0 against mlpot eval, CPU and Kokkos, 1, 2 and 4 ranks.
        mace = Path(args.models) / "tiny-float64-lammps.pt"
        # One LibTorch thread, as the LAMMPS runs here (OMP_NUM_THREADS=1): with two, about 1 run in
        # 20 of this float64 model on this cell gives forces 2.7e-10 (relative) from the others
        # (a CI failure on 2026-11-26, reproduced: docs/mace.md, "Precision").
        r = subprocess.run([mlpot, "eval", "--model", mace, "--input", cfg, "--output", tmp / "mace-ref.cfg",
                            "--threads", "1"], capture_output=True, text=True)
        check("mlpot eval reference (MACE)", r.returncode == 0, r.stderr)
        ref_mace = read_cfg_results(tmp / "mace-ref.cfg")[0]
        ps_mace = f"pair_style mace {mace}"
        pc_mace = "pair_coeff * * H Li C O F P"
        # Per-atom virials (compute stress/atom) against mace-torch's own atomic_virials on the
        # same model file: an edge's virial split between its two atoms, ghosts' shares reverse-
        # communicated across ranks.
        import torch
        av_tiny = mace_reference(torch.jit.load(str(mace)), cell, pos, species, torch.float64, atomic_virials=True)[3]
        compare_run0(lmp, "mace", data, ref_mace, ps_mace, pc_mace, atom_virial_ref=av_tiny, engine="native")
        # And against mace-torch's own evaluation of the file directly, not through mlpot eval.
        ref_torch = as_cfg_results(*mace_reference(torch.jit.load(str(mace)), cell, pos, species, torch.float64)[:3])
        compare_run0(lmp, "mace/kk -np 2 vs mace-torch", data, ref_torch, ps_mace, pc_mace, ranks=2, kokkos=True,
                     atom_virial_ref=av_tiny)
        compare_run0(lmp, "mace/kk", data, ref_mace, ps_mace, pc_mace, kokkos=True, atom_virial_ref=av_tiny)
        compare_run0(lmp, "mace device cpu", data, ref_mace, ps_mace + " device cpu", pc_mace, atom_virial_ref=av_tiny)
        # The engine keyword: the styles run the native engine by default (auto, on the CPU); the
        # LibTorch runner and the native engine named explicitly give the same run 0.
        compare_run0(lmp, "mace engine torch", data, ref_mace, ps_mace + " engine torch", pc_mace,
                     atom_virial_ref=av_tiny, engine="torch")
        compare_run0(lmp, "mace/kk -np 2 engine native vs mace-torch", data, ref_torch, ps_mace + " engine native",
                     pc_mace, ranks=2, kokkos=True, atom_virial_ref=av_tiny, engine="native")
        compare_run0(lmp, "mace/kk engine torch", data, ref_mace, ps_mace + " engine torch", pc_mace, kokkos=True,
                     atom_virial_ref=av_tiny, engine="torch")
        compare_run0(lmp, "mace -np 2", data, ref_mace, ps_mace, pc_mace, ranks=2, atom_virial_ref=av_tiny)
        compare_run0(lmp, "mace/kk -np 2", data, ref_mace, ps_mace, pc_mace, ranks=2, kokkos=True, atom_virial_ref=av_tiny)
        compare_run0(lmp, "mace -np 4", data, ref_mace, ps_mace, pc_mace, ranks=4, atom_virial_ref=av_tiny)
        compare_run0(lmp, "mace/kk -np 4", data, ref_mace, ps_mace, pc_mace, ranks=4, kokkos=True, atom_virial_ref=av_tiny)
        # A molecular system (atom_style bond, the carbonates' C-O bonds): LAMMPS leaves bonded
        # pairs out of the neighbour lists under special_bonds 0.0 (its default), which would give
        # a many-body model a wrong environment without a word; every style refuses it. With 1.0
        # the lists are whole; with 0.5 LAMMPS keeps bonded pairs but marks their indices with
        # special bits, which the styles must mask: both equal the atomic run.
        bonds = carbonate_bonds(cell, pos, species)
        data_bonded = tmp / "li-bonded.data"
        write_data(data_bonded, cell, pos, species, bonds=bonds)
        n_c = int((species == 2).sum())
        check("carbonate bonds found", 3 * n_c - 3 <= len(bonds) <= 3 * n_c, f"{len(bonds)} C-O bonds, {n_c} C")
        pre_bonded = "atom_style bond\nbond_style zero"
        bc = "\nbond_coeff *"  # after read_data, with the pair_coeff lines
        for label, ps, pc, kk in (("mtp", ps_mtp, pc_mtp + bc, False), ("mtp/kk", ps_mtp, pc_mtp + bc, True),
                                  ("mace", ps_mace, pc_mace + bc, False), ("mace/kk", ps_mace, pc_mace + bc, True)):
            r, out = lmp.run(f"units metal\n{pre_bonded}\nread_data {data_bonded}\n{ps}\n{pc}\nrun 0\n",
                             kokkos=kk, name=f"bonded-default-{label.replace('/', '_')}.in")
            check(f"bad input: {label} with bonds and special_bonds 0.0 (LAMMPS' default)",
                  r.returncode != 0 and "special_bonds lj/coul 1.0 1.0 1.0" in out,
                  " | ".join(l for l in out.splitlines() if "ERROR" in l)[:300])
        for weights in ("1.0 1.0 1.0", "0.5 0.5 0.5"):
            sb = f"special_bonds lj/coul {weights}\n"
            compare_run0(lmp, f"mtp/kk -np 2, bonds, special_bonds {weights}", data_bonded, ref_mtp, sb + ps_mtp,
                         pc_mtp + bc, ranks=2, kokkos=True, pre=pre_bonded)
            compare_run0(lmp, f"mace, bonds, special_bonds {weights}", data_bonded, ref_mace, sb + ps_mace, pc_mace + bc,
                         pre=pre_bonded, atom_virial_ref=av_tiny)
        compare_run0(lmp, "mtp, bonds, special_bonds 0.5 0.5 0.5", data_bonded, ref_mtp,
                     "special_bonds lj/coul 0.5 0.5 0.5\n" + ps_mtp, pc_mtp + bc, pre=pre_bonded)
        compare_run0(lmp, "mace/kk -np 2, bonds, special_bonds 0.5 0.5 0.5", data_bonded, ref_mace,
                     "special_bonds lj/coul 0.5 0.5 0.5\n" + ps_mace, pc_mace + bc, ranks=2, kokkos=True, pre=pre_bonded,
                     atom_virial_ref=av_tiny)
        # neigh_modify exclude drops pairs as well: allowed (it may be meant), with a warning.
        for label, kk in (("mtp", False), ("mtp/kk", True)):
            r, out = lmp.run(f"units metal\natom_style atomic\nread_data {data}\nneigh_modify exclude type 2 4\n"
                             f"{ps_mtp}\n{pc_mtp}\nrun 0\n", kokkos=kk, name=f"exclude-{label.replace('/', '_')}.in")
            check(f"{label} with neigh_modify exclude: runs, with a warning",
                  r.returncode == 0 and "WARNING: Pair style" in out and "neigh_modify exclude" in out,
                  " | ".join(l for l in out.splitlines() if "WARNING" in l or "ERROR" in l)[:300])
        # The same weights exported by older mace-torch releases (build/models/compat; their wrapper
        # and inner model differ, and the per-atom virials call the inner model directly):
        # test_mace_compat checks with mace-torch that these files give the current export's
        # results, so the current export's references apply.
        compat = sorted((Path(args.models) / "compat").glob("mace-*/tiny-float64-lammps.pt"))
        check("older mace-torch exports present", len(compat) >= 4, f"{len(compat)} in {Path(args.models) / 'compat'}")
        for old in compat:
            compare_run0(lmp, f"mace/kk -np 2 ({old.parent.name} export)", data, ref_mace, f"pair_style mace {old}",
                         pc_mace, ranks=2, kokkos=True, atom_virial_ref=av_tiny)
        # Beside another pair style (how MACE users add D3 dispersion or ZBL): hybrid/overlay with a
        # zero lj/cut, whose own neighbour list is half and 3 A, gives the same results.
        ps_mace_hybrid = f"pair_style hybrid/overlay mace {mace} lj/cut 3.0"
        pc_mace_hybrid = "pair_coeff * * mace H Li C O F P\npair_coeff * * lj/cut 0.0 1.0"
        compare_run0(lmp, "hybrid/overlay mace + zero lj/cut", data, ref_mace, ps_mace_hybrid, pc_mace_hybrid,
                     atom_virial_ref=av_tiny)
        compare_run0(lmp, "hybrid/overlay/kk mace/kk + zero lj/cut/kk -np 2", data, ref_mace, ps_mace_hybrid,
                     pc_mace_hybrid, ranks=2, kokkos=True, atom_virial_ref=av_tiny)
        # The variant model (models/make_mace_models.py): 3 interactions of r_max 6 A, so an 18 A
        # ghost shell across the ranks, and 7 elements (Na 6th, P 7th), mapped by element name.
        # On a sparse 14-atom cell: with the 192-atom one, the 2-rank run was killed for memory on
        # these 24 GB machines.
        variant = Path(args.models) / "variant-float64-lammps.pt"
        sparse_cell = np.diag([7.1, 6.8, 7.4])
        sparse_pos, sparse_species = random_structure(rng, sparse_cell, 14, min_dist=1.2)
        data_sparse, cfg_variant = tmp / "sparse.data", tmp / "sparse-variant.cfg"
        write_data(data_sparse, sparse_cell, sparse_pos, sparse_species)
        write_cfg(cfg_variant, sparse_cell, sparse_pos, np.where(sparse_species == 5, 6, sparse_species))
        # The reference from the LibTorch runner (the styles run the native engine: auto), on one
        # LibTorch thread: the variant's float64 results can vary with two (test_mace_parity).
        r = subprocess.run([mlpot, "eval", "--model", variant, "--input", cfg_variant, "--output",
                            tmp / "variant-ref.cfg", "--threads", "1", "--mace-engine", "torch"],
                           capture_output=True, text=True)
        check("mlpot eval reference (MACE variant)", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            ref_variant = read_cfg_results(tmp / "variant-ref.cfg")[0]
            av_variant = mace_reference(torch.jit.load(str(variant)), sparse_cell, sparse_pos,
                                        np.where(sparse_species == 5, 6, sparse_species), torch.float64,
                                        atomic_virials=True)[3]
            for label, kk in (("mace -np 2 (variant model)", False), ("mace/kk -np 2 (variant model)", True)):
                compare_run0(lmp, label, data_sparse, ref_variant, f"pair_style mace {variant}", pc_mace, ranks=2,
                             kokkos=kk, atom_virial_ref=av_variant, engine="native")
        # mace-torch's LAMMPS syntax: the model file in pair_coeff, no_domain_decomposition for
        # the periodic graph.
        pc_acesuit = f"pair_coeff * * {mace} H Li C O F P"
        compare_run0(lmp, "mace (mace-torch syntax)", data, ref_mace, "pair_style mace", pc_acesuit,
                     atom_virial_ref=av_tiny)
        compare_run0(lmp, "mace (mace-torch syntax, pair_coeff given twice)", data, ref_mace, "pair_style mace",
                     pc_acesuit + "\n" + pc_acesuit, atom_virial_ref=av_tiny)
        compare_run0(lmp, "mace/kk (mace-torch syntax) -np 2", data, ref_mace, "pair_style mace", pc_acesuit,
                     ranks=2, kokkos=True, atom_virial_ref=av_tiny)
        compare_run0(lmp, "mace no_domain_decomposition (mace-torch syntax)", data, ref_mace,
                     "pair_style mace no_domain_decomposition", pc_acesuit, atom_virial_ref=av_tiny,
                     pre="atom_modify map yes")
        compare_run0(lmp, "mace/kk no_domain_decomposition (mace-torch syntax)", data, ref_mace,
                     "pair_style mace no_domain_decomposition", pc_acesuit, kokkos=True, atom_virial_ref=av_tiny,
                     pre="atom_modify map yes")
        compare_run0(lmp, "mace periodic", data, ref_mace, ps_mace + " periodic", pc_mace, atom_virial_ref=av_tiny,
                     pre="atom_modify map yes")
        compare_run0(lmp, "mace/kk periodic", data, ref_mace, ps_mace + " periodic", pc_mace, kokkos=True,
                     atom_virial_ref=av_tiny, pre="atom_modify map yes")
        # mace/kk periodic builds its graph with the Thrust builder from the local atoms and the box:
        # no atom map needed, one rank only.
        compare_run0(lmp, "mace/kk periodic without an atom map", data, ref_mace, ps_mace + " periodic", pc_mace,
                     kokkos=True, atom_virial_ref=av_tiny)
        # float32 through LAMMPS, the configuration the main job benchmarks: the seed architecture
        # (128x0e+128x1o, 1.04 M parameters), mace/kk periodic, on a 48-atom Li2CO3 cell, against
        # mace-torch's float32 evaluation of the same file, with its per-atom virials.
        seed = Path(args.models) / "seed-float32-lammps.pt"
        cell48, species48, pos48 = li2co3_cells(mlpot, "1x2x1", tmp / "li48.cfg")
        pos48 = pos48 + rng.normal(0, 0.05, pos48.shape)
        data48 = tmp / "li48.data"
        write_data(data48, cell48, pos48, species48)
        e32, f32, w32, av32 = mace_reference(torch.jit.load(str(seed)), cell48, pos48, species48, torch.float32,
                                             atomic_virials=True)
        ref32 = as_cfg_results(e32, f32, w32)
        compare_run0(lmp, "mace/kk periodic, seed model float32, vs mace-torch", data48, ref32, ps_mace.replace(
            str(mace), str(seed)) + " periodic", pc_mace, kokkos=True, tol=F32_TOL, atom_virial_ref=av32)
        r, out = lmp.run(f"units metal\natom_style atomic\nread_data {data}\n{ps_mace} periodic\n{pc_mace}\nrun 0\n",
                         ranks=2, kokkos=True, name="mace-kk-periodic-2ranks.in")
        check("bad input: mace/kk periodic on 2 ranks", r.returncode != 0 and "runs on one MPI rank" in out,
              " | ".join(l for l in out.splitlines() if "ERROR" in l)[:300])
        pfin = {kk: md_final(lmp, data, ps_mace + " periodic", pc_mace, 10, kokkos=kk, name=f"mace-periodic-md-{kk}",
                             pre="atom_modify map yes") for kk in (False, True)}
        compare_md("mace periodic: 10 MD steps with mace/kk equal mace", pfin[True], pfin[False], MD_TOL)
        mfin = {ranks: md_final(lmp, data, ps_mace, pc_mace, 10, ranks=ranks, kokkos=ranks == 2, name=f"mace-md-{ranks}")
                for ranks in (1, 2)}
        compare_md("mace: 10 MD steps on 2 ranks (mace/kk) equal 1 rank (mace)", mfin[2], mfin[1], MD_TOL)
        compare_md("mace: 10 MD steps, ghost-node graph on 1 rank equal the periodic graph", mfin[1], pfin[False], MD_TOL)

        # Bad input: a LAMMPS error message, never a crash.
        def expect_error(label, pair_style, pair_coeff, needle, newton="on", kokkos=False, units="metal"):
            script = f"units {units}\natom_style atomic\nnewton {newton}\nread_data {data}\n" \
                     f"{pair_style}\n{pair_coeff}\nrun 0\n"
            r, out = lmp.run(script, name=f"bad-{check.count()}.in", kokkos=kokkos)
            ok = r.returncode != 0 and "ERROR" in out and needle in out and r.returncode > 0
            check(f"bad input: {label}", ok, f"rc {r.returncode}: " + " | ".join(
                l for l in out.splitlines() if "ERROR" in l)[:300])

        bad = tmp / "bad.mtp"
        bad.write_text(mtp.read_text().replace("version = 1.1.0", "version = 9"))
        expect_error("missing model file", f"pair_style mtp {tmp}/nope.mtp", pc_mtp, "cannot open")
        expect_error("malformed model file", f"pair_style mtp {bad}", pc_mtp, "version '9'")
        expect_error("wrong number of elements in pair_coeff", ps_mtp, "pair_coeff * * H Li C", "expected * * followed by 6")
        expect_error("element not in model (MTP)", f"pair_style mtp {mtp} elements H Li C O F P",
                     "pair_coeff * * H Li C O F Xe", "element 'Xe'")
        expect_error("species index outside the model", f"pair_style mtp {mtp}", "pair_coeff * * 0 1 2 3 4 6",
                     "species 6 for type 6")
        expect_error("newton off", ps_mtp, pc_mtp, "requires newton pair on", newton="off")
        expect_error("newton off (mtp/kk)", ps_mtp, pc_mtp, "requires newton pair on", newton="off", kokkos=True)
        expect_error("units real (mtp)", ps_mtp, pc_mtp, "requires 'units metal'", units="real")
        expect_error("units real (mtp/kk)", ps_mtp, pc_mtp, "this input uses 'units real'", units="real", kokkos=True)
        expect_error("units si (mace)", ps_mace, pc_mace, "requires 'units metal'", units="si")
        expect_error("element not in model (MACE)", ps_mace, "pair_coeff * * H Li C O F Cl", "element Cl")
        expect_error("mace periodic without an atom map", ps_mace + " periodic", pc_mace, "needs an atom map")
        expect_error("mtp backend not in this build", ps_mtp + " backend cuda", pc_mtp, "not available")
        expect_error("unknown mtp keyword", f"pair_style mtp {mtp} bogus 1", pc_mtp, "unknown keyword 'bogus'")
        expect_error("mtp precision single", f"pair_style mtp {mtp} precision single", pc_mtp,
                     "unknown MTP precision 'single'")
        expect_error("mtp/kk precision mixed with extrapolation",
                     f"pair_style mtp {mtp} precision mixed extrapolation {tmp / 'x.cfg'}", pc_mtp,
                     "precision mixed computes no extrapolation grades", kokkos=True)
        expect_error("mace device cuda on a machine without a GPU", ps_mace + " device cuda", pc_mace, "CUDA")
        expect_error("not a MACE model", f"pair_style mace {mtp}", pc_mace, "not a TorchScript")
        expect_error("unknown mace engine", ps_mace + " engine bogus", pc_mace,
                     "engine 'bogus' is not one of auto, native, torch")
        expect_error("engine native for a model it does not implement",
                     f"pair_style mace {Path(args.models) / 'beyond' / 'max_ell4-float64-lammps.pt'} engine native",
                     pc_mace, "spherical harmonics of max_ell 4 (above 3) is not supported")
        # A file with the wrapper's metadata but no MACE model inside: runs need only its forward,
        # per-atom virials need the inner model (mace_potential.cpp), and say so.
        no_inner = tmp / "no-inner-lammps.pt"
        torch.jit.script(wrapper_without_model()).save(str(no_inner))
        expect_error("per-atom virials from a wrapper without its model", f"pair_style mace {no_inner}",
                     pc_mace + "\ncompute sa all stress/atom NULL virial\ncompute ss all reduce sum c_sa[1]\n"
                     "thermo_style custom step c_ss", "per-atom virials need the MACE model inside")
        pickled = Path(args.models) / "tiny-float64.model"
        expect_error("pickled mace-torch model (mace)", f"pair_style mace {pickled}", pc_mace, "mace_create_lammps_model")
        expect_error("a MACE file given to mtp", f"pair_style mtp {mace} elements H Li C O F P", pc_mtp,
                     "the file is a zip archive")
        expect_error("mace-torch syntax without a model file", "pair_style mace", pc_mace,
                     "pair_style named no model file")
        expect_error("unknown pair_style mace keyword", "pair_style mace no_domain_decomposition bogus", pc_acesuit,
                     "unknown keyword 'bogus'")
        expect_error("unsupported MLIP-3 setting", f"pair_style mlip load_from={mtp} lotf=true", "pair_coeff * *",
                     "pair_style mlip lotf: not supported")
        bad_ini = tmp / "bad.ini"
        bad_ini.write_text(f"mtp-filename {mtp}\nselect FALSE\nfit TRUE\n")
        expect_error("unsupported MLIP-2 setting names the ini line", f"pair_style mlip {bad_ini}", "pair_coeff * *",
                     f"{bad_ini}:3: 'fit' is not supported")
        expect_error("MLIP-3 syntax without load_from", "pair_style mlip extrapolation_control=true", "pair_coeff * *",
                     "no load_from")
        mtp3 = tmp / "syn16-3sp.mtp"
        subprocess.run([mlpot, "make-model", "--template", f"{args.templates}/16.almtp", "--species", "3", "--out",
                        mtp3], check=True, capture_output=True)
        expect_error("pair_coeff * * with more atom types than species", f"pair_style mlip load_from={mtp3}",
                     "pair_coeff * *", "maps type t to species t-1, but there are 6 atom types")
        expect_error("centroid per-atom virials with MACE (no site terms)", ps_mace,
                     pc_mace + "\ncompute s all centroid/stress/atom NULL\ndump d all custom 1 x.dump c_s[1]",
                     "does not support compute centroid/stress/atom")

    return check.exit_status()


if __name__ == "__main__":
    sys.exit(main())
