"""The seed study's active-learning loop at small scale, with CHGNet standing in for DFT
(docs/training.md). Stages, each timed:

  1. starting structures: Li2CO3 (the builder's crystal, strained and rattled), amorphous Li2EDC
     (`mlpot build li2edc`), bcc Li, LiPF6 (a packing relaxed under CHGNet); labelled by CHGNet
     (labeller.py) as the first training set;
  2. MTP training with motep (L-BFGS-B on energies, forces and stresses), then MLIP's MaxVol
     active set in neighbourhood mode (active_set.py) written as an .almtp;
  3. active learning: NVT MD in LAMMPS with `pair_style mtp ... extrapolation ... select ...
     break`; the configurations it selects are filtered by MaxVol (select_add), labelled, added,
     and the MTP retrained, until every MD run of the iteration completes below `break`;
  4. MACE training with mace-torch's trainer (`mace_run_train`) on the same data, exported
     with `mace_create_lammps_model`;
  5. validation (validate.py): errors against CHGNet on held-out configurations, Li2CO3 lattice
     after relaxation, the Li-O RDF at 300 K; a report (JSON, text) and PNG plots.

    scripts/train-models.sh [--profile smoke|full] [--out DIR]

Everything is seeded; the labels and the models say "CHGNet 0.3.0 labels, not DFT".
"""
import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.io import read, write

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import active_set  # noqa: E402
from labeller import LABEL_SOURCE, ChgnetLabeller  # noqa: E402

ELEMENTS = ["H", "Li", "C", "O", "F", "P"]  # the seed's six species, in the models' order
NUMBERS = [1, 3, 6, 8, 9, 15]
ENGINE = "cext"  # motep's C-extension engine


@dataclass
class Profile:
    """How big each stage is. smoke: every stage in minutes (the CI test); full: the built-in
    models."""
    level: int
    li2co3_cells: tuple
    li2co3_variants: int
    li2edc_molecules: int
    li2edc_variants: int
    li_bcc_repeat: int
    li_variants: int
    lipf6_variants: int
    strain: float          # largest strain component of a variant
    rattle: float          # A, standard deviation of the displacements
    heldout_fraction: float
    lbfgs_iterations: int  # the first training
    lbfgs_retrain_iterations: int  # each retraining, which starts from the last coefficients
    al_iterations: int
    md_steps: int
    md_temperatures: tuple
    select: float
    breaks: float
    max_added_per_iteration: int
    mace: dict = field(default_factory=dict)
    rdf_steps: int = 2000
    relax_steps: int = 300


PROFILES = {
    "smoke": Profile(level=8, li2co3_cells=(1, 1, 1), li2co3_variants=6, li2edc_molecules=2, li2edc_variants=3,
                     li_bcc_repeat=2, li_variants=3, lipf6_variants=3, strain=0.02, rattle=0.05, heldout_fraction=0.25,
                     lbfgs_iterations=400, lbfgs_retrain_iterations=150, al_iterations=2, md_steps=200, md_temperatures=(300,),
                     select=2.0, breaks=10.0, max_added_per_iteration=4,
                     mace=dict(hidden_irreps="8x0e", max_L=0, correlation=2, num_interactions=2, r_max=5.0,
                               max_num_epochs=60, batch_size=4, num_radial_basis=4, MLP_irreps="8x0e",
                               radial_MLP="[16, 16]"),
                     rdf_steps=200, relax_steps=40),
    "full": Profile(level=16, li2co3_cells=(1, 1, 1), li2co3_variants=24, li2edc_molecules=4, li2edc_variants=12,
                    li_bcc_repeat=3, li_variants=6, lipf6_variants=8, strain=0.03, rattle=0.08, heldout_fraction=0.15,
                    lbfgs_iterations=1500, lbfgs_retrain_iterations=500, al_iterations=8, md_steps=2000, md_temperatures=(300, 600),
                    select=2.0, breaks=10.0, max_added_per_iteration=12,
                    mace=dict(hidden_irreps="32x0e+32x1o", max_L=1, correlation=3, num_interactions=2, r_max=5.0,
                              max_num_epochs=60, batch_size=4, num_radial_basis=8, MLP_irreps="16x0e",
                              radial_MLP="[64, 64, 64]"),
                    rdf_steps=4000, relax_steps=400),
}


