"""The main job: molecular-dynamics throughput of mlpot's potentials on the built-in SEI systems,
on whatever hardware is present, next to the seed study's figures.

  models   the synthetic level-16 6-species MTP (FP64) and the seed-architecture MACE
           (128x0e+128x1o, r_max 5, 2 interactions, float32)
  systems  monoclinic Li2CO3 3x5x4 (1440 atoms), amorphous Li2EDC (72 molecules, 1152 atoms),
           and a size series of Li2CO3 doubling from 2x2x2 up to the largest cell whose timed
           steps fit in --max-seconds (60 s) of benchmark time and whose memory (extrapolated
           from the previous cell's peak) fits in what the machine has available
  backend  Kokkos CUDA when a GPU is present (and a LAMMPS built for it is given), Kokkos OpenMP
           with all cores otherwise; the choice is printed
  engine   LAMMPS (NVE at 300 K, 0.5 fs, pair styles mtp/kk and mace/kk periodic, one rank), or,
           where no LAMMPS for the backend exists, mlpot bench (the force call alone); printed
Prints a table (atom-steps/s, ns/day at 0.5 fs, microseconds per step, the seed study beside),
shows progress while it runs, appends rows to perf/results/main_job.csv and draws
perf/results/main_job_<backend>.png.
"""
import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mtp import cpu_name  # noqa: E402

DT_FS = 0.5
# The seed study (2025): MTP level 16, 6 species, cutoff 5 A, ~10 ns/day for ~1000 atoms on a
# 128-core AMD EPYC 7713 node (MLIP-3 in LAMMPS); MACE 128x0e+128x1o float32, ~180 ps/day for
# 1440 atoms on one A100 (mace-torch in LAMMPS).
SEED = {
    "mtp": {"ns_day": 10.0, "atoms": 1000, "where": "MLIP-3, 128-core EPYC 7713 node"},
    "mace": {"ns_day": 0.18, "atoms": 1440, "where": "mace-torch, one A100"},
}
MIN_STEPS = {"mtp": 10, "mace": 2}
TARGET_SECONDS = 8.0  # timed stepping per case when the step is cheap (--target-seconds)


def ns_day(s_per_step):
    return DT_FS * 1e-6 * 86400 / s_per_step


def atom_steps_from_ns_day(ns, atoms):
    return ns / (DT_FS * 1e-6) / 86400 * atoms


def seed_atom_steps(model):
    return atom_steps_from_ns_day(SEED[model]["ns_day"], SEED[model]["atoms"])


def gpu_name():
    if not shutil.which("nvidia-smi"):
        return None
    r = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                       capture_output=True, text=True)
    line = r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else ""
    return line or None


class Progress:
    """One line per case; while it runs, a bar from the LAMMPS log (or the elapsed time) is
    redrawn in place on a terminal and printed every 15 s otherwise."""

    def __init__(self, total):
        self.total, self.done = total, 0
        self.tty = sys.stdout.isatty()

    def start(self, label, steps, log=None):
        self.done += 1
        self.label, self.steps, self.log = label, steps, log
        self.t0 = time.time()
        self.stop = threading.Event()
        tag = f"{self.done}/{self.total}" if self.done <= self.total else f"series {self.done - self.total}"
        print(f"[{tag}] {label} ...", flush=True)
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _current_step(self):
        if not self.log or not Path(self.log).exists():
            return None
        steps = re.findall(r"^\s+(\d+)\s+\S+\s*$", Path(self.log).read_text(errors="replace"), re.M)
        return int(steps[-1]) if steps else None

    def _watch(self):
        last_print = 0.0
        while not self.stop.wait(0.5):
            el = time.time() - self.t0
            step = self._current_step()
            if step is not None and self.steps:
                frac = min(1.0, step / self.steps)
                bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
                msg = f"      [{bar}] step {step}/{self.steps}, {el:6.1f} s"
            else:
                msg = f"      setting up / warming up, {el:6.1f} s"
            if self.tty:
                print("\r" + msg, end="", flush=True)
            elif el - last_print >= 15:
                print(msg, flush=True)
                last_print = el

    def finish(self, summary):
        self.stop.set()
        self.thread.join()
        if self.tty:
            print("\r" + " " * 78 + "\r", end="")
        print(f"      {summary}", flush=True)


