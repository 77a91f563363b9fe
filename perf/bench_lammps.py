"""LAMMPS MD throughput with mlpot's pair styles (Kokkos-OpenMP), next to the library's own
`mlpot bench` figure for the same model and system (so the LAMMPS overhead shows).

MTP: synthetic level-16 6-species model, Li2CO3 3x5x4 (1440 atoms) and 6x10x8 (11520 atoms)
and amorphous Li2EDC (72 molecules, 1152 atoms, `mlpot build li2edc`), mtp/kk with 1 and 2
OpenMP threads. MACE: tiny and seed-architecture (float32) models with
mace/kk on 1440 atoms (the seed model only with --seed: > 20 GB of memory in ghost-node mode). NVE at 300 K, dt 0.5 fs. Writes perf/results/lammps_cpu.csv.
Usage: bench_lammps.py --lmp build/bin/lmp --plugin-dir build/lib --mlpot build/bin/mlpot
       --templates ../shared/data/mtp-templates --models build/models [--quick]
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mtp import cpu_name  # noqa: E402

DT_PS = 0.0005


def write_data(cfg, data):
    lines = Path(cfg).read_text().splitlines()
    n = int(lines[2])
    cell = [[float(v) for v in lines[k].split()] for k in (4, 5, 6)]
    atoms = [l.split() for l in lines[8:8 + n]]
    out = ["li2co3", "", f"{n} atoms", "6 atom types", "", f"0 {cell[0][0]!r} xlo xhi", f"0 {cell[1][1]!r} ylo yhi",
           f"0 {cell[2][2]!r} zlo zhi", f"{cell[1][0]!r} {cell[2][0]!r} {cell[2][1]!r} xy xz yz", "", "Masses", ""]
    out += [f"{t + 1} {m}" for t, m in enumerate([1.008, 6.94, 12.011, 15.999, 18.998, 30.974])]
    out += ["", "Atoms # atomic", ""] + [f"{a[0]} {int(a[1]) + 1} {a[2]} {a[3]} {a[4]}" for a in atoms]
    Path(data).write_text("\n".join(out) + "\n")
    return n


def lammps(lmp, plugin_dir, workdir, data, pair_style, steps, threads, kokkos=True):
    inp = Path(workdir) / "bench.in"
    inp.write_text(f"""units metal
