"""Stage 5 of the pipeline: how the trained models compare with their labeller (CHGNet, not DFT)
and with experiment, through mlpot's own calculator and pair styles:

  - energy, force and stress errors against CHGNet on held-out configurations (parity plots);
  - Li2CO3 relaxed (cell and atoms, FrechetCellFilter + FIRE) under each model and under
    CHGNet: lattice parameters and density against the builder's experimental structure;
  - the Li-O radial distribution function of 300 K NVT MD in LAMMPS, its first peak beside
    the seed study's 1.96 A.
"""
import os
import subprocess
import warnings
from pathlib import Path

import numpy as np
from ase.filters import FrechetCellFilter
from ase.io import write
from ase.optimize import FIRE
from ase.units import GPa, _amu

SEED_LI_O_PEAK = 1.96  # A, the seed study's first Li-O peak


def model_calculator(kind, path):
    import mlpot
    if kind == "mtp":
        return mlpot.Calculator(path, elements=["H", "Li", "C", "O", "F", "P"])
    return mlpot.Calculator(path)


def errors(calc, images):
    """RMS errors against the images' labels: energy per atom (meV/atom), force components
    (meV/A), stress components (GPa); and the pairs for the parity plot."""
    de, df, ds, pairs_e, pairs_f = [], [], [], [], []
    for ref in images:
        a = ref.copy()
        a.calc = calc
        n = len(a)
        e, f, s = a.get_potential_energy(), a.get_forces(), a.get_stress(voigt=True)
        e0, f0, s0 = ref.get_potential_energy(), ref.get_forces(), ref.get_stress(voigt=True)
        de.append((e - e0) / n)
        df.append((f - f0).ravel())
        ds.append(s - s0)
        pairs_e.append((e0 / n, e / n))
        pairs_f.append(np.stack([f0.ravel(), f.ravel()], axis=1))
    rms = lambda x: float(np.sqrt(np.mean(np.square(np.concatenate([np.ravel(v) for v in x])))))  # noqa: E731
    return ({"energy_meV_per_atom": 1e3 * rms(de), "force_meV_per_A": 1e3 * rms(df), "stress_GPa": rms(ds) / GPa,
             "configurations": len(images)},
            np.array(pairs_e), np.concatenate(pairs_f))


def relaxed_lattice(atoms, calc, steps, fmax=0.01):
    a = atoms.copy()
    a.calc = calc
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="logm result may be inaccurate")
        converged = bool(FIRE(FrechetCellFilter(a), logfile=None).run(fmax=fmax, steps=steps))
    return lattice_of(a) | {"converged": converged}


def lattice_of(atoms):
    a, b, c, alpha, beta, gamma = atoms.cell.cellpar()
    density = atoms.get_masses().sum() * _amu * 1e3 / (atoms.get_volume() * 1e-24)  # g/cm^3
    return {"a": a, "b": b, "c": c, "alpha": alpha, "beta": beta, "gamma": gamma, "density": density}