def run_child(cmd, env, cwd=None):
    """Run cmd to completion: (exit code, stdout, stderr, the child's peak resident memory in bytes).
    The peak comes from wait4's rusage, hence files instead of pipes (communicate() would reap it)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, cwd=cwd)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), usage.ru_maxrss * 1024  # ru_maxrss: KiB on Linux


def available_memory():
    """Bytes the kernel could give a new process now (MemAvailable), or None off Linux."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def write_data(cfg, data):
    """MLIP cfg (as written by mlpot build) -> LAMMPS data file with a triclinic box."""
    lines = Path(cfg).read_text().splitlines()
    n = int(lines[2])
    cell = [[float(v) for v in lines[k].split()] for k in (4, 5, 6)]
    if abs(cell[0][1]) + abs(cell[0][2]) + abs(cell[1][2]) > 1e-12:
        sys.exit(f"{cfg}: cell is not in LAMMPS' lower-triangular form")
    out = ["mlpot main job", "", f"{n} atoms", "6 atom types", "", f"0 {cell[0][0]!r} xlo xhi", f"0 {cell[1][1]!r} ylo yhi",
           f"0 {cell[2][2]!r} zlo zhi", f"{cell[1][0]!r} {cell[2][0]!r} {cell[2][1]!r} xy xz yz", "", "Masses", ""]
    out += [f"{t + 1} {m}" for t, m in enumerate([1.008, 6.94, 12.011, 15.999, 18.998, 30.974])]
    out += ["", "Atoms # atomic", ""]
    for l in lines[8:8 + n]:
        a = l.split()
        out.append(f"{a[0]} {int(a[1]) + 1} {a[2]} {a[3]} {a[4]}")
    Path(data).write_text("\n".join(out) + "\n")
    return n


