"""Extrapolation control of pair_style mtp and mtp/kk in a real LAMMPS: grades on 1, 2 and 4
MPI ranks against `mlpot grade` (itself checked against motep + numpy in
tests/python/test_grade.py), per-atom grades through compute mtp/grade, configurations above
`select` written in order, and a run crossing `break` stopped with a message and a complete
output file.

The selection states have a dense random inverse (every parameter's gradient counts), scaled
so the starting configuration grades exactly 1."""
import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from test_grade import read_grades, write_als  # noqa: E402
from test_lammps import Lammps, check, values, write_cfg, write_data  # noqa: E402


def write_state(src, dst, mode, M):
    """src's potential text with a state whose stored inverse is M (A = inv(M^T))."""
    text = Path(src).read_bytes().split(b"\n#MVS_v1.1\n")[0]
    n = M.shape[0]
    A = np.linalg.inv(M.T)
    ew, nw = (1.0, 0.0) if mode == "cfg" else (0.0, 1.0)
    head = (f"\n#MVS_v1.1\nenergy_weight {ew:.16e}\nforce_weight {0.0:.16e}\nstress_weight {0.0:.16e}\n"
            f"site_en_weight {nw:.16e}\nweight_scaling 2\n#").encode()
    Path(dst).write_bytes(text + head + A.astype("<f8").tobytes() + M.astype("<f8").tobytes() + b"\n#\n" +
                          b"-1 -1\n" * n + b"#\n")


def grade_script(data, pair_style, pair_coeff, steps=0, velocity="", thermo=1, dump=None):
    return f"""
units metal
atom_style atomic
boundary p p p
read_data {data}
{pair_style}
{pair_coeff}
compute g all mtp/grade
compute gmax all reduce max c_g
thermo_style custom step pe c_g c_gmax
thermo_modify format float %.17g
thermo {thermo}
{velocity}
{f"dump d all custom 1 {dump} id c_g" if dump else ""}
{"dump_modify d format float %.17g sort id" if dump else ""}
timestep 0.0005
fix nve all nve
run {steps}
print "GRADE $(c_g:%.17g)"
"""