def li_o_rdf(kind, model, atoms, steps, work, build, seed):
    """g(r) of Li-O pairs over the second half of a 300 K NVT run in LAMMPS; (r, g)."""
    data = work / f"rdf-{kind}.data"
    write(data, atoms, format="lammps-data", specorder=["H", "Li", "C", "O", "F", "P"], masses=True, units="metal")
    pair = f"pair_style mtp {model} elements H Li C O F P" if kind == "mtp" else f"pair_style mace {model} periodic"
    half = max(steps // 2, 1)
    script = f"""
units metal
atom_style atomic
boundary p p p
{"atom_modify map yes" if kind == "mace" else ""}
read_data {data.name}
{pair}
pair_coeff * * H Li C O F P
velocity all create 300 {seed} loop geom
fix nvt all nvt temp 300 300 0.05
timestep 0.0005
thermo 100
run {half}
compute rdf all rdf 200 2 4 cutoff 5.0
fix rdf all ave/time 10 {max(half // 10, 1)} {half} c_rdf[*] file rdf-{kind}.txt mode vector
run {half}
"""
    (work / f"in.rdf-{kind}").write_text(script)
    env = dict(os.environ, LAMMPS_PLUGIN_PATH=str(build / "lib"), OMP_NUM_THREADS="1", OMP_PROC_BIND="false")
    r = subprocess.run([str(build / "bin" / "lmp"), "-in", f"in.rdf-{kind}", "-log", f"rdf-{kind}.log",
                        "-screen", "none", "-nocite"], cwd=work, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        text = (work / f"rdf-{kind}.log").read_text() if (work / f"rdf-{kind}.log").exists() else r.stdout + r.stderr
        errors = [line for line in text.splitlines() if line.startswith("ERROR")]
        if errors and "Lost atoms" in errors[0]:  # the model is not stable at 300 K: say so, go on
            return None, errors[0]
        raise RuntimeError(f"LAMMPS RDF run failed in {work}:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    rows = [line.split() for line in (work / f"rdf-{kind}.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    rows = [r for r in rows if len(r) >= 3]
    table = np.array([[float(v) for v in r[1:3]] for r in rows])
    return table[:, 0], table[:, 1]


def first_peak(r, g):
    """Position of the first maximum of g above 1 (A)."""
    above = np.flatnonzero(g > 1.0)
    if not above.size:
        return float("nan")
    start = above[0]
    end = start
    while end + 1 < len(g) and g[end + 1] >= g[end]:
        end += 1
    return float(r[end])


def run(models, heldout, labeller, p, p_name, out, build, log):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from mlpot import li2co3

    result = {"errors": {}, "lattice": {}, "rdf_first_peak_A": {}, "seed_li_o_peak_A": SEED_LI_O_PEAK}
    calcs = {kind: model_calculator(kind, path) for kind, path in models.items()}
    fig, axes = plt.subplots(2, 2, figsize=(10, 9))
    for kind, calc in calcs.items():
        err, pe, pf = errors(calc, heldout)
        result["errors"][kind] = err
        log(f"{kind}: held-out RMSE {err['energy_meV_per_atom']:.1f} meV/atom, {err['force_meV_per_A']:.0f} meV/A, "
            f"{err['stress_GPa']:.2f} GPa ({err['configurations']} configurations, against CHGNet)")
        axes[0, 0].plot(pe[:, 0], pe[:, 1], "o", ms=4, label=kind.upper())
        axes[0, 1].plot(pf[:, 0], pf[:, 1], ".", ms=2, label=kind.upper())
    for ax, what in ((axes[0, 0], "energy (eV/atom)"), (axes[0, 1], "force component (eV/A)")):
        lo, hi = ax.get_xlim()
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.5)
        ax.set_xlabel(f"CHGNet {what}")
        ax.set_ylabel(f"model {what}")
        ax.legend()
    axes[0, 0].set_title("held-out configurations")

    experiment = li2co3(1, 1, 1)
    result["lattice"]["experiment (builder)"] = lattice_of(experiment)
    refs = dict(calcs)
    refs["chgnet"] = labeller.calculator()
    for kind, calc in refs.items():
        result["lattice"][kind] = relaxed_lattice(experiment, calc, p.relax_steps)
        lat = result["lattice"][kind]
        log(f"Li2CO3 relaxed under {kind}: a {lat['a']:.3f} b {lat['b']:.3f} c {lat['c']:.3f} A, "
            f"beta {lat['beta']:.2f}, {lat['density']:.3f} g/cm3{'' if lat['converged'] else ' (not converged)'}")
    keys = ["a", "b", "c", "beta", "density"]
    exp = result["lattice"]["experiment (builder)"]
    width = 0.8 / len(refs)
    for k, kind in enumerate(refs):
        rel = [100 * (result["lattice"][kind][q] / exp[q] - 1) for q in keys]
        axes[1, 0].bar(np.arange(len(keys)) + k * width, rel, width, label=kind.upper() if kind != "chgnet" else "CHGNet")
    axes[1, 0].set_xticks(np.arange(len(keys)) + 0.4 - width / 2, keys)
    axes[1, 0].set_ylabel("relaxed / experiment - 1 (%)")
    axes[1, 0].axhline(0, color="k", lw=0.5)
    axes[1, 0].legend()
    axes[1, 0].set_title("Li2CO3 lattice after relaxation")

    cell = li2co3(2, 2, 2)
    for kind, path in models.items():
        r, g = li_o_rdf(kind, Path(path).resolve(), cell, p.rdf_steps, out, build, 12345)
        if r is None:
            result["rdf_first_peak_A"][kind] = None
            result.setdefault("md_unstable", {})[kind] = g
            log(f"Li-O RDF at 300 K under {kind}: the MD was not stable ({g})")
            continue
        peak = first_peak(r, g)
        result["rdf_first_peak_A"][kind] = peak
        log(f"Li-O RDF at 300 K under {kind}: first peak {peak:.3f} A (seed study {SEED_LI_O_PEAK} A)")
        axes[1, 1].plot(r, g, label=f"{kind.upper()} (peak {peak:.2f} A)")
    axes[1, 1].axvline(SEED_LI_O_PEAK, color="k", ls="--", lw=0.8, label=f"seed study {SEED_LI_O_PEAK} A")
    axes[1, 1].set_xlabel("r (A)")
    axes[1, 1].set_ylabel("g Li-O (r)")
    axes[1, 1].legend()
    axes[1, 1].set_title("Li2CO3 at 300 K")
    for k, (kind, message) in enumerate(result.get("md_unstable", {}).items()):
        axes[1, 1].text(0.02, 0.95 - 0.06 * k, f"{kind.upper()}: MD not stable at 300 K", transform=axes[1, 1].transAxes)
    fig.suptitle(f"models trained by models/train/pipeline.py ({p_name}) against CHGNet 0.3.0 (labels, not DFT)")
    fig.tight_layout()
    fig.savefig(out / "validation.png", dpi=110)
    plt.close(fig)
    result["plot"] = str(out / "validation.png")
    return result