class Runner:
    def __init__(self, a, backend, work):
        self.a, self.backend, self.work = a, backend, work

    def lammps(self, model, model_file, data, steps, threads):
        work = self.work
        log = work / "log.lammps"
        if log.exists():
            log.unlink()
        device = " device cuda" if self.backend == "cuda" else ""
        precision = " precision mixed" if self.a.mtp_precision == "mixed" else ""
        style = (f"pair_style mtp {model_file} elements H Li C O F P{precision}" if model == "mtp"
                 else f"pair_style mace {model_file}{device} periodic")
        # MACE on a GPU: LibTorch's TorchScript executor profiles and compiles its fused kernels
        # over the first steps (H200, 2026-11-26: steps 1-4 took 0.7-2.1 s each, then 42 ms), so
        # those steps stay out of the timed run. On the CPU nothing is fused and a step takes
        # seconds: one warm-up step there.
        warm = 2 if model == "mtp" else (10 if self.backend == "cuda" else 1)
        inp = work / "md.in"
        inp.write_text(f"""units metal
atom_style atomic
atom_modify map yes
read_data {data}
{style}
pair_coeff * * H Li C O F P
velocity all create 300 12345 loop geom
timestep {DT_FS / 1000}
fix 1 all nve
thermo_style custom step pe
thermo {max(1, steps // 20)}
run {warm}
reset_timestep 0
run {steps}
""")
        env = dict(os.environ, LAMMPS_PLUGIN_PATH=str(self.a.plugin_dir), OMP_NUM_THREADS=str(threads),
                   OMP_PROC_BIND="false")
        kk = ["-k", "on", "g", "1"] if self.backend == "cuda" else ["-k", "on", "t", str(threads)]
        cmd = [self.a.lmp, "-in", str(inp), "-screen", "none", "-log", str(log), "-nocite", *kk, "-sf", "kk",
               "-pk", "kokkos", "newton", "on", "neigh", "half"]
        code, _, stderr, peak = run_child(cmd, env, cwd=work)
        text = log.read_text(errors="replace") if log.exists() else ""
        if code != 0:
            err = [l for l in (text + stderr).splitlines() if "ERROR" in l or "rror" in l]
            raise RuntimeError(err[-1] if err else f"LAMMPS exited with {code}")
        m = re.findall(r"Loop time of (\S+) on \d+ procs for (\d+) steps with (\d+) atoms", text)[-1]
        return float(m[0]) / int(m[1]), peak

    def library(self, model, model_file, cfg, steps, threads):
        mlpot = self.a.mlpot if model == "mtp" else (self.a.mlpot_mace or self.a.mlpot)
        extra = (["--backend", "Cuda"] if model == "mtp" else ["--device", "cuda"]) if self.backend == "cuda" else []
        if model == "mtp" and self.a.mtp_precision == "mixed":
            extra += ["--precision", "mixed"]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="false")
        code, stdout, stderr, peak = run_child([mlpot, "bench", "--model", model_file, "--input", cfg, "--threads",
                                                str(threads), "--steps", str(steps), "--warmup", "2", *extra], env)
        m = re.search(r"ms/step\s+([0-9.eE+-]+)", stdout)
        if code != 0 or not m:
            raise RuntimeError((stderr.strip().splitlines() or ["mlpot bench failed"])[-1])
        return float(m.group(1)) / 1e3, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--mlpot-mace", help="mlpot built with LibTorch, if --mlpot is not")
    ap.add_argument("--lmp", help="LAMMPS with KOKKOS for the backend (omit: the library engine)")
    ap.add_argument("--plugin-dir", help="folder with mlpotplugin.so for that LAMMPS")
    ap.add_argument("--lammps-models", default="mtp,mace",
                    help="models run through LAMMPS (the others through mlpot bench)")
    ap.add_argument("--templates", help="MLIP-3 templates (the MTP is made from 16.almtp)")
    ap.add_argument("--mtp-model", help="a ready synthetic MTP instead of --templates")
    ap.add_argument("--models", required=True, help="folder with seed-float32-lammps.pt")
    ap.add_argument("--out", default="perf/results")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="size series: timed steps per cell at most")
    ap.add_argument("--max-atoms", type=int, default=10**7, help="size series: largest cell at most")
    ap.add_argument("--memory-limit", type=float,
                    help="size series: GiB a case may use (default: what the machine has available)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--target-seconds", type=float, default=TARGET_SECONDS, help="timed stepping per case")
    ap.add_argument("--quick", action="store_true", help="MTP only, size series up to 10 s")
    ap.add_argument("--no-mace", action="store_true")
    ap.add_argument("--only", choices=["mtp", "mace"], help="one model only")
    ap.add_argument("--commit", help="the commit the binaries were built from (default: this checkout's HEAD)")
    ap.add_argument("--mtp-precision", choices=["double", "mixed"], default="double",
                    help="the MTP kernel's arithmetic (docs/mtp.md, Mixed precision); rows of mixed runs "
                         "have the engine column suffixed ' mixed'")
    a = ap.parse_args()
    for k in ("mlpot", "mlpot_mace", "lmp", "plugin_dir", "templates", "mtp_model", "models"):
        if getattr(a, k):
            setattr(a, k, str(Path(getattr(a, k)).resolve()))
    if a.quick:
        a.max_seconds = min(a.max_seconds, 10.0)

    gpu = gpu_name()
    backend = "cuda" if gpu else "openmp"
    lammps_models = set(a.lammps_models.split(",")) if a.lmp and a.plugin_dir else set()
    engines = {m: ("lammps" if m in lammps_models else "library") for m in ("mtp", "mace")}
    threads = 1 if gpu else a.threads
    hardware = f"GPU {gpu}" if gpu else f"{cpu_name()} ({os.cpu_count()} cores)"
    print(f"hardware  {hardware}")
    print(f"backend   {'Kokkos CUDA (one GPU)' if gpu else f'Kokkos OpenMP, {threads} threads (no GPU found)'}")
    models = ["mtp"] + ([] if (a.no_mace or a.quick) else ["mace"])
    if a.only:
        models = [a.only]
    for m in models:
        style = "mtp/kk" if m == "mtp" else "mace/kk periodic"
        print(f"engine    {m}: " + (f"LAMMPS MD ({style}), NVE 300 K, dt 0.5 fs, one MPI rank" if engines[m] == "lammps"
                                    else "mlpot bench: the force call alone (no LAMMPS with this style given)"))
    engine = "+".join(sorted(set(engines[m] for m in models)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = Runner(a, backend, tmp)
        model_files = {"mtp": tmp / "synthetic-l16-6sp.mtp", "mace": Path(a.models) / "seed-float32-lammps.pt"}
        if a.mtp_model:
            model_files["mtp"] = Path(a.mtp_model)
        elif "mtp" in models:
            if not a.templates:
                sys.exit("main_job: give --templates or --mtp-model")
            subprocess.run([a.mlpot, "make-model", "--template", f"{a.templates}/16.almtp", "--out", model_files["mtp"]],
                           check=True, capture_output=True)
        if "mace" in models and not model_files["mace"].exists():
            sys.exit(f"{model_files['mace']}: missing (scripts/build.sh makes it)")
        systems = {}

        def system(name):
            if name not in systems:
                cfg, data = tmp / f"{name}.cfg", tmp / f"{name}.data"
                if name.startswith("li2edc-"):
                    cmd = ["build", "li2edc", "--molecules", name.split("-")[1], "--out", cfg]
                else:
                    cmd = ["build", "li2co3", "--cells", name.split("-")[1], "--out", cfg]
                subprocess.run([a.mlpot, *cmd], check=True, capture_output=True)
                systems[name] = (cfg, data, write_data(cfg, data))
            return systems[name]

        # Per-atom-step cost estimates (seconds) for choosing step counts; refined by each run.
        cost = {"mtp": (30e-6 if not gpu else 0.2e-6) / threads * 2, "mace": (30e-3 if not gpu else 20e-6) / threads * 2}
        series = ["2x2x2", "4x2x2", "4x4x2", "4x4x4", "8x4x4", "8x8x4", "8x8x8", "16x8x8", "16x16x8", "16x16x16",
                  "32x16x16", "32x32x16", "32x32x32", "64x32x32", "64x64x32", "64x64x64"]
        cases = []
        for model in models:
            cases += [(model, "li2co3-3x5x4", "fixed", threads), (model, "li2edc-72", "fixed", threads)]
            if model == "mtp" and not gpu and threads > 1:
                # Thread scaling: 1 thread against all, interleaved twice, best of each (these
                # shared VMs drift by ~10 % within minutes).
                cases += [(model, "li2co3-3x5x4", "scaling", 1), (model, "li2co3-3x5x4", "scaling", threads),
                          (model, "li2co3-3x5x4", "scaling", 1)]
        progress = Progress(len(cases))  # then the size series, as long as cells fit
        stopped = {}
        memory = {m: 0.0 for m in models}  # peak resident bytes per atom of the last full-thread run

        # Rows are appended to the CSV as each case finishes, so a run stopped part-way (a
        # timeout on a lent GPU) keeps what it measured.
        commit = a.commit or subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                            cwd=Path(__file__).resolve().parent).stdout.strip()
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        csv = out / "main_job.csv"
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if not csv.exists():
            csv.write_text("date,commit,hardware,backend,engine,model,system,kind,atoms,threads,steps,s_per_step,"
                           "atom_steps_per_s,ns_per_day_at_0.5fs,us_per_step,seed_ns_per_day,seed_atom_steps_per_s,"
                           "ratio_to_seed_atom_steps\n")

        def record(r):
            with csv.open("a") as f:
                f.write(f"{stamp},{commit},\"{hardware}\",{backend},{r['engine']},{r['model']},{r['system']},"
                        f"{r['kind']},{r['atoms']},{r['threads']},{r['steps']},{r['s_per_step']:.6g},"
                        f"{r['atoms'] / r['s_per_step']:.6g},{ns_day(r['s_per_step']):.6g},{r['s_per_step'] * 1e6:.6g},"
                        f"{SEED[r['model']]['ns_day']},{seed_atom_steps(r['model']):.6g},"
                        f"{(r['atoms'] / r['s_per_step']) / seed_atom_steps(r['model']):.4g}\n")

        def one(model, name, kind, thr):
            cfg, data, n = system(name)
            steps = max(MIN_STEPS[model], min(2000, int(a.target_seconds / (cost[model] * n))))
            label = (f"{'mtp/kk' if model == 'mtp' else 'mace/kk'} {name} ({n} atoms), {thr} thread(s), {steps} steps"
                     if engines[model] == "lammps" else f"mlpot bench {model} {name} ({n} atoms), {steps} steps")
            progress.start(label, steps, tmp / "log.lammps" if engines[model] == "lammps" else None)
            t0 = time.time()
            try:
                if engines[model] == "lammps":
                    s, peak = run.lammps(model, model_files[model], data, steps, thr)
                else:
                    s, peak = run.library(model, model_files[model], cfg, steps, thr)
            except RuntimeError as e:
                progress.finish(f"failed: {e}")
                return None
            wall = time.time() - t0
            if thr == threads:
                cost[model] = s / n
                memory[model] = peak / n
            row = dict(model=model, system=name, kind=kind, atoms=n, threads=thr, steps=steps, s_per_step=s,
                       wall=wall, engine=engines[model] + (" mixed" if model == "mtp" and a.mtp_precision == "mixed" else ""))
            rows.append(row)
            record(row)
            progress.finish(f"{n / s:10.4g} atom-steps/s  {ns_day(s):9.4g} ns/day  {s * 1e6:12.1f} us/step"
                            f"  ({wall:.0f} s, peak {peak / 2**30:.1f} GiB)")
            return row

        for c in cases:
            one(*c)
        for model in models:
            for cells in series:
                name = f"li2co3-{cells}"
                na, nb, nc = (int(v) for v in cells.split("x"))
                n = 24 * na * nb * nc
                predicted = cost[model] * n * MIN_STEPS[model]
                if n > a.max_atoms:
                    stopped[model] = f"next cell {cells} ({n} atoms) is above --max-atoms {a.max_atoms}"
                    break
                # Host memory grows with the cell (MACE's edge tensors): a cell that would not fit
                # is not started (the kernel would kill it). Linear in the atoms from the last
                # cell's peak, which over-estimates a little (the fixed part is counted too).
                need = memory[model] * n
                free = a.memory_limit * 2**30 if a.memory_limit else available_memory()
                if free is not None and need > 0.9 * free:
                    stopped[model] = (f"next cell {cells} ({n} atoms) would need ~{need / 2**30:.2f} GiB of memory > "
                                      f"90 % of {free / 2**30:.2f} GiB available")
                    break
                if predicted > a.max_seconds:
                    stopped[model] = (f"next cell {cells} ({n} atoms) would need ~{predicted:.0f} s for "
                                      f"{MIN_STEPS[model]} steps > {a.max_seconds:.0f} s")
                    break
                if one(model, name, "series", threads) is None:
                    stopped[model] = f"cell {cells} ({n} atoms) failed (see above)"
                    break

    # Table.
    print()
    print(f"{'model':5s} {'system':20s} {'atoms':>8s} {'thr':>3s} {'atom-steps/s':>13s} {'ns/day':>9s} "
          f"{'us/step':>11s}   seed study (ns/day @ atoms; atom-steps/s)        ours/seed")
    for r in rows:
        sd = SEED[r["model"]]
        ratio = (r["atoms"] / r["s_per_step"]) / seed_atom_steps(r["model"])
        print(f"{r['model']:5s} {r['system'] + ('' if r['kind'] != 'scaling' else ' (scal.)'):20s} {r['atoms']:8d} "
              f"{r['threads']:3d} {r['atoms'] / r['s_per_step']:13.4g} {ns_day(r['s_per_step']):9.4g} "
              f"{r['s_per_step'] * 1e6:11.1f}   {sd['ns_day']:5.3g} @ {sd['atoms']:4d}; {seed_atom_steps(r['model']):8.3g} "
              f"({sd['where']})  {ratio:6.3g}x")
    for model, why in stopped.items():
        print(f"size series ({model}) stopped: {why}")
    li = [r for r in rows if r["model"] == "mtp" and r["system"] == "li2co3-3x5x4" and r["kind"] != "series"]
    one = [r["s_per_step"] for r in li if r["threads"] == 1]
    full = [r["s_per_step"] for r in li if r["threads"] == threads]
    if one and full and threads > 1:
        print(f"{'mtp/kk' if engines['mtp'] == 'lammps' else 'mlpot bench mtp'} OpenMP scaling, 1 -> {threads} threads "
              f"(1440 atoms, best of {len(one)} and {len(full)} interleaved runs): {min(one) / min(full):.2f}x")

    print(f"appended {len(rows)} rows to {csv}")
    png = out / f"main_job_{backend}.png"
    if plot(rows, png, f"{hardware}; {backend}, {engine}; {stamp[:10]}, {commit}"):
        print(f"plot: {png}")


def plot(rows, png, title):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed here: no plot")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    colors = {"mtp": "tab:blue", "mace": "tab:red"}
    names = {"mtp": "MTP level 16, 6 species (FP64)", "mace": "MACE seed architecture (float32)"}
    for model in ("mtp", "mace"):
        ser = sorted((r for r in rows if r["model"] == model and r["kind"] == "series"), key=lambda r: r["atoms"])
        if ser:
            ax1.loglog([r["atoms"] for r in ser], [r["atoms"] / r["s_per_step"] for r in ser], "o-",
                       color=colors[model], label=f"{names[model]}, Li2CO3 series")
        if any(r["model"] == model for r in rows):
            ax1.axhline(seed_atom_steps(model), color=colors[model], ls="--", lw=1,
                        label=f"seed study {model.upper()} ({SEED[model]['where']})")
    ax1.set_xlabel("atoms")
    ax1.set_ylabel("atom-steps / s")
    ax1.set_title("throughput vs system size")
    ax1.legend(fontsize=7)
    ax1.grid(True, which="both", alpha=0.3)
    fixed = [r for r in rows if r["kind"] == "fixed"]
    labels = [f"{r['model'].upper()}\n{r['system']}\n{r['atoms']} atoms" for r in fixed]
    xs = range(len(fixed))
    ax2.bar([x - 0.2 for x in xs], [ns_day(r["s_per_step"]) for r in fixed], 0.4, label="mlpot (this run)",
            color=[colors[r["model"]] for r in fixed])
    ax2.bar([x + 0.2 for x in xs], [SEED[r["model"]]["ns_day"] for r in fixed], 0.4,
            label="seed study (MTP ~1000 atoms, 128-core node; MACE 1440 atoms, A100)",
            color="lightgray", edgecolor="gray")
    ax2.set_xticks(list(xs))
    ax2.set_xticklabels(labels, fontsize=8)
    ax2.set_yscale("log")
    ax2.set_ylabel("ns / day at 0.5 fs")
    ax2.set_title("SEI systems vs the seed study")
    ax2.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    return True


if __name__ == "__main__":
    main()