def thermo_grades(log):
    """(step, c_g) of every thermo line."""
    out = []
    for m in re.finditer(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", log, re.M):
        try:
            out.append((int(m.group(1)), float(m.group(3))))
        except ValueError:
            pass
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmp", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    args = ap.parse_args()
    for k in ("lmp", "plugin_dir", "mlpot", "templates"):
        setattr(args, k, str(Path(getattr(args, k)).resolve()))
    mlpot = args.mlpot
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lmp = Lammps(args.lmp, args.plugin_dir, tmp)
        base = tmp / "base.almtp"
        subprocess.run([mlpot, "make-model", "--template", f"{args.templates}/16.almtp", "--out", base,
                        "--selection", "cfg"], check=True, capture_output=True)
        subprocess.run([mlpot, "build", "li2co3", "--cells", "1x2x2", "--out", tmp / "li.cfg"], check=True,
                       capture_output=True)
        lines = (tmp / "li.cfg").read_text().splitlines()
        cell = np.array([[float(v) for v in lines[k].split()] for k in (4, 5, 6)])
        n_atoms = int(lines[2])
        atoms = [l.split() for l in lines[8:8 + n_atoms]]
        species = np.array([int(a[1]) for a in atoms])
        pos = np.array([[float(v) for v in a[2:5]] for a in atoms])
        rng = np.random.default_rng(5)
        pos = pos + rng.normal(0, 0.04, pos.shape)
        species[[3, 40]] = [0, 4]
        data, cfg = tmp / "li.data", tmp / "li-ref.cfg"
        write_data(data, cell, pos, species)
        write_cfg(cfg, cell, pos, species)
        n = int(re.search(r"parameters\s+(\d+)", subprocess.run(
            [mlpot, "info", base], capture_output=True, text=True).stdout).group(1))
        G = np.eye(n) + 0.05 * rng.normal(size=(n, n))
        pc = "pair_coeff * * H Li C O F P"

        states, g_start = {}, {}
        for mode in ("cfg", "nbh"):
            raw = tmp / f"raw-{mode}.almtp"
            write_state(base, raw, mode, G)
            subprocess.run([mlpot, "grade", "--model", raw, "--input", cfg, "--output", tmp / "g.cfg"],
                           check=True, capture_output=True)
            g1 = g_start[mode] = read_grades(tmp / "g.cfg")[0]["mv"]
            states[mode] = tmp / f"{mode}.almtp"
            write_state(base, states[mode], mode, G / g1)  # the start grades 1
            subprocess.run([mlpot, "grade", "--model", states[mode], "--input", cfg, "--output", tmp / f"ref-{mode}.cfg"],
                           check=True, capture_output=True)
            ref = read_grades(tmp / f"ref-{mode}.cfg")[0]
            check(f"{mode}: mlpot grade reference (start grade {ref['mv']:.15f})", abs(ref["mv"] - 1) < 1e-12)

            # Run 0 on 1, 2, 4 ranks, mtp and mtp/kk, against mlpot grade.
            for kk in (False, True):
                for ranks in (1, 2, 4):
                    style = "mtp/kk" if kk else "mtp"
                    ps = f"pair_style mtp {states[mode]} elements H Li C O F P extrapolation {tmp}/never.cfg select 1e9 break 2e9"
                    dump = tmp / f"g-{mode}-{kk}-{ranks}.dump"
                    r, out = lmp.run(grade_script(data, ps, pc, dump=dump), ranks=ranks, kokkos=kk,
                                     name=f"g0-{mode}-{kk}-{ranks}.in")
                    got = values(out, "GRADE")
                    ok = r.returncode == 0 and got and abs(got[0] - ref["mv"]) <= 1e-10 * ref["mv"]
                    detail = f"{got} vs {ref['mv']!r}" if r.returncode == 0 else out[-800:]
                    if ok and mode == "nbh":
                        rows = np.array([[float(v) for v in l.split()] for l in
                                         dump.read_text().split("ITEM: ATOMS id c_g\n")[1].splitlines()])
                        dev = np.max(np.abs(rows[:, 1] - ref["nbh"]) / ref["nbh"].max())
                        ok = dev <= 1e-10
                        detail += f", per-atom worst {dev:.2e}"
                    check(f"{mode} {style} -np {ranks}: run 0 grade = mlpot grade", ok, detail)

        # MLIP's own syntax, pair_coeff * * (types = species + 1 in the data file): the same grades.
        # MLIP-3: the state inside the .almtp; MLIP-2: mlip.ini naming the potential and an .als
        # holding the same matrix.
        plain = tmp / "plain.mtp"
        plain.write_bytes(base.read_bytes().split(b"\n#MVS")[0] + b"\n")
        als = tmp / "cfg.als"
        write_als(als, plain.read_text(), np.linalg.inv((G / g_start["cfg"]).T), "cfg", [], [(-1, -1)] * n)
        ini = tmp / "mlip.ini"
        ini.write_text(f"mtp-filename {plain}\nselect TRUE\nselect:load-state {als}\nselect:threshold 1e9\n")
        syntaxes = [(mode, f"MLIP-3 {mode}", f"pair_style mlip load_from={states[mode]} extrapolation_control=true")
                    for mode in ("cfg", "nbh")] + [("cfg", "MLIP-2 .als", f"pair_style mlip {ini}")]
        for mode, label, ps in syntaxes:
            ref = read_grades(tmp / f"ref-{mode}.cfg")[0]
            for kk, ranks in ((False, 1), (True, 2)):
                r, out = lmp.run(grade_script(data, ps, "pair_coeff * *"), ranks=ranks, kokkos=kk,
                                 name=f"mlip-{label.replace(' ', '_')}-{kk}.in")
                got = values(out, "GRADE")
                ok = r.returncode == 0 and got and abs(got[0] - ref["mv"]) <= 1e-10 * ref["mv"]
                check(f"pair_style mlip{'/kk' if kk else ''} ({label}) -np {ranks}: run 0 grade = mlpot grade", ok,
                      f"{got} vs {ref['mv']!r}" if r.returncode == 0 else out[-800:])

        # MLIP settings that have no effect in mlpot: the run goes on, with a LAMMPS warning naming
        # each, and gives the same grade.
        ref = read_grades(tmp / "ref-cfg.cfg")[0]
        warn3 = (f"pair_style mlip load_from={states['cfg']} extrapolation_control=true "
                 "extrapolation_control:log=grades.log extrapolation_control:add_grade_feature=false")
        ini_warn = tmp / "warn.ini"
        ini_warn.write_text(f"mtp-filename {plain}\nselect TRUE\nselect:load-state {als}\nselect:threshold 1e9\n"
                            "select:log grades.log\nselect:energy-weight 1.0\n")
        for label, ps, needles in (
                ("MLIP-3", warn3, ["ignored extrapolation_control:log=grades.log",
                                   "ignored extrapolation_control:add_grade_feature=false"]),
                ("MLIP-2", f"pair_style mlip {ini_warn}", ["ignored select:log grades.log",
                                                           "ignored select:energy-weight 1.0"])):
            r, out = lmp.run(grade_script(data, ps, "pair_coeff * *"), name=f"warn-{label}.in")
            got = values(out, "GRADE")
            warnings = [l for l in out.splitlines() if "WARNING" in l]
            ok = r.returncode == 0 and all(any(n in w for w in warnings) for n in needles) and bool(got) \
                and abs(got[0] - ref["mv"]) <= 1e-10 * ref["mv"]
            check(f"{label} settings without effect: a warning each, the same grade", ok,
                  " | ".join(warnings)[:400] if r.returncode == 0 else out[-500:])

        # Thresholds: a hot NVE run (cfg mode, mtp/kk, 2 ranks) first traced, then re-run with
        # `select` and `break` taken from the trace.
        ps0 = f"pair_style mtp {states['cfg']} elements H Li C O F P extrapolation {tmp}/never.cfg select 1e9 break 2e9"
        vel = "velocity all create 4000 4928459 dist gaussian"
        r, out = lmp.run(grade_script(data, ps0, pc, steps=60, velocity=vel), ranks=2, kokkos=True, name="trace.in")
        trace = thermo_grades(out)
        check("trace run (60 hot NVE steps)", r.returncode == 0 and len(trace) == 61, out[-500:] if r.returncode else "")
        r1, out1 = lmp.run(grade_script(data, ps0, pc, steps=60, velocity=vel), ranks=1, kokkos=False, name="trace1.in")
        trace1 = thermo_grades(out1)
        same = len(trace1) == len(trace) == 61 and all(abs(a[1] - b[1]) <= 1e-9 * b[1] for a, b in zip(trace1, trace))
        check("grade trace: 1 rank (mtp) = 2 ranks (mtp/kk)", same)
        g = np.array([v for _, v in trace])
        print(f"grade trace: start {g[0]:.4f}, max {g.max():.4f} at step {int(g.argmax())}")
        if len(g) == 61 and g.max() > 1.05:
            select = float(np.quantile(g, 0.5))
            # Break between the running maximum and a new record above `select`, half-way through
            # the records: the run must stop exactly there.
            records, running = [], -1.0
            for s, v in trace:
                if v > running and running > select:
                    records.append(0.5 * (running + v))
                running = max(running, v)
            brk = records[len(records) // 2]
            first_over = next(s for s, v in trace if v > brk)
            expected = [s for s, v in trace if v > select and s <= first_over]
            out_cfg = tmp / "preselected.cfg"
            ps = f"pair_style mtp {states['cfg']} elements H Li C O F P extrapolation {out_cfg} select {select!r} break {brk!r}"
            r, out = lmp.run(grade_script(data, ps, pc, steps=60, velocity=vel), ranks=2, kokkos=True, name="brk.in")
            msg = [l for l in out.splitlines() if "ERROR" in l]
            check("break: the run stops with a LAMMPS error naming the grade and step",
                  r.returncode != 0 and msg and "exceeds the break threshold" in msg[0] and f"at step {first_over}" in msg[0],
                  " | ".join(msg)[:300])
            written = read_grades(out_cfg) if out_cfg.exists() else []
            steps = [int(m) for m in re.findall(r"Feature\s+lammps_step\s+(\d+)", out_cfg.read_text())] if written else []
            check(f"select: configurations above {select:.4f} written for steps {expected}", steps == expected,
                  f"written {steps}")
            tr = dict(trace)
            check("written MV_grade = the traced grade of that step",
                  len(expected) > 0 and steps == expected and len(written) == len(steps)
                  and all(abs(w["mv"] - tr[s]) <= 1e-9 * tr[s] for w, s in zip(written, steps)))
            # The same run in MLIP-3's syntax stops at the same step after writing the same steps.
            out3 = tmp / "preselected-mlip3.cfg"
            ps3 = (f"pair_style mlip load_from={states['cfg']} extrapolation_control=true "
                   f"extrapolation_control:threshold_save={select!r} extrapolation_control:threshold_break={brk!r} "
                   f"extrapolation_control:save_extrapolative_to={out3}")
            r3, o3 = lmp.run(grade_script(data, ps3, "pair_coeff * *", steps=60, velocity=vel), ranks=2, kokkos=True,
                             name="brk-mlip3.in")
            msg3 = [l for l in o3.splitlines() if "ERROR" in l]
            steps3 = [int(m) for m in re.findall(r"Feature\s+lammps_step\s+(\d+)", out3.read_text())] \
                if out3.exists() else []
            check("MLIP-3 syntax: threshold_save/threshold_break/save_extrapolative_to act as select/break/FILE",
                  r3.returncode != 0 and msg3 and f"at step {first_over}" in msg3[0] and steps3 == expected,
                  f"written {steps3}; " + " | ".join(msg3)[:300])
            r = subprocess.run([mlpot, "grade", "--model", states["cfg"], "--input", out_cfg, "--output",
                                tmp / "regraded.cfg"], capture_output=True, text=True)
            regraded = read_grades(tmp / "regraded.cfg") if r.returncode == 0 else []
            check("written configurations are complete: mlpot grade re-grades them to the same value",
                  len(regraded) == len(written) and all(abs(a["mv"] - b["mv"]) <= 1e-8 * b["mv"]
                                                        for a, b in zip(regraded, written)), r.stderr[-300:])
        else:
            check("grade trace rises above its start", False, f"{g}")

        # Grading every N steps (`every`, what docs/grade.md recommends for long runs): the grades
        # at steps 0, 5, ... equal the every-step trace's (grading does not change the dynamics),
        # and compute mtp/grade at a step that was not graded is a LAMMPS error, not a stale value.
        if len(trace) == 61:
            ps5 = ps0 + " every 5"
            r, out = lmp.run(grade_script(data, ps5, pc, steps=60, velocity=vel, thermo=5), ranks=2, kokkos=True,
                             name="every5.in")
            t5 = thermo_grades(out)
            tr = dict(trace)
            ok = r.returncode == 0 and [s for s, _ in t5] == list(range(0, 61, 5)) and all(
                abs(v - tr[s]) <= 1e-9 * tr[s] for s, v in t5)
            check("every 5: grades at steps 0, 5, ..., 60 equal the every-step trace", ok,
                  f"{t5[:4]}" if r.returncode == 0 else out[-500:])
            r, out = lmp.run(grade_script(data, ps5, pc, steps=6, velocity=vel, thermo=1), name="every5-thermo1.in")
            msg = [l for l in out.splitlines() if "ERROR" in l]
            check("every 5 with thermo 1: compute mtp/grade on an ungraded step is an error",
                  r.returncode != 0 and msg and "requested at step 1" in msg[0] and "last graded step 0" in msg[0],
                  " | ".join(msg)[:300])

        # Bad input.
        def expect_error(label, pair_style, extra, needle):
            script = f"units metal\natom_style atomic\nread_data {data}\n{pair_style}\n{pc}\n{extra}\nrun 0\n"
            r, out = lmp.run(script, name=f"bad-{check.count()}.in")
            ok = r.returncode != 0 and "ERROR" in out and needle in out
            check(f"bad input: {label}", ok, " | ".join(l for l in out.splitlines() if "ERROR" in l)[:300])

        expect_error("extrapolation with a plain .mtp", f"pair_style mtp {plain} elements H Li C O F P extrapolation x.cfg",
                     "", "no selection state")
        expect_error("every 0", f"pair_style mtp {states['cfg']} elements H Li C O F P extrapolation x.cfg every 0",
                     "", "'every' must be >= 1")
        expect_error("every without extrapolation", f"pair_style mtp {states['cfg']} elements H Li C O F P every 5",
                     "", "select/break/every need 'extrapolation OUT.cfg'")
        expect_error("break below select", f"pair_style mtp {states['cfg']} elements H Li C O F P extrapolation x.cfg "
                     "select 3 break 2", "", "must exceed the select threshold")
        expect_error("compute mtp/grade without extrapolation", f"pair_style mtp {states['cfg']} elements H Li C O F P",
                     "compute g all mtp/grade\nthermo_style custom step c_g", "has no extrapolation control")
        other = tmp / "other.mtp"
        other.write_text(re.sub(r"(species_coeffs\s*=\s*\{)\s*[^,}]+", r"\g<1>0.125", plain.read_text(), count=1))
        other_ini = tmp / "other.ini"
        other_ini.write_text(f"mtp-filename {other}\nselect TRUE\nselect:load-state {als}\n")
        expect_error("MLIP-2 state of another potential", f"pair_style mlip {other_ini}", "",
                     "was made for another potential")
        trunc = tmp / "trunc.almtp"
        trunc.write_bytes(states["cfg"].read_bytes()[:-n * 8 * n])
        expect_error("truncated selection state", f"pair_style mtp {trunc} elements H Li C O F P extrapolation x.cfg",
                     "", "truncated")

    return check.exit_status()


if __name__ == "__main__":
    sys.exit(main())