atom_style atomic
atom_modify map yes
read_data {data}
{pair_style}
pair_coeff * * H Li C O F P
velocity all create 300 12345 loop geom
timestep {DT_PS}
fix 1 all nve
thermo 100000
run 2
run {steps}
""")
    env = dict(os.environ, LAMMPS_PLUGIN_PATH=str(plugin_dir), OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="false")
    cmd = [lmp, "-in", str(inp), "-screen", "none", "-log", str(Path(workdir) / "log.lammps"), "-nocite"]
    if kokkos:
        cmd += ["-k", "on", "t", str(threads), "-sf", "kk", "-pk", "kokkos", "newton", "on", "neigh", "half"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env)
    log = (Path(workdir) / "log.lammps").read_text()
    if r.returncode != 0:
        sys.exit(f"LAMMPS failed: {log[-2000:]}{r.stderr[-2000:]}")
    m = re.findall(r"Loop time of (\S+) on \d+ procs for (\d+) steps with (\d+) atoms", log)[-1]
    t, nsteps, natoms = float(m[0]), int(m[1]), int(m[2])
    return t / nsteps, natoms


def mlpot_bench(mlpot, model, structure, threads, extra=()):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="false")
    r = subprocess.run([mlpot, "bench", "--model", model, "--input", structure, "--threads", str(threads),
                        "--steps", "5", *extra], capture_output=True, text=True, env=env)
    return float(re.search(r"ms/step\s+([0-9.eE+-]+)", r.stdout).group(1)) / 1e3


def main():
    ap = argparse.ArgumentParser()
    for k in ("lmp", "plugin-dir", "mlpot", "templates", "models"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--out", default="perf/results")
    ap.add_argument("--quick", action="store_true", help="1440 atoms only")
    ap.add_argument("--seed", action="store_true", help="also the seed-architecture MACE model (needs > 20 GB)")
    a = ap.parse_args()
    for k in ("lmp", "plugin_dir", "mlpot", "templates", "models"):
        setattr(a, k, str(Path(getattr(a, k)).resolve()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mtp = tmp / "syn16.mtp"
        subprocess.run([a.mlpot, "make-model", "--template", f"{a.templates}/16.almtp", "--out", mtp], check=True,
                       capture_output=True)
        systems = {}
        for cells in ["3x5x4"] + ([] if a.quick else ["6x10x8"]):
            cfg = tmp / f"li-{cells}.cfg"
            subprocess.run([a.mlpot, "build", "li2co3", "--cells", cells, "--out", cfg], check=True, capture_output=True)
            data = tmp / f"li-{cells}.data"
            systems[cells] = (cfg, data, write_data(cfg, data))
        # Amorphous Li2EDC, 72 molecules (1152 atoms), the seed study's second system.
        cfg, data = tmp / "li2edc-72.cfg", tmp / "li2edc-72.data"
        subprocess.run([a.mlpot, "build", "li2edc", "--molecules", "72", "--out", cfg], check=True, capture_output=True)
        systems["li2edc-72"] = (cfg, data, write_data(cfg, data))
        cases = []
        for cells in systems:
            for threads in (1, 2):
                cases.append(("mtp/kk", f"pair_style mtp {mtp} elements H Li C O F P", mtp, cells, threads,
                              20 if cells == "6x10x8" else 200))
        # The seed-architecture model in ghost-node mode needs ~22 GB and ~85 s per step for 1440
        # atoms on these 2-core machines (measured once, see README): only with --seed.
        mace_models = ["tiny-float32"] + (["seed-float32"] if a.seed else [])
        for name in mace_models:
            model = Path(a.models) / f"{name}-lammps.pt"
            cases.append(("mace/kk", f"pair_style mace {model}", model, "3x5x4", 2, 5 if name.startswith("tiny") else 2))
        # Single-rank periodic mode (pair_style mace ... periodic, host glue).
        for name in ["tiny-float32"] + ([] if a.quick else ["seed-float32"]):
            model = Path(a.models) / f"{name}-lammps.pt"
            for system in ("3x5x4", "li2edc-72"):
                cases.append(("mace periodic", f"pair_style mace {model} periodic", model, system, 2,
                              5 if name.startswith("tiny") else 1))
        for style, ps, model, cells, threads, steps in cases:
            cfg, data, n = systems[cells]
            per_step, natoms = lammps(a.lmp, a.plugin_dir, tmp, data, ps, steps, threads, kokkos=style.endswith("/kk"))
            mode = ("--mace-mode", "periodic" if "periodic" in style else "ghost", "--virial", "no")
            lib = mlpot_bench(a.mlpot, model, cfg, threads, mode if style.startswith("mace") else ())
            ns_day = DT_PS * 1e-3 * 86400 / per_step
            rows.append((style, Path(model).name, natoms, threads, per_step, natoms / per_step, ns_day, lib))
            system = "li2co3-" + cells if "x" in cells else cells
            print(f"{style:8s} {Path(model).name:24s} {system:12s} {natoms:6d} atoms {threads} thr: {per_step * 1e3:9.2f} ms/step "
                  f"{natoms / per_step:10.4g} atom-steps/s {ns_day:8.4g} ns/day | mlpot bench {lib * 1e3:9.2f} ms/step "
                  f"(LAMMPS/library {per_step / lib:4.2f})", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "lammps_cpu.csv"
    new = not csv.exists()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with csv.open("a") as f:
        if new:
            f.write("date,commit,machine,style,model,atoms,threads,s_per_step,atom_steps_per_s,ns_per_day_at_0.5fs,"
                    "mlpot_bench_s_per_step\n")
        for r in rows:
            f.write(f"{stamp},{commit},{cpu_name()} ({os.cpu_count()} cores),{r[0]},{r[1]},{r[2]},{r[3]},{r[4]:.6g},"
                    f"{r[5]:.6g},{r[6]:.6g},{r[7]:.6g}\n")
    print(f"appended to {csv}")


if __name__ == "__main__":
    main()
