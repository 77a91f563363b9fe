"""The mlpot command line end to end: bad input gives a clear error (file and line, or the
atom) and a non-zero exit, never a crash; xyz and cfg inputs give the same results; the
built-in model and system tools work."""
import argparse
import os
import re
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np
from ase.io import read as ase_read

from mlpot_testlib import Checks, random_mtp, read_cfg_results, run, write_cfg

GOOD_CFG = [(np.diag([6.0, 6.0, 6.0]), np.array([[0.1, 0.2, 0.3], [1.9, 1.7, 1.5], [3.5, 3.1, 0.4]]), [0, 1, 1])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    args = ap.parse_args()
    mlpot = args.mlpot
    check = Checks(quiet_ok=True)

    def expect_error(name, cmd, *needles):
        r = run([mlpot] + cmd)
        ok = r.returncode == 1 and all(n in r.stderr for n in needles)
        check(name, ok, f"rc={r.returncode} stderr={r.stderr.strip()!r}")

    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_text = random_mtp(Path(args.templates) / "08.almtp", 2, rng)
        model = tmp / "m.mtp"
        model.write_text(model_text)
        cfg = tmp / "in.cfg"
        write_cfg(cfg, GOOD_CFG)

        # Bad models.
        bad = tmp / "truncated.mtp"
        bad.write_text(model_text[: model_text.index("alpha_index_times =")])
        expect_error("truncated model", ["eval", "--model", bad, "--input", cfg], f"{bad}:", "truncated")
        bad = tmp / "version.mtp"
        bad.write_text(model_text.replace("version = 1.1.0", "version = 1.0.0"))
        expect_error("wrong version", ["eval", "--model", bad, "--input", cfg], f"{bad}:2:", "version '1.0.0'")
        bad = tmp / "species.mtp"
        bad.write_text(model_text.replace("species_count = 2", "species_count = 3"))
        expect_error("species count vs radial_coeffs", ["eval", "--model", bad, "--input", cfg], f"{bad}:", "species_count = 3")
        bad = tmp / "basis.mtp"
        bad.write_text(model_text.replace("RBChebyshev", "RBBessel"))
        expect_error("unknown basis", ["eval", "--model", bad, "--input", cfg], f"{bad}:7:", "unknown radial basis type")
        bad.write_text(model_text.replace("radial_funcs_count", "magnetic_basis_type = BChebyshev\nradial_funcs_count"))
        expect_error("magnetic MTP", ["eval", "--model", bad, "--input", cfg], f"{bad}:", "magnetic moment")
        expect_error("missing model", ["eval", "--model", tmp / "nope.mtp", "--input", cfg], "nope.mtp", "cannot open")
        expect_error("untrained template", ["eval", "--model", Path(args.templates) / "08.almtp", "--input", cfg], "untrained")

        # Bad structures.
        text = cfg.read_text()
        bad = tmp / "nan.cfg"
        bad.write_text(text.replace("1.7", "nan"))
        expect_error("NaN coordinate", ["eval", "--model", model, "--input", bad], f"{bad}:10:", "atom 2", "non-finite")
        expect_error("NaN coordinate (Thrust graph)", ["eval", "--model", model, "--input", bad, "--graph", "device"],
                     f"{bad}:10:", "atom 2", "non-finite")
        bad = tmp / "type.cfg"
        write_cfg(bad, [(GOOD_CFG[0][0], GOOD_CFG[0][1], [0, 2, 1])])
        expect_error("type outside the model", ["eval", "--model", model, "--input", bad], f"{bad}:1", "atom 2 has species 2")
        bad = tmp / "empty.cfg"
        bad.write_text("BEGIN_CFG\n Size\n    0\n AtomData:  id type cartes_x cartes_y cartes_z\nEND_CFG\n")
        expect_error("empty configuration", ["eval", "--model", model, "--input", bad], f"{bad}:1:", "no atoms")
        bad = tmp / "cut.cfg"
        bad.write_text(text[: text.index("END_CFG")])
        expect_error("truncated cfg", ["eval", "--model", model, "--input", bad], f"{bad}:", "missing END_CFG")
        xyz = tmp / "in.xyz"
        xyz.write_text('1\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\nXe 0 0 0\n')
        expect_error("xyz without element map", ["eval", "--model", model, "--input", xyz], f"{xyz}:3:", "--elements")
        expect_error("unknown element", ["eval", "--model", model, "--input", xyz, "--elements", "H,Li"], f"{xyz}:3:", "'Xe'")
        expect_error("unknown backend", ["eval", "--model", model, "--input", cfg, "--backend", "Hip"], "not available")
        expect_error("cells with a trailing separator", ["build", "li2co3", "--cells", "1x1x1x", "--out", tmp / "c.cfg"],
                     "cells must look like 3x5x4")
        expect_error("li2co3 beyond an int of atoms", ["build", "li2co3", "--cells", "2000x2000x2000", "--out",
                                                       tmp / "c.cfg"], "more than the 2147483647")
        expect_error("li2edc with a NaN minimum distance", ["build", "li2edc", "--min-distance", "nan", "--out",
                                                            tmp / "c.cfg"], "minimum distance must be a number")
        expect_error("bench with no timed steps", ["bench", "--model", model, "--input", cfg, "--steps", "0"],
                     "--steps must be >= 1")
        expect_error("negative thread count", ["eval", "--model", model, "--input", cfg, "--threads", "-2"],
                     "--threads must be >= 0")
        expect_error("make-model with an infinite cutoff", ["make-model", "--template", Path(args.templates) / "06.almtp",
                                                            "--max-dist", "inf", "--out", tmp / "synthetic.mtp"],
                     "need 0 <= min_dist < max_dist < inf")
        expect_error("make-model with a negative inner radius", ["make-model", "--template",
                                                                 Path(args.templates) / "06.almtp", "--min-dist", "-1",
                                                                 "--out", tmp / "synthetic.mtp"], "need 0 <= min_dist")
        expect_error("unknown graph builder", ["eval", "--model", model, "--input", cfg, "--graph", "gpu"], "--graph must be")
        expect_error("negative batch size", ["eval", "--model", model, "--input", cfg, "--batch-atoms", "-1"],
                     "--batch-atoms must be >= 0")

        # Start-up: MACE support (LibTorch) is a library loaded only for MACE models, so an MTP run
        # never maps LibTorch (the dynamic loader's own trace lists every library it initialises).
        r = run([mlpot, "eval", "--model", model, "--input", cfg], env=dict(os.environ, LD_DEBUG="libs"))
        traced = "calling init:" in r.stderr and "libkokkoscore" in r.stderr
        check("an MTP eval loads neither LibTorch nor libmlpot_mace.so",
              r.returncode == 0 and traced and "libtorch" not in r.stderr and "libmlpot_mace" not in r.stderr,
              f"rc={r.returncode}, loader trace seen: {traced}, "
              f"LibTorch lines: {[l for l in r.stderr.splitlines() if 'libtorch' in l][:3]}")
        fake = tmp / "model.pt"
        fake.write_text("not opened")
        r = run([mlpot, "info", fake], env=dict(os.environ, MLPOT_MACE_LIBRARY=str(tmp / "missing" / "libmlpot_mace.so")))
        check("MACE without its library: an error naming the model and the library",
              r.returncode == 1 and f"{fake}: MACE support is not available" in r.stderr and "missing/libmlpot_mace.so"
              in r.stderr, f"rc={r.returncode} stderr={r.stderr.strip()!r}")

        # The CLI speaks for itself: each verb's --help, and an option it does not know is an
        # error naming it (exit 2) instead of a run with the defaults.
        verbs = {"info": ["--device"], "eval": ["--model", "--mace-mode", "--graph"],
                 "bench": ["--system", "--kernel-times", "--torch-profile"], "make-model": ["--template", "--selection"],
                 "grade": ["--model"], "build": ["--cells", "--molecules"], "backends": []}
        full = run([mlpot, "--help"])
        check("mlpot --help", full.returncode == 0 and all(f"  {v}" in full.stdout for v in verbs), full.stderr)
        for verb, options in verbs.items():
            r = run([mlpot, verb, "--help"])
            check(f"mlpot {verb} --help", r.returncode == 0 and f"  {verb}" in r.stdout
                  and all(o in r.stdout for o in options), r.stdout + r.stderr)
            # The verb's own block only: another verb's first line must not be in it.
            listed = set(re.findall(r"^  ([a-z][a-z-]*)(?:\s|$)", r.stdout, re.M))
            others = sorted(listed - {verb})
            check(f"mlpot {verb} --help is that verb's usage", not others, f"also lists {others}")

        def expect_usage_error(name, cmd, *needles):
            r = run([mlpot] + cmd)
            check(name, r.returncode == 2 and all(n in r.stderr for n in needles),
                  f"rc={r.returncode} stderr={r.stderr.strip()!r}")

        base = {"info": [model], "eval": ["--model", model, "--input", cfg],
                "bench": ["--model", model, "--input", cfg, "--steps", "1"],
                "make-model": ["--template", Path(args.templates) / "06.almtp", "--out", tmp / "mm.mtp"],
                "grade": ["--model", model, "--input", cfg], "build": ["li2co3", "--out", tmp / "b.cfg"], "backends": []}
        for verb, arguments in base.items():
            expect_usage_error(f"{verb}: unknown option", [verb] + arguments + ["--bogus-option", "1"],
                               "unknown option --bogus-option", f"mlpot {verb} --help")
        expect_usage_error("misspelled option", ["eval", "--model", model, "--input", cfg, "--element", "H,Li"],
                           "unknown option --element", "did you mean --elements?")
        expect_usage_error("misspelled option, = form", ["bench", "--model", model, "--input", cfg, "--step=3"],
                           "unknown option --step", "did you mean --steps?")
        expect_usage_error("an option of another verb", ["eval", "--model", model, "--input", cfg, "--steps", "3"],
                           "unknown option --steps for 'eval'")
        expect_usage_error("li2edc's option for li2co3", ["build", "li2co3", "--molecules", "3", "--out", tmp / "b.cfg"],
                           "unknown option --molecules for 'build li2co3'")
        expect_usage_error("option without a value", ["eval", "--model", model, "--input"], "--input needs a value")
        expect_usage_error("option given twice", ["eval", "--model", model, "--model", model, "--input", cfg],
                           "--model given twice")
        expect_usage_error("unexpected argument", ["eval", "--model", model, "--input", cfg, "extra.cfg"],
                           "unexpected argument 'extra.cfg'")
        expect_usage_error("unknown command", ["evaluate"], "unknown command 'evaluate'")
        for opt in ("--virial", "--grade", "--kernel-times"):
            expect_error(f"bench {opt} takes yes or no", ["bench", "--model", model, "--input", cfg, "--steps", "1",
                                                          opt, "maybe"], f"{opt} must be yes or no")
        r = run([mlpot, "backends"])
        check("backends", r.returncode == 0 and r.stdout.split()[:2] == ["Serial", "OpenMP"], r.stdout + r.stderr)

        # xyz and cfg inputs agree, and ASE reads our extended XYZ output.
        out_cfg = tmp / "out.cfg"
        r = run([mlpot, "eval", "--model", model, "--input", cfg, "--output", out_cfg])
        check("eval cfg", r.returncode == 0, r.stderr)
        ref = read_cfg_results(out_cfg)[0]
        xyz = tmp / "good.xyz"
        sym = {0: "H", 1: "Li"}
        lines = [str(3), 'Lattice="6 0 0 0 6 0 0 0 6" Properties=species:S:1:pos:R:3 pbc="T T T"']
        lines += [f"{sym[t]} " + " ".join(repr(float(v)) for v in p) for t, p in zip(GOOD_CFG[0][2], GOOD_CFG[0][1])]
        xyz.write_text("\n".join(lines) + "\n")
        out_xyz = tmp / "out.xyz"
        r = run([mlpot, "eval", "--model", model, "--input", xyz, "--output", out_xyz, "--elements", "H,Li"])
        check("eval xyz", r.returncode == 0, r.stderr)
        atoms = ase_read(out_xyz)
        check("xyz energy equals cfg", abs(atoms.get_potential_energy() - ref["energy"]) < 1e-12,
              f"{atoms.get_potential_energy()} vs {ref['energy']}")
        check("xyz forces equal cfg", np.abs(atoms.get_forces() - ref["forces"]).max() < 1e-12)
        w = -atoms.get_stress(voigt=True) * atoms.get_volume()
        check("xyz stress equals cfg PlusStress", np.abs(w - ref["plus_stress"]).max() < 1e-10,
              f"{w} vs {ref['plus_stress']}")

        # Built-in tools.
        syn = tmp / "syn.mtp"
        r = run([mlpot, "make-model", "--template", Path(args.templates) / "16.almtp", "--out", syn])
        check("make-model", r.returncode == 0 and "level 16, 6 species" in r.stdout, r.stdout + r.stderr)
        r = run([mlpot, "info", syn])
        check("info", r.returncode == 0 and "level              16" in r.stdout, r.stdout + r.stderr)
        li = tmp / "li.cfg"
        r = run([mlpot, "build", "li2co3", "--cells", "1x2x1", "--out", li])
        check("build li2co3", r.returncode == 0 and "48 atoms" in r.stdout, r.stdout + r.stderr)
        r = run([mlpot, "bench", "--model", syn, "--input", li, "--steps", "2"])
        check("bench", r.returncode == 0 and "us/atom-step" in r.stdout, r.stdout + r.stderr)
        # --precision mixed: the float kernel, within docs/mtp.md's bounds of double (held on larger
        # systems by test_mtp_mixed_precision), not bit-equal; named in bench's model line.
        out_d, out_m = tmp / "li-double.cfg", tmp / "li-mixed.cfg"
        rd = run([mlpot, "eval", "--model", syn, "--input", li, "--output", out_d])
        rm = run([mlpot, "eval", "--model", syn, "--input", li, "--output", out_m,
                  "--precision", "mixed"])
        if rd.returncode == 0 and rm.returncode == 0:
            d, m = read_cfg_results(out_d)[0], read_cfg_results(out_m)[0]
            fd, fm = np.asarray(d["forces"]), np.asarray(m["forces"])
            rel = np.sqrt(((fm - fd) ** 2).sum() / (fd ** 2).sum())
            de = abs(m["energy"] - d["energy"]) / len(fd)
            check("eval --precision mixed: forces within 1e-5 relative RMS and energy within 1e-5 eV/atom of double",
                  1e-12 < rel < 1e-5 and de < 1e-5, f"forces {rel:.2e} relative RMS, energy {de:.2e} eV/atom")
        else:
            check("eval --precision double and mixed", False, rd.stderr + rm.stderr)
        r = run([mlpot, "bench", "--model", syn, "--input", li, "--steps", "2", "--precision", "mixed"])
        check("bench --precision mixed", r.returncode == 0 and "mixed precision" in r.stdout, r.stdout + r.stderr)
        expect_error("--precision takes double or mixed", ["eval", "--model", syn, "--input", li, "--precision",
                                                           "single"], "unknown MTP precision 'single'")
        # The kernel table: the force kernel once per step, and no memory allocated in the
        # steady state (an allocation per step is a cudaMalloc per step on a GPU), with
        # and without the virial, on the host and the Thrust lists.
        for extra in ([], ["--virial", "no"], ["--graph", "device"]):
            r = run([mlpot, "bench", "--model", syn, "--input", li, "--steps", "3", "--backend", "OpenMP",
                     "--kernel-times", "yes"] + extra)
            rows = [l.split() for l in r.stdout.splitlines() if l.strip().endswith("mlpot::mtp_compute")]
            check(f"bench --kernel-times {' '.join(extra)}",
                  r.returncode == 0 and len(rows) == 1 and rows[0][0] == "1.00"
                  and "allocations per step: 0.00 (0 bytes)" in r.stdout, r.stdout + r.stderr)

        # make-model --seed: the same seed gives the same file, another seed other coefficients
        # (the same basis); --selection cfg|nbh writes MLIP's initial state (A = 1e-6 I), whose
        # grade mlpot bench --grade yes reports as mlpot grade does for the same configuration.
        def make(seed, out, *extra):
            return run([mlpot, "make-model", "--template", Path(args.templates) / "08.almtp", "--species", "2",
                        "--seed", str(seed), "--out", out] + list(extra))

        make(5, tmp / "s5a.mtp"), make(5, tmp / "s5b.mtp"), make(6, tmp / "s6.mtp")
        texts = [(tmp / f).read_text() if (tmp / f).exists() else "" for f in ("s5a.mtp", "s5b.mtp", "s6.mtp")]
        strip = [re.sub(r"potential_tag = .*", "", t) for t in texts]
        check("make-model --seed: same seed, same model", texts[0] != "" and texts[0] == texts[1])
        check("make-model --seed: another seed, other coefficients, same basis",
              strip[2] != "" and strip[0] != strip[2]
              and strip[0].split("alpha_index_basic")[1].split("species_coeffs")[0]
              == strip[2].split("alpha_index_basic")[1].split("species_coeffs")[0])
        for mode in ("cfg", "nbh"):
            almtp = tmp / f"sel-{mode}.almtp"
            r = make(5, almtp, "--selection", mode)
            ok = r.returncode == 0 and "#MVS_v1.1" in almtp.read_bytes().decode("latin-1")
            r = run([mlpot, "grade", "--model", almtp, "--input", cfg, "--output", tmp / f"g-{mode}.cfg"])
            mv = re.findall(r"MV_grade\s+(\S+)", (tmp / f"g-{mode}.cfg").read_text()) if r.returncode == 0 else []
            nbh = "nbh_grades" in (tmp / f"g-{mode}.cfg").read_text() if r.returncode == 0 else False
            check(f"make-model --selection {mode}: a state mlpot grade reads ({mode} mode)",
                  ok and len(mv) == 1 and nbh == (mode == "nbh"), r.stderr)
            r = run([mlpot, "bench", "--model", almtp, "--input", cfg, "--steps", "2", "--grade", "yes"])
            got = re.findall(r"^grade\s+(\S+) \((\w+) mode\)", r.stdout, re.M)
            want_mode = "configuration" if mode == "cfg" else "neighbourhood"
            check(f"bench --grade yes ({mode}): the grade of mlpot grade",
                  r.returncode == 0 and len(got) == 1 and got[0][1] == want_mode and len(mv) == 1
                  and abs(float(got[0][0]) - float(mv[0])) <= 1e-5 * float(mv[0]), f"{got} vs {mv}: {r.stderr}")
            expect_error(f"bench --grade yes --precision mixed ({mode}): refused, saying why",
                         ["bench", "--model", almtp, "--input", cfg, "--steps", "1", "--grade", "yes", "--precision",
                          "mixed"], "precision mixed does not compute extrapolation grades")

        # build li2edc with its options: the molecule count, density and minimum distance asked
        # for; the same seed the same file, another seed another packing.
        def li2edc(seed, out):
            return run([mlpot, "build", "li2edc", "--molecules", "4", "--density", "1.2", "--min-distance", "1.3",
                        "--seed", str(seed), "--out", out])

        r = li2edc(7, tmp / "e7.xyz")
        check("build li2edc with options", r.returncode == 0 and "64 atoms" in r.stdout, r.stdout + r.stderr)
        if r.returncode == 0:
            edc = ase_read(tmp / "e7.xyz")
            density = edc.get_masses().sum() * 1.66053906660 / edc.get_volume()  # g/cm^3
            d = edc.get_all_distances(mic=True)[np.triu_indices(len(edc), 1)]
            # Bonded atoms of one molecule are closer than 1.3 A (C-H ~1.09); the distance is
            # between molecules: check the closest pair of atoms of different molecules.
            mol = np.repeat(np.arange(4), 16)
            i, j = np.triu_indices(len(edc), 1)
            between = d[mol[i] != mol[j]]
            check("li2edc: 4 molecules of (CH2OCO2Li)2, density 1.2 g/cm3, molecules >= 1.3 A apart",
                  len(edc) == 64 and sorted(set(edc.get_chemical_symbols())) == ["C", "H", "Li", "O"]
                  and abs(density - 1.2) < 1e-6 and between.min() >= 1.3 - 1e-9,
                  f"{len(edc)} atoms, density {density:.6f}, closest {between.min():.3f} A")
            li2edc(7, tmp / "e7b.xyz"), li2edc(8, tmp / "e8.xyz")
            check("li2edc --seed: same seed, same file; another seed, another packing",
                  (tmp / "e7.xyz").read_text() == (tmp / "e7b.xyz").read_text()
                  and (tmp / "e7.xyz").read_text() != (tmp / "e8.xyz").read_text())

        # Out of memory: a system far larger than the process may map (address space capped at
        # 6 GiB, enough to load LibTorch) stops with a message that says so, not "std::bad_alloc"
        # and not a crash.
        def cap_memory():
            resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))

        r = run([mlpot, "bench", "--model", syn, "--system", "li2co3:200x200x200", "--steps", "1", "--warmup", "0"],
                preexec_fn=cap_memory)
        check("out of memory is a clear error", r.returncode == 1 and "out of host memory" in r.stderr,
              f"rc={r.returncode} stderr={r.stderr.strip()!r}")
        expect_error("bench --torch-profile is for MACE", ["bench", "--model", syn, "--input", li, "--steps", "1",
                                                           "--torch-profile", "yes"], "--torch-profile")

    return check.exit_status()


if __name__ == "__main__":
    sys.exit(main())