class Log:
    """Prints what happens and times each stage (report["stages"])."""

    def __init__(self, report):
        self.report = report
        self.t0 = time.time()

    def __call__(self, msg):
        print(f"[train {time.time() - self.t0:7.1f}s] {msg}", flush=True)

    @contextmanager
    def stage(self, name):
        self(f"== {name}")
        t = time.time()
        yield
        self.report.setdefault("stages", {})
        self.report["stages"][name] = self.report["stages"].get(name, 0.0) + round(time.time() - t, 1)


@dataclass
class Tools:
    mlpot: str       # build/bin/mlpot
    lmp: str         # the LAMMPS the plugin was built for
    plugin_dir: str  # where mlpotplugin.so is
    template_dir: str


# ------------------------------------------------------------------------- stage 1: structures
def perturbed(atoms, rng, strain, rattle):
    """atoms with its cell strained by a random symmetric strain (|e_ij| <= strain) and every
    atom displaced by a Gaussian of width rattle."""
    e = rng.uniform(-strain, strain, (3, 3))
    e = 0.5 * (e + e.T)
    out = atoms.copy()
    out.set_cell(atoms.cell.array @ (np.eye(3) + e), scale_atoms=True)
    out.positions += rng.normal(0.0, rattle, out.positions.shape)
    out.wrap()
    return out


def lipf6_packed(a=8.0, p_f=1.60):
    """LiPF6 as a rock-salt packing of Li+ and PF6- octahedra (4 formula units, 32 atoms): a
    starting point, not the experimental R-3 structure; the pipeline relaxes it under CHGNet."""
    fcc = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    symbols, positions = [], []
    for site in fcc:
        phosphorus = (site + [0.5, 0, 0]) % 1.0 * a
        symbols += ["Li", "P"] + ["F"] * 6
        positions += [site * a, phosphorus] + [phosphorus + p_f * d for d in np.vstack([np.eye(3), -np.eye(3)])]
    atoms = Atoms(symbols, positions=positions, cell=[a, a, a], pbc=True)
    atoms.wrap()
    return atoms


def relaxed_under(atoms, calc, steps=150, fmax=0.05):
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE
    out = atoms.copy()
    out.calc = calc
    FIRE(FrechetCellFilter(out), logfile=None).run(fmax=fmax, steps=steps)
    out.calc = None
    return out


def starting_structures(p, tools, rng, work, labeller):
    """{system: pristine Atoms} and the perturbed variants of each (the first training set)."""
    import mlpot
    systems = {"li2co3": mlpot.li2co3(*p.li2co3_cells)}
    edc = work / "li2edc.xyz"
    subprocess.run([tools.mlpot, "build", "li2edc", "--molecules", str(p.li2edc_molecules), "--seed", "2025",
                    "--out", str(edc)], check=True, capture_output=True, text=True)
    systems["li2edc"] = read(edc)
    systems["li_bcc"] = bulk("Li", "bcc", a=3.44, cubic=True).repeat(p.li_bcc_repeat)
    systems["lipf6"] = relaxed_under(lipf6_packed(), labeller.calculator())
    counts = {"li2co3": p.li2co3_variants, "li2edc": p.li2edc_variants, "li_bcc": p.li_variants,
              "lipf6": p.lipf6_variants}
    variants = []
    for name, atoms in systems.items():
        atoms.info["system"] = name
        for _ in range(counts[name]):
            v = perturbed(atoms, rng, p.strain, p.rattle)
            v.info["system"] = name
            variants.append(v)
    return systems, variants


# ------------------------------------------------------------------------- stage 2: MTP training
def untrained_mtp(p, tools, path, min_dist, tag):
    """The level's MLIP-3 template for six species, cutoff 5 A, no coefficients (motep draws them
    from the trainer's seed)."""
    from motep.io.mlip.mtp import read_mtp, write_mtp
    data = read_mtp(Path(tools.template_dir) / f"{p.level:02d}.almtp")
    data.species = NUMBERS
    data.radial_basis.min = float(min_dist)
    data.radial_basis.max = 5.0
    data.potential_tag = tag
    write_mtp(path, data, legacy=True)  # MLIP-3's own keywords


