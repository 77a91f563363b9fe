"""mlpot.Calculator (python/mlpot) against independent references, through ASE:

- MTP against motep's own ASE calculator (random-coefficient potentials, six SEI elements) and
  against `mlpot eval` of the same structure, on periodic, triclinic, slab and non-periodic Atoms;
- MACE (both engines) against mace-torch's MACECalculator on the eager `.model` files;
- finite differences of the energy for forces and stress (ase.calculators.fd);
- extrapolation grades against `mlpot grade`;
- 200 steps of ASE's VelocityVerlet against LAMMPS' fix nve with the same model, start and masses;
- bad input raising Python exceptions with mlpot's messages (one check per case), after which the
  interpreter still evaluates.

Bounds about ten times the worst measured (docs/testing.md), relative to the largest component
(energy: relative): MTP 1e-13, MACE float64 1e-14, float32 3e-6 (the issue's bars: 1e-10, 1e-10, 1e-5).
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mlpot_testlib import Checks, random_mtp, read_cfg_results, run, write_cfg

MTP_TOL, MACE64_TOL, MACE32_TOL = 1e-13, 1e-14, 3e-6
CLI_TOL = 1e-14  # the same kernels as the CLI; a Verlet list may order the neighbours differently
MIXED_TOL = 1e-6  # precision="mixed" against the CLI's: the same float kernel, neighbours summed in float in another order
FD_FORCE_TOL, FD_STRESS_TOL = 1e-8, 1e-7  # central differences, eps 1e-5 A and 1e-6 strain
SYMBOLS = ["H", "Li", "C", "O", "F", "P"]
check = Checks()


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))


def test_structures(rng):
    """(name, Atoms): Li2CO3 displaced, a triclinic random cell, a slab periodic in x and y, a
    molecule-like cluster with no cell."""
    from ase import Atoms
    import mlpot
    out = []
    a = mlpot.li2co3(1, 1, 1)
    a.positions += rng.normal(0, 0.05, a.positions.shape)
    out.append(("li2co3", a))
    cell = np.array([[6.9, 0.0, 0.0], [1.7, 6.2, 0.0], [-1.2, 0.9, 6.6]])
    frac = np.array([[i / 2, j / 2, k / 3] for i in range(2) for j in range(2) for k in range(3)])
    pos = (frac + rng.normal(0, 0.03, frac.shape)) @ cell
    out.append(("triclinic", Atoms([SYMBOLS[t] for t in rng.integers(0, 6, len(pos))], positions=pos, cell=cell,
                                   pbc=True)))
    slab = mlpot.li2co3(1, 1, 1)
    slab.cell[2] *= 3.0  # vacuum above the slab
    slab.pbc = [True, True, False]
    out.append(("slab", slab))
    cluster = Atoms([SYMBOLS[t] for t in rng.integers(0, 6, 10)],
                    positions=rng.uniform(0, 4.5, (10, 3)) + np.arange(10)[:, None] * 0.4, pbc=False)
    out.append(("cluster", cluster))
    return out


def results(atoms, calc, stress=True):
    atoms = atoms.copy()
    atoms.calc = calc
    e, f, ea = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_potential_energies()
    s = atoms.get_stress(voigt=True) if stress else None
    return e, f, s, ea


def compare(label, got, ref, tol, energies=True):
    e, f, s, ea = got
    e0, f0, s0, ea0 = ref
    de = abs(e - e0) / max(1.0, abs(e0))
    df = rel(f, f0)
    ds = rel(s, s0) if s0 is not None else 0.0
    dea = rel(ea, ea0) if energies and ea0 is not None else 0.0
    check(label, de < tol and df < tol and ds < tol and dea < tol,
          f"energy {de:.1e}, forces {df:.1e}, stress {ds:.1e}, per-atom energies {dea:.1e}")


def mtp_checks(args, tmp, rng):
    import mlpot
    from motep.calculator import MTP
    from motep.io.mlip.mtp import read_mtp
    path = tmp / "random16.mtp"
    path.write_text(random_mtp(Path(args.templates) / "16.almtp", 6, rng, min_dist=1.0, max_dist=5.0, scaling=0.05))
    data = read_mtp(str(path))
    data.species = [1, 3, 6, 8, 9, 15]  # H Li C O F P: the file's species order
    for backend in ["Serial", "OpenMP"]:
        calc = mlpot.Calculator(path, elements=SYMBOLS, backend=backend)
        for name, atoms in test_structures(np.random.default_rng(7)):
            periodic = atoms.pbc.all()
            compare(f"MTP {backend} {name} against motep", results(atoms, calc, stress=periodic),
                    results(atoms, MTP(data, engine="cext"), stress=periodic), MTP_TOL)  # motep: one structure each
    as_text = results(test_structures(np.random.default_rng(7))[0][1], mlpot.Calculator(path, elements="H,Li,C,O,F,P"))
    as_list = results(test_structures(np.random.default_rng(7))[0][1], mlpot.Calculator(path, elements=SYMBOLS))
    check("MTP elements as text ('H,Li,C,O,F,P') = as a list", as_text[0] == as_list[0] and (as_text[1] == as_list[1]).all())
    # Against `mlpot eval` on the same structures (cfg: species indices, cell rows, no pbc without a cell).
    calc = mlpot.Calculator(path, elements=SYMBOLS)
    for name, atoms in test_structures(np.random.default_rng(7)):
        if not (atoms.pbc.all() or not atoms.pbc.any()):
            continue  # a cfg has no partial periodicity
        cfg, out = tmp / f"{name}.cfg", tmp / f"{name}.out.cfg"
        species = [SYMBOLS.index(s) for s in atoms.get_chemical_symbols()]
        write_cfg(cfg, [(atoms.cell.array if atoms.pbc.all() else None, atoms.positions, species)])
        r = run([args.mlpot, "eval", "--model", path, "--input", cfg, "--output", out])
        if r.returncode != 0:
            check(f"MTP {name} against mlpot eval", False, r.stderr)
            continue
        ref = read_cfg_results(out)[0]
        got = results(atoms, calc, stress=False)
        de = abs(got[0] - ref["energy"]) / abs(ref["energy"])
        df = rel(got[1], ref["forces"])
        check(f"MTP {name} against mlpot eval", de < CLI_TOL and df < CLI_TOL, f"energy {de:.1e}, forces {df:.1e}")
        # precision="mixed" against mlpot eval --precision mixed (the same float kernel and list).
        r = run([args.mlpot, "eval", "--model", path, "--input", cfg, "--output", out, "--precision", "mixed"])
        if r.returncode != 0:
            check(f"MTP {name} precision mixed against mlpot eval --precision mixed", False, r.stderr)
            continue
        ref = read_cfg_results(out)[0]
        got = results(atoms, mlpot.Calculator(path, elements=SYMBOLS, precision="mixed"), stress=False)
        de = abs(got[0] - ref["energy"]) / abs(ref["energy"])
        df = rel(got[1], ref["forces"])
        check(f"MTP {name} precision mixed against mlpot eval --precision mixed", de < MIXED_TOL and df < MIXED_TOL,
              f"energy {de:.1e}, forces {df:.1e}")
    return path


def mace_checks(args):
    import mlpot
    import torch
    torch.serialization.add_safe_globals([slice])  # e3nn 0.4.4 constants under torch >= 2.6
    from mace.calculators import MACECalculator
    models = Path(args.models)
    for dtype, tol in [("float64", MACE64_TOL), ("float32", MACE32_TOL)]:
        ref_calc = MACECalculator(model_paths=str(models / f"tiny-{dtype}.model"), device="cpu", default_dtype=dtype)
        for engine in ["native", "torch"]:
            calc = mlpot.Calculator(models / f"tiny-{dtype}-lammps.pt", engine=engine)
            check(f"MACE tiny {dtype}: engine {engine}", calc.model.engine == engine, calc.model.engine)
            for name, atoms in test_structures(np.random.default_rng(11)):
                periodic = atoms.pbc.all()
                compare(f"MACE tiny {dtype} {engine} {name} against mace-torch", results(atoms, calc, stress=periodic),
                        results(atoms, ref_calc, stress=periodic), tol, energies=False)


def finite_difference_checks(mtp_path, args):
    """Forces and stress against central differences of the energy: MTP and MACE float64."""
    import mlpot
    from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
    calcs = [("MTP", mlpot.Calculator(mtp_path, elements=SYMBOLS)),
             ("MACE native", mlpot.Calculator(Path(args.models) / "tiny-float64-lammps.pt", engine="native"))]
    for label, calc in calcs:
        for name, atoms in test_structures(np.random.default_rng(3))[:2]:
            atoms = atoms.copy()
            atoms.calc = calc
            f = atoms.get_forces()
            fd = calculate_numerical_forces(atoms, eps=1e-5, iatoms=[0, 3, 7])
            df = rel(f[[0, 3, 7]], fd)
            s = atoms.get_stress(voigt=True)
            sd = calculate_numerical_stress(atoms, eps=1e-6, voigt=True)
            ds = float(np.abs(s - sd).max() / max(1e-3, np.abs(sd).max()))
            check(f"{label} {name}: forces and stress against finite differences", df < FD_FORCE_TOL and ds < FD_STRESS_TOL,
                  f"forces {df:.1e}, stress {ds:.1e}")


def grade_checks(args, tmp):
    """Grades against `mlpot grade` (MLIP's MV grade) for both selection modes."""
    import mlpot
    for mode in ["cfg", "nbh"]:
        model = tmp / f"syn08-{mode}.almtp"
        r = run([args.mlpot, "make-model", "--template", Path(args.templates) / "08.almtp", "--species", "6",
                 "--selection", mode, "--out", model])
        if r.returncode != 0:
            check(f"grades {mode}: make-model", False, r.stderr)
            continue
        calc = mlpot.Calculator(model, elements=SYMBOLS, grades=True)
        atoms = mlpot.li2co3(1, 1, 1)
        atoms.positions += np.random.default_rng(5).normal(0, 0.1, atoms.positions.shape)
        atoms.calc = calc
        grade = calc.get_property("grade", atoms)
        cfg, out = tmp / f"grade-{mode}.cfg", tmp / f"grade-{mode}.out.cfg"
        write_cfg(cfg, [(atoms.cell.array, atoms.positions, [SYMBOLS.index(s) for s in atoms.get_chemical_symbols()])])
        r = run([args.mlpot, "grade", "--model", model, "--input", cfg, "--output", out])
        text = out.read_text() if out.exists() else ""
        ref = [float(line.split()[-1]) for line in text.splitlines() if "MV_grade" in line]
        ok = r.returncode == 0 and len(ref) == 1 and abs(grade - ref[0]) <= 1e-12 * max(1.0, abs(ref[0]))
        check(f"grades {mode}: MV grade against mlpot grade", ok, f"{grade!r} against {ref} {r.stderr[-300:]}")
        if mode == "nbh":
            grades = calc.get_property("grades", atoms)
            check("grades nbh: per-atom grades, max = MV grade", len(grades) == len(atoms) and
                  abs(grades.max() - grade) <= 1e-12 * grade, f"{grades.max()!r} {grade!r}")


def write_lammps_data(path, atoms):
    """atoms (LAMMPS-triangular cell at the origin) with their ASE masses and velocities (A/ps)."""
    from ase import units
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lammps"))
    from test_lammps import write_data
    masses = {s: m for s, m in zip(atoms.get_chemical_symbols(), atoms.get_masses())}
    write_data(path, atoms.cell.array, atoms.positions, [SYMBOLS.index(s) for s in atoms.get_chemical_symbols()],
               masses=[masses.get(s, 1.0) for s in SYMBOLS], velocities=atoms.get_velocities() * 1000 * units.fs)


def md_checks(args, tmp):
    """200 steps of VelocityVerlet (0.5 fs, from 300 K) with mlpot.Calculator against LAMMPS' fix nve
    with pair_style mtp (and mace), from the same positions, velocities and masses: the same
    trajectory, and the same total-energy fluctuation."""
    import mlpot
    from ase import units
    from ase.md.velocitydistribution import Stationary, thermalize_momenta
    from ase.md.verlet import VelocityVerlet
    model = tmp / "syn16.mtp"
    r = run([args.mlpot, "make-model", "--template", Path(args.templates) / "16.almtp", "--species", "6", "--out", model])
    if r.returncode != 0:
        check("MD: make-model", False, r.stderr)
        return
    cases = [("MTP", mlpot.Calculator(model, elements=SYMBOLS), f"pair_style mtp {model} elements H Li C O F P",
              "pair_coeff * * H Li C O F P"),
             ("MACE native", mlpot.Calculator(Path(args.models) / "tiny-float64-lammps.pt", engine="native"),
              f"pair_style mace {Path(args.models) / 'tiny-float64-lammps.pt'} periodic", "pair_coeff * * H Li C O F P")]
    steps, dt = 200, 0.5
    for label, calc, pair_style, pair_coeff in cases:
        atoms = mlpot.li2co3(1, 2, 1)
        thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(2025))
        Stationary(atoms)
        data = tmp / f"md-{label.split()[0]}.data"
        write_lammps_data(data, atoms)
        atoms.calc = calc
        etot = [atoms.get_total_energy()]
        dyn = VelocityVerlet(atoms, timestep=dt * units.fs)
        dyn.attach(lambda: etot.append(atoms.get_total_energy()), interval=1)
        dyn.run(steps)
        etot = np.array(etot[1:])
        script = f"""units metal
atom_style atomic
{'atom_modify map yes' if 'mace' in pair_style else ''}
boundary p p p
read_data {data}
{pair_style}
{pair_coeff}
timestep {dt / 1000}
fix 1 all nve
thermo_style custom step pe ke etotal
thermo_modify format float %.15g
thermo 1
run {steps}
write_dump all custom {tmp}/md.final id xu yu zu modify format float %.17g sort id
"""
        (tmp / "md.in").write_text(script)
        env = dict(os.environ, LAMMPS_PLUGIN_PATH=str(args.plugin_dir), OMP_NUM_THREADS="1", OMP_PROC_BIND="false")
        r = subprocess.run([args.lmp, "-in", tmp / "md.in", "-screen", "none", "-log", tmp / "md.log", "-nocite"],
                           capture_output=True, text=True, env=env, cwd=tmp)
        log = (tmp / "md.log").read_text() if (tmp / "md.log").exists() else ""
        lmp_etot = np.array([float(w[3]) for w in (line.split() for line in log.splitlines())
                             if len(w) == 4 and w[0].isdigit()][1:])
        if r.returncode != 0 or len(lmp_etot) != steps:
            check(f"MD {label}: LAMMPS run", False, (log + r.stderr)[-1500:])
            continue
        final = np.array([[float(v) for v in line.split()] for line in
                          (tmp / "md.final").read_text().splitlines()[9:]])[:, 1:]
        dx = np.abs(atoms.positions - final).max()
        n = len(atoms)
        ase_fluct, lmp_fluct = np.ptp(etot) / n, np.ptp(lmp_etot) / n
        # The two integrators are the same; the unit constants differ in the 7th digit (ASE's
        # CODATA 2014 against LAMMPS' metal constants), which is what the trajectories may differ by.
        check(f"MD {label}: {steps} VelocityVerlet steps follow LAMMPS' fix nve", dx < 1e-6,
              f"positions differ by {dx:.1e} A at the end")
        # The Verlet list (skin 1 A) is built again only when an atom has moved 0.5 A: not every step.
        check(f"MD {label}: the model and its neighbour list kept through the run", calc.model.list_builds <= steps // 10,
              f"{calc.model.list_builds} list(s) built for {steps + 1} calls")
        check(f"MD {label}: total energy conserved as in LAMMPS", ase_fluct < 2 * lmp_fluct + 1e-9 and ase_fluct < 1e-4,
              f"max-min of E_total/atom over {steps} steps: ASE {ase_fluct:.2e} eV, LAMMPS {lmp_fluct:.2e} eV")