def train_mtp(start_mtp, out_mtp, images, iterations, seed, work, tag):
    """motep's trainer (its C extension engine): L-BFGS-B on MLIP's loss. Starts from
    start_mtp's coefficients where it has them (a retraining continues the last model)."""
    import logging
    from motep.io.mlip.mtp import read_mtp, write_mtp
    from motep.train.trainer import Trainer
    logging.getLogger("motep").setLevel(logging.WARNING)
    data = read_mtp(start_mtp)
    data.species = NUMBERS
    trainer = Trainer(data, seed=seed, engine=ENGINE,
                      loss={"energy_weight": 1.0, "forces_weight": 0.01, "stress_weight": 0.001},
                      steps=[{"method": "minimize",
                              "kwargs": {"method": "L-BFGS-B", "options": {"maxiter": iterations}}}])
    cwd = os.getcwd()
    os.chdir(work)  # motep writes intermediate_*.mtp into the working directory
    try:
        trainer.train(images)
    finally:
        os.chdir(cwd)
    data.potential_tag = tag
    write_mtp(out_mtp, data, legacy=True)


def make_almtp(mtp, almtp, images):
    A, owners = active_set.build(mtp, NUMBERS, images)
    active_set.write_almtp(almtp, mtp, NUMBERS, A, owners, images)
    return A


# ------------------------------------------------------------------------- stage 3: MD in LAMMPS
def md_script(data, almtp, selected_cfg, temperature, steps, seed, p):
    return f"""
units metal
atom_style atomic
boundary p p p
read_data {data}
pair_style mtp {almtp} elements {' '.join(ELEMENTS)} extrapolation {selected_cfg} select {p.select} break {p.breaks}
pair_coeff * * {' '.join(ELEMENTS)}
velocity all create {temperature} {seed} loop geom
fix nvt all nvt temp {temperature} {temperature} 0.05
timestep 0.0005
thermo 50
thermo_style custom step temp pe press
run {steps}
"""


def read_selected_cfg(path):
    """The configurations `pair_style mtp ... extrapolation` wrote (MLIP's .cfg: Size, Supercell,
    AtomData id type cartes_x/y/z [nbh_grades], Feature MV_grade), as Atoms with info["MV_grade"]
    (motep's reader does not take the exponents LAMMPS writes)."""
    images, lines = [], Path(path).read_text().splitlines()
    k = 0
    while k < len(lines):
        if lines[k].strip() != "BEGIN_CFG":
            k += 1
            continue
        size, cell, rows, info = 0, None, [], {}
        k += 1
        while lines[k].strip() != "END_CFG":
            word = lines[k].split()
            if word and word[0] == "Size":
                size = int(lines[k + 1])
                k += 1
            elif word and word[0] == "Supercell":
                cell = [[float(v) for v in lines[k + 1 + d].split()] for d in range(3)]
                k += 3
            elif word and word[0] == "AtomData:":
                rows = [lines[k + 1 + i].split() for i in range(size)]
                k += size
            elif word and word[0] == "Feature" and len(word) >= 3:
                info[word[1]] = float(word[2])
            k += 1
        k += 1
        atoms = Atoms(numbers=[NUMBERS[int(r[1])] for r in rows], positions=[[float(v) for v in r[2:5]] for r in rows],
                      cell=cell, pbc=True)
        atoms.info.update(info)
        images.append(atoms)
    return images


def run_md(tools, start, almtp, temperature, steps, seed, p, work, name):
    """NVT MD under the MTP with extrapolation control. Returns (completed, selected Atoms list)."""
    data = work / f"{name}.data"
    write(data, start, format="lammps-data", specorder=ELEMENTS, masses=True, units="metal")
    selected = work / f"{name}.selected.cfg"
    selected.unlink(missing_ok=True)
    script = work / f"in.{name}"
    script.write_text(md_script(data.name, Path(almtp).resolve(), selected.name, temperature, steps, seed, p))
    env = dict(os.environ, LAMMPS_PLUGIN_PATH=tools.plugin_dir, OMP_NUM_THREADS="1", OMP_PROC_BIND="false")
    r = subprocess.run([tools.lmp, "-in", script.name, "-log", f"{name}.log", "-screen", "none", "-nocite"],
                       cwd=work, env=env, capture_output=True, text=True, timeout=3600)
    log = (work / f"{name}.log").read_text() if (work / f"{name}.log").exists() else ""
    broke = "exceeds the break threshold" in (log + r.stdout + r.stderr)
    if r.returncode != 0 and not broke:
        raise RuntimeError(f"LAMMPS failed in {work / script.name}:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    images = read_selected_cfg(selected) if selected.exists() else []
    return not broke, images


# ------------------------------------------------------------------------- stage 4: MACE
def train_mace(train_xyz, valid_xyz, p, seed, work, tag):
    """mace-torch's trainer on the CPU, then its LAMMPS export. Returns the *-lammps.pt path."""
    m = p.mace
    args = ["mace_run_train", "--name", "mace", "--seed", str(seed), "--device", "cpu",
            "--default_dtype", "float64", "--model", "MACE",
            "--train_file", str(train_xyz), "--valid_file", str(valid_xyz),
            "--energy_key", "REF_energy", "--forces_key", "REF_forces", "--stress_key", "REF_stress",
            "--atomic_numbers", str(NUMBERS), "--E0s", "average",
            "--hidden_irreps", m["hidden_irreps"], "--max_L", str(m["max_L"]),
            "--correlation", str(m["correlation"]), "--num_interactions", str(m["num_interactions"]),
            "--r_max", str(m["r_max"]), "--num_radial_basis", str(m["num_radial_basis"]),
            "--MLP_irreps", m["MLP_irreps"], "--radial_MLP", m["radial_MLP"],
            "--batch_size", str(m["batch_size"]), "--valid_batch_size", str(m["batch_size"]),
            "--max_num_epochs", str(m["max_num_epochs"]), "--energy_weight", "100.0", "--forces_weight", "10.0",
            "--stress_weight", "1.0", "--loss", "weighted", "--error_table", "PerAtomRMSE",
            "--compute_stress", "True", "--save_cpu"]
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    r = subprocess.run([str(bin_dir / args[0])] + args[1:], cwd=work, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"mace_run_train failed in {work}:\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    model = work / "mace.model"
    r = subprocess.run([str(bin_dir / "mace_create_lammps_model"), str(model), "--dtype", "float64"],
                       cwd=work, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"mace_create_lammps_model failed in {work}:\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    exported = work / "mace.model-lammps.pt"
    (work / "mace.provenance.txt").write_text(tag + "\n")
    return exported


def write_mace_xyz(path, images):
    out = []
    for a in images:
        c = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=True)
        c.info["REF_energy"] = a.get_potential_energy()
        c.arrays["REF_forces"] = a.get_forces()
        c.info["REF_stress"] = a.get_stress(voigt=False)
        c.info["config_type"] = a.info.get("system", "md")
        out.append(c)
    write(path, out, format="extxyz")


# ------------------------------------------------------------------------- the loop
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="smoke")
    ap.add_argument("--out", required=True, help="working and output directory")
    ap.add_argument("--build", required=True, help="mlpot's build directory (bin/mlpot, bin/lmp, lib/, python/)")
    ap.add_argument("--templates", required=True, help="MLIP-3's MTP templates (NN.almtp)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--threads", type=int, default=0, help="torch threads for CHGNet and MACE (0: torch's default)")
    ap.add_argument("--skip-mace", action="store_true", help="leave out stage 4 (and MACE's validation)")
    a = ap.parse_args(argv)
    p = PROFILES[a.profile]
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    build = Path(a.build).resolve()
    tools = Tools(mlpot=str(build / "bin" / "mlpot"), lmp=str(build / "bin" / "lmp"), plugin_dir=str(build / "lib"),
                  template_dir=str(Path(a.templates).resolve()))
    sys.path.insert(0, str(build / "python"))
    if a.threads:
        import torch
        torch.set_num_threads(a.threads)
    report = {"profile": a.profile, "profile_settings": asdict(p), "seed": a.seed, "labels": LABEL_SOURCE}
    log = Log(report)
    rng = np.random.default_rng(a.seed)
    tag = f"trained on {LABEL_SOURCE}; mlpot models/train/pipeline.py profile {a.profile} seed {a.seed}"

    with log.stage("1 structures and labels"):
        labeller = ChgnetLabeller(threads=a.threads)
        systems, variants = starting_structures(p, tools, rng, out, labeller)
        labelled = [labeller.label(v) for v in variants]
        training, heldout = [], []
        for name in systems:  # each system held out in proportion, at least one configuration
            mine = [x for x in labelled if x.info["system"] == name]
            order = rng.permutation(len(mine))
            n_held = max(1, int(round(p.heldout_fraction * len(mine))))
            heldout += [mine[k] for k in order[:n_held]]
            training += [mine[k] for k in order[n_held:]]
        log(f"{len(training)} training, {len(heldout)} held-out configurations ({LABEL_SOURCE})")

    min_dist = min(float(np.min(t.get_all_distances(mic=True)[np.triu_indices(len(t), 1)]))
                   for t in training + heldout)
    mtp0 = out / "mtp-untrained.mtp"
    untrained_mtp(p, tools, mtp0, round(min_dist - 0.1, 2), tag)
    iteration_log = []
    mtp, almtp = out / "mtp-0.mtp", out / "mtp-0.almtp"
    with log.stage("2 MTP training"):
        train_mtp(mtp0, mtp, training, p.lbfgs_iterations, a.seed, out, tag)
    with log.stage("2 active set"):
        A = make_almtp(mtp, almtp, training)

    converged = False
    md_seed = 4928459
    for it in range(1, p.al_iterations + 1):
        with log.stage("3 MD with grades"):
            candidates, runs = [], []
            for name, start in systems.items():
                for temp in p.md_temperatures:
                    md_seed += 1
                    done, sel = run_md(tools, start, almtp, temp, p.md_steps, md_seed, p, out,
                                          f"it{it}-{name}-{temp}K")
                    runs.append({"system": name, "T": temp, "completed": done, "selected": len(sel)})
                    for s in sel:
                        s.info["system"] = name
                    candidates += sel
        log(f"iteration {it}: " + ", ".join(f"{r['system']} {r['T']} K {'ok' if r['completed'] else 'BREAK'} "
                                            f"({r['selected']} selected)" for r in runs))
        entry = {"iteration": it, "runs": runs, "candidates": len(candidates)}
        if all(r["completed"] for r in runs):
            converged = True
            entry["added"] = 0
            iteration_log.append(entry)
            log(f"iteration {it}: every run completed below break {p.breaks}: converged")
            break
        with log.stage("3 select_add"):
            grade = [c.info.get("MV_grade", 0.0) for c in candidates]
            chosen = active_set.select_add(A, mtp, NUMBERS, candidates)
            if not chosen:  # every candidate lies in A's span: add the worst graded anyway
                chosen = [int(np.argmax(grade))]
            chosen = sorted(chosen, key=lambda k: -grade[k])[: p.max_added_per_iteration]
        with log.stage("3 labels"):
            added = [labeller.label(candidates[k]) for k in chosen]  # info (system, grade) kept
        training += added
        entry["added"] = len(added)
        iteration_log.append(entry)
        mtp, almtp = out / f"mtp-{it}.mtp", out / f"mtp-{it}.almtp"
        with log.stage("2 MTP training"):
            train_mtp(out / f"mtp-{it - 1}.mtp", mtp, training, p.lbfgs_retrain_iterations, a.seed + it, out, tag)
        with log.stage("2 active set"):
            A = make_almtp(mtp, almtp, training)
        # Exact positions (extxyz rounds them to 1e-8 A, which moves grades near MaxVol's
        # degenerate directions by more than its tolerance).
        write(out / f"added-{it}.traj", added)
    report["active_learning"] = {"iterations": iteration_log, "converged": converged}
    write(out / "training.traj", training)
    write(out / "heldout.traj", heldout)
    final = {"mtp": str(almtp)}

    if not a.skip_mace:
        with log.stage("4 MACE training"):
            mace_dir = out / "mace"
            mace_dir.mkdir(exist_ok=True)
            write_mace_xyz(mace_dir / "train.xyz", training)
            write_mace_xyz(mace_dir / "valid.xyz", heldout)
            final["mace"] = str(train_mace(mace_dir / "train.xyz", mace_dir / "valid.xyz", p, a.seed, mace_dir, tag))

    with log.stage("5 validation"):
        import validate
        report["validation"] = validate.run(final, heldout, labeller, p, a.profile, out, build, log)
    report["models"] = final
    (out / "report.json").write_text(json.dumps(report, indent=1, default=float))
    log(f"report: {out / 'report.json'}")
    return report


if __name__ == "__main__":
    main()