OOM_CHILD = r"""
import ast, resource, sys
import mlpot
calc = mlpot.Calculator(sys.argv[1], **ast.literal_eval(sys.argv[2]))
small = mlpot.li2co3(1, 1, 1)
small.calc = calc
print("BEFORE", repr(small.get_potential_energy()))
big = mlpot.li2co3(*ast.literal_eval(sys.argv[3]))
big.calc = calc
vm = int([l for l in open("/proc/self/status") if l.startswith("VmSize")][0].split()[1]) * 1024
cap = vm + (int(sys.argv[4]) << 30)
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
try:
    big.get_forces()
    print("RAISED nothing")
except Exception as e:
    print("RAISED", type(e).__name__, str(e).replace(chr(10), " "))
small.positions[0, 0] += 1e-3  # a new call on the small structure, then back
small.get_potential_energy()
small.positions[0, 0] -= 1e-3
print("AFTER", repr(small.get_potential_energy()))
"""


def error_checks(args, tmp, mtp_path):
    import mlpot
    from ase import Atoms
    from ase.calculators.calculator import PropertyNotImplementedError
    models = Path(args.models)

    def expect(label, exc, needle, fn):
        try:
            fn()
        except exc as e:
            check(f"bad input: {label}", needle in str(e), f"{type(e).__name__}: {e}")
            return
        except BaseException as e:  # noqa: BLE001 - a wrong exception type is the failure reported
            check(f"bad input: {label}", False, f"raised {type(e).__name__}: {e}")
            return
        check(f"bad input: {label}", False, "no exception")

    def evaluate(calc, atoms):
        atoms.calc = calc
        return atoms.get_forces()

    calc = mlpot.Calculator(mtp_path, elements=SYMBOLS)
    expect("missing file", FileNotFoundError, "missing.mtp", lambda: mlpot.Calculator(tmp / "missing.mtp", elements=SYMBOLS))
    bad = tmp / "bad.mtp"
    bad.write_text(mtp_path.read_text().replace("species_count = 6", "species_count = x"))
    expect("malformed MTP file (names file and line)", mlpot.Error, "bad.mtp:5", lambda: mlpot.Calculator(bad, elements=SYMBOLS))
    expect("MTP without elements", mlpot.Error, "elements=", lambda: mlpot.Calculator(mtp_path))
    expect("precision not double or mixed", mlpot.Error, "unknown MTP precision 'single'",
           lambda: mlpot.Calculator(mtp_path, elements=SYMBOLS, precision="single"))
    expect("grades with precision mixed", mlpot.Error, "precision mixed computes no grades",
           lambda: mlpot.Calculator(mtp_path, elements=SYMBOLS, grades=True, precision="mixed"))
    expect("not an element", mlpot.Error, "'Xx' is not a chemical element",
           lambda: mlpot.Calculator(mtp_path, elements=["H", "Xx"]))
    expect("more elements than species", mlpot.Error, "the model has 6 species",
           lambda: mlpot.Calculator(mtp_path, elements=SYMBOLS + ["Na"]))
    expect("unknown element in the Atoms", mlpot.Error, "atoms[1] is Fe",
           lambda: evaluate(calc, Atoms("HFeLi", positions=[[0, 0, 0], [2, 0, 0], [0, 2, 0]])))
    nan = Atoms("HLiC", positions=[[0, 0, 0], [2, 0, 0], [0, 2, 0]])
    nan.positions[2, 1] = np.nan
    expect("NaN position", mlpot.Error, "atoms[2] has a non-finite position", lambda: evaluate(calc, nan))
    expect("atoms on top of each other", mlpot.Error, "atoms 1 and 2",
           lambda: evaluate(calc, Atoms("HLi", positions=[[1, 1, 1], [1, 1, 1]], cell=[5, 5, 5], pbc=True)))
    expect("stress without a cell", PropertyNotImplementedError, "no volume",
           lambda: (lambda a: (setattr(a, "calc", calc), a.get_stress()))(Atoms("HLi", positions=[[0, 0, 0], [2, 0, 0]])))
    cfg = tmp / "structure.cfg"
    write_cfg(cfg, [(None, [[0, 0, 0], [2, 0, 0]], [0, 1])])
    expect("a configuration file as the model", mlpot.Error, "structure.cfg:1",
           lambda: mlpot.Calculator(cfg, elements=SYMBOLS))
    expect("mace-torch's .model instead of the LAMMPS export", mlpot.Error, "tiny-float64.model",
           lambda: mlpot.Calculator(models / "tiny-float64.model"))
    expect("MACE with other elements", mlpot.Error, "differ from the MACE model's own elements",
           lambda: mlpot.Calculator(models / "tiny-float64-lammps.pt", elements=["Li", "H"]))
    expect("grades without a selection state", mlpot.Error, "selection state",
           lambda: mlpot.Calculator(mtp_path, elements=SYMBOLS, grades=True))
    expect("unknown backend", mlpot.Error, "Cuda9", lambda: mlpot.Calculator(mtp_path, elements=SYMBOLS, backend="Cuda9"))
    expect("precision with a MACE model (MTP only)", mlpot.Error, "precision='mixed' is for MTP models",
           lambda: mlpot.Calculator(models / "tiny-float64-lammps.pt", precision="mixed"))
    expect("unknown MACE engine", mlpot.Error, "engine='jax' is not one of auto, native, torch",
           lambda: mlpot.Calculator(models / "tiny-float64-lammps.pt", engine="jax"))
    expect("other thread count than the process's Kokkos", mlpot.Error, "host threads",
           lambda: mlpot.Calculator(mtp_path, elements=SYMBOLS, threads=calc.model.threads + 1))
    expect("unknown keyword", TypeError, "unexpected keyword", lambda: mlpot.Calculator(mtp_path, element=SYMBOLS))
    # Out of memory, in a child process whose address space is capped at what it has mapped plus
    # 2 GiB (MACE) or 1 GiB (MTP): a clear exception, and the same calculator then still gives a
    # small structure's energy as it did before.
    for label, model, kwargs, cells, room, exc, needle in [
            ("MACE native engine", models / "seed-float32-lammps.pt", {"engine": "native"}, (12, 12, 12), 2,
             "Error", "out of host memory for 41472 atoms"),
            ("MTP", mtp_path, {"elements": SYMBOLS}, (50, 50, 50), 1, "MemoryError", "out of host memory")]:
        r = subprocess.run([sys.executable, "-c", OOM_CHILD, str(model), repr(kwargs), repr(cells), str(room)],
                           capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="2"), timeout=600)
        got = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
        check(f"bad input: out of memory ({label}): {exc} with mlpot's message, then the next call as before",
              r.returncode == 0 and got.get("RAISED", "").startswith(exc + " ") and needle in got.get("RAISED", "")
              and got.get("BEFORE") == got.get("AFTER"), (r.stdout + r.stderr)[-800:])
    # Still alive and right after all of that.
    a = mlpot.li2co3(1, 1, 1)
    a.calc = calc
    check("after the errors the interpreter still evaluates", np.isfinite(a.get_forces()).all())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--lmp")
    ap.add_argument("--plugin-dir")
    args = ap.parse_args()
    for name in ["mlpot", "templates", "models", "lmp", "plugin_dir"]:
        if getattr(args, name):
            setattr(args, name, str(Path(getattr(args, name)).resolve()))
    import mlpot
    check("mlpot imported from the build tree", "python" in mlpot.__file__, mlpot.__file__)
    rng = np.random.default_rng(2026)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        mtp_path = mtp_checks(args, tmp, rng)
        mace_checks(args)
        finite_difference_checks(mtp_path, args)
        grade_checks(args, tmp)
        if args.lmp:
            md_checks(args, tmp)
        error_checks(args, tmp, mtp_path)
    return check.exit_status()


if __name__ == "__main__":
    sys.exit(main())
