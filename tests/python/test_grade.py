"""Extrapolation grades of `mlpot grade` against an independent computation, for RBChebyshev and
(rows from motep's NumPy engine with MLIP-3's basis) RBChebyshev_repuls, BChebyshev,
BChebyshev_repuls and RBShapeev.

Selection states are built here, the way MLIP builds them, from parameter gradients that
motep (an independent MTP implementation) computes: rows of B are d(energy)/d(parameters)
per configuration divided by N (configuration mode, energy_weight 1, weight_scaling 2) or
d(site energy)/d(parameters) per atom (neighbourhood mode), in MLIP's parameter order
[radial | species | moment]; a MaxVol iteration written here picks the n rows of A. The
states are written in MLIP-3's .almtp layout and MLIP-2's .als layout. Checked:
  - every training configuration grades <= 1 (+ round-off), as MaxVol guarantees;
  - compressed configurations grade > 1 (stretched ones are graded too, no bound asserted);
  - every grade equals numpy's max |B inv(A)| on the same state within 1e-10 relative;
  - .als and .almtp of the same state give the same grades;
  - truncated matrices, a state of another potential (n mismatch), a corrupted inverse and
    force-weighted states are refused with messages naming the file.
"""
import argparse
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.linalg
from ase import Atoms
from motep.calculator import make_calculator
from motep.io.mlip.mtp import read_mtp

import test_radial_bases as trb
from mlpot_testlib import random_mtp, run, write_cfg

# Grades against numpy's max|B inv(A)|: worst 4.6e-13 relative over all bases (2026-12-02, docs/grade.md); ~4x.
REL = 1.8e-12


def random_structures(rng, count, species_count, scale=1.0):
    """Jittered 2x2x2 (+ body centre) grids in random triclinic cells: diverse neighbourhoods."""
    out = []
    for _ in range(count):
        a = rng.uniform(5.2, 6.4)
        cell = np.array([[a, 0, 0], [rng.uniform(-0.8, 0.8), rng.uniform(5.2, 6.4), 0],
                         [rng.uniform(-0.8, 0.8), rng.uniform(-0.8, 0.8), rng.uniform(5.2, 6.4)]]) * scale
        grid = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)], float) / 2
        frac = np.concatenate([grid, grid + 0.25])
        frac = frac + rng.normal(0, 0.04, size=frac.shape)
        n = int(rng.integers(9, len(frac) + 1))
        frac = frac[:n]
        types = rng.integers(0, species_count, n)
        types[:species_count] = np.arange(species_count)  # every species present
        out.append((cell, frac @ cell, types))
    return out


def motep_rows(mtp_path, species_count, structures, mode, engine="cext"):
    """MLIP-ordered parameter gradients from motep: one row per cfg (scaled 1/N) or per atom.
    engine "numpy": motep's NumPy engine, whose basis test_radial_bases.use_mlip3_basis sets."""
    data = read_mtp(mtp_path)
    data.species = list(range(1, species_count + 1))
    rows, owners = [], []
    for c, (cell, pos, types) in enumerate(structures):
        atoms = Atoms(numbers=np.asarray(types) + 1, positions=pos, cell=cell, pbc=True)
        atoms.calc = make_calculator(data, engine=engine, mode="train")
        atoms.get_potential_energy()
        eng = atoms.calc.engine
        if mode == "cfg":
            j = eng.jac_energy(atoms)
            row = np.concatenate([np.asarray(j.radial_coeffs).ravel(), j.species_coeffs, j.moment_coeffs])
            rows.append(row / len(types))
            owners.append((c, 0))
        else:
            j = eng.jac_energies(atoms)
            n = len(types)
            rad = np.asarray(j.radial_coeffs).reshape(-1, n)
            block = np.concatenate([rad, j.species_coeffs, j.moment_coeffs]).T
            for i in range(n):
                rows.append(block[i])
                owners.append((c, 3 * n + 10 + i))
    return np.array(rows), owners


def maxvol(B, init=1e-6, tol=1e-9, max_iter=5000):
    """MaxVol as MLIP runs it: A starts as init * I (rows not yet taken from data; MTP
    gradients have exact linear dependencies, so some stay) and rows of B are swapped in while
    any row of B or of the current A has a coefficient above 1 + tol. Returns, per row of A, the
    index into B or -1 for a remaining init row."""
    n = B.shape[1]
    ext = np.vstack([init * np.eye(n), B])
    idx = list(range(n))
    for _ in range(max_iter):
        C = ext @ np.linalg.inv(ext[idx])
        i, j = np.unravel_index(np.argmax(np.abs(C)), C.shape)
        if abs(C[i, j]) <= 1 + tol:
            return [k - n if k >= n else -1 for k in idx], ext[idx]
        idx[j] = int(i)
    raise RuntimeError("maxvol did not converge")


def cfg_text(structures, features=None):
    lines = []
    for k, (cell, pos, types) in enumerate(structures):
        lines += ["BEGIN_CFG", " Size", f"    {len(types)}", " Supercell"]
        lines += ["    " + " ".join(repr(float(v)) for v in row) for row in cell]
        lines.append(" AtomData:  id type cartes_x cartes_y cartes_z")
        for i, (t, p) in enumerate(zip(types, pos)):
            lines.append(f"    {i + 1} {int(t)} " + " ".join(repr(float(v)) for v in p))
        if features:
            lines.append(f" Feature   selected_eqn_inds\t{features[k]}")
        lines += ["END_CFG", ""]
    return "\n".join(lines) + "\n"


def write_almtp(path, mtp_text, A, mode, selected, owners_sel, weights=None):
    n = A.shape[0]
    ew, fw, sw, nw = weights or ((1.0, 0.0, 0.0, 0.0) if mode == "cfg" else (0.0, 0.0, 0.0, 1.0))
    inv_t = np.linalg.inv(A).T.copy()  # MLIP stores (A^-1)^T
    head = mtp_text.rstrip("\n") + "\n#MVS_v1.1\n" + "".join(
        f"{k} {v:.16e}\n" for k, v in [("energy_weight", ew), ("force_weight", fw), ("stress_weight", sw),
                                       ("site_en_weight", nw)]) + "weight_scaling 2\n#"
    rows = "".join(f"{c} {e}\n" for c, e in owners_sel)
    feats = [",".join(str(e) for c, e in owners_sel if c == k) for k in range(len(selected))]
    Path(path).write_bytes(head.encode() + A.astype("<f8").tobytes() + inv_t.astype("<f8").tobytes() +
                           ("\n#\n" + rows + "#\n" + cfg_text(selected, feats)).encode())


def write_als(path, mtp_text, A, mode, selected, owners_sel):
    nbh, ene = (0.0, 1.0) if mode == "cfg" else (1.0, 0.0)
    inv_t = np.linalg.inv(A).T.copy()
    rows = "".join(f"{i} {c}\n" for i, (c, e) in enumerate(owners_sel))
    Path(path).write_bytes(mtp_text.rstrip("\n").encode() + b"\n^" + struct.pack("<4d", nbh, ene, 0.0, 0.0) + b"\n#" +
                           A.astype("<f8").tobytes() + inv_t.astype("<f8").tobytes() + b"\n" + rows.encode() +
                           cfg_text(selected).encode())


def read_grades(path):
    """MV_grade and nbh_grades (or None) of each configuration in an output .cfg."""
    out, lines, k = [], Path(path).read_text().splitlines(), 0
    while k < len(lines):
        s = lines[k].strip()
        if s == "BEGIN_CFG":
            cur = {"nbh": None}
        elif s == "Size":
            n = int(lines[k + 1]); k += 1
        elif s.startswith("AtomData"):
            cols = s.split()[1:]
            if "nbh_grades" in cols:
                cur["nbh"] = np.array([float(lines[k + 1 + a].split()[cols.index("nbh_grades")]) for a in range(n)])
            k += n
        elif s.startswith("Feature") and s.split()[1] == "MV_grade":
            cur["mv"] = float(s.split()[2])
        elif s == "END_CFG":
            out.append(cur)
        k += 1
    return out


FAILURES = []
WORST = {"rel": 0.0}


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        FAILURES.append(msg)


def check_states(mlpot, label, mode, mtp_text, mtp_path, C, train, tests, formats, engine, tmp):
    """A selection state in `mode` from motep's rows on `train` (MaxVol), written in each of
    `formats` (almtp, als); `mlpot grade` of every set in `tests` against numpy's max|B inv(A)|,
    training configurations <= 1, compressed ones > 1. Returns n."""
    B, owners = motep_rows(mtp_path, C, train, mode, engine)
    n = B.shape[1]
    idx, A = maxvol(B)
    used = sorted({owners[i][0] for i in idx if i >= 0})
    remap = {c: k for k, c in enumerate(used)}
    owners_sel = [(remap[owners[i][0]], owners[i][1]) if i >= 0 else (-1, -1) for i in idx]
    selected = [train[c] for c in used]
    state_paths = {fmt: tmp / f"{label}{mode}.{fmt}" for fmt in formats}
    writers = {"almtp": write_almtp, "als": write_als}
    for fmt, path in state_paths.items():
        writers[fmt](path, mtp_text, A, mode, selected, owners_sel)
    print(f"{label}{mode} mode: n = {n}, {B.shape[0]} training rows, {idx.count(-1)} rows left at init, "
          f"cond(A) = {np.linalg.cond(A):.3g}")
    inv_A = np.linalg.inv(A)
    graded = {}
    for name, structs in tests.items():
        cfg = tmp / f"{name}.cfg"
        write_cfg(cfg, structs)
        Bt, _ = motep_rows(mtp_path, C, structs, mode, engine)
        coef = np.abs(Bt @ inv_A).max(axis=1)  # numpy reference
        if mode == "cfg":
            ref = [coef[c] for c in range(len(structs))]
            ref_atoms = [None] * len(structs)
        else:
            ref_atoms, start = [], 0
            for _, _, types in structs:
                ref_atoms.append(coef[start:start + len(types)]); start += len(types)
            ref = [g.max() for g in ref_atoms]
        for fmt, state in state_paths.items():
            out = tmp / f"{label}{mode}-{fmt}-{name}.out.cfg"
            r = run([mlpot, "grade", "--model", state, "--input", cfg, "--output", out])
            if r.returncode != 0:
                check(False, f"{mode} {fmt} {name}: mlpot grade failed: {r.stderr.strip()}")
                continue
            got = read_grades(out)
            if len(got) != len(ref) or not got:
                check(False, f"{mode} {fmt} {name}: {len(got)} graded configurations written, {len(ref)} expected")
                continue
            graded[(fmt, name)] = got
            rel = max(abs(g["mv"] - e) / max(e, 1e-300) for g, e in zip(got, ref))
            if mode == "nbh":
                rel = max(rel, max(np.max(np.abs(g["nbh"] - e) / np.maximum(e, 1e-300))
                                   for g, e in zip(got, ref_atoms)))
            WORST["rel"] = max(WORST["rel"], rel)
            check(rel <= REL, f"{label}{mode} {fmt} {name}: grades = numpy max|B inv(A)| (worst rel. {rel:.2e})")
            mv = [g["mv"] for g in got]
            if name == "train":
                check(max(mv) <= 1 + 1e-8, f"{label}{mode} {fmt} training configurations grade <= 1 (max {max(mv):.12f})")
            elif name != "stretched":
                check(min(mv) > 1.0, f"{label}{mode} {fmt} {name} configurations grade > 1 (min {min(mv):.3g})")
    # Every set graded in every format (a missing one fails: no comparison of nothing).
    same = all(all((fmt, nm) in graded for fmt in formats) and
               np.allclose([g["mv"] for g in graded[(formats[0], nm)]], [g["mv"] for g in graded[(formats[-1], nm)]],
                           rtol=1e-14, atol=0) for nm in tests) and len(tests) > 0
    check(same, f"{label}{mode}: " + " and ".join(f".{f}" for f in formats) + " give the same grades")
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(20261126)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        C = 2
        mtp_text = random_mtp(Path(args.templates) / "08.almtp", C, rng, min_dist=1.2, scaling=0.05,
                              radial_scale=1.0, moment_scale=0.3)
        mtp_path = tmp / "pot.mtp"
        mtp_path.write_text(mtp_text)
        train = random_structures(rng, 110, C)
        tests = {"train": train,
                 "compressed": random_structures(rng, 4, C, scale=0.8),
                 "squeezed": random_structures(rng, 4, C, scale=0.7),
                 # Sparser neighbourhoods may lie inside the training domain: only the
                 # agreement with numpy is checked for these.
                 "stretched": random_structures(rng, 4, C, scale=1.25)}
        for mode in ("cfg", "nbh"):
            n = check_states(args.mlpot, "", mode, mtp_text, mtp_path, C, train, tests, ("almtp", "als"), "cext", tmp)

        # Bad input.
        good = (tmp / "cfg.almtp").read_bytes()
        marker = good.index(b"weight_scaling 2\n#") + len(b"weight_scaling 2\n#")
        cases = {}
        (tmp / "truncated.almtp").write_bytes(good[:marker + 1000])
        cases["truncated"] = (tmp / "truncated.almtp", "truncated")
        one_species = random_mtp(Path(args.templates) / "08.almtp", 1, rng, min_dist=1.2)
        (tmp / "foreign.almtp").write_bytes(one_species.rstrip("\n").encode() + good[good.index(b"\n#MVS"):])
        cases["n mismatch"] = (tmp / "foreign.almtp", "do not belong together")
        corrupt = bytearray(good)
        inv_start = marker + 8 * n * n
        for k in range(n * n):
            v = struct.unpack_from("<d", corrupt, inv_start + 8 * k)[0]
            struct.pack_into("<d", corrupt, inv_start + 8 * k, 2.0 * v)
        (tmp / "corrupt.almtp").write_bytes(bytes(corrupt))
        cases["corrupted inverse"] = (tmp / "corrupt.almtp", "inverse does not match")
        forced = good.replace(b"force_weight 0.0000000000000000e+00", b"force_weight 1.0000000000000000e+00")
        (tmp / "force.almtp").write_bytes(forced)
        cases["force-weighted"] = (tmp / "force.almtp", "energy only")
        (tmp / "plain.mtp").write_text(mtp_text)
        cases["no state"] = (tmp / "plain.mtp", "no selection state")
        for name, (path, needle) in cases.items():
            r = run([args.mlpot, "grade", "--model", path, "--input", tmp / "train.cfg", "--output", tmp / "x.cfg"])
            msg = r.stderr.strip()
            check(r.returncode == 1 and needle in msg and path.name in msg,
                  f"bad input ({name}): exit {r.returncode}: {msg[:200]}")

        # The other radial bases: rows from motep's NumPy engine with MLIP-3's basis in place of its
        # own (test_radial_bases.use_mlip3_basis), .almtp states, the same checks. (The pair
        # repulsion of RBChebyshev_repuls does not depend on the parameters: no part of a row.)
        # Not RBTaylor: its columns (r^n to 5^7) span so many decades that this test's MaxVol does
        # not converge; test_mtp_kernel holds its grades' two kernel layouts to each other.
        for kind in trb.BASES:
            if kind in ("RBChebyshev", "RBTaylor"):
                continue
            trb.use_mlip3_basis(kind)
            text = random_mtp(Path(args.templates) / "08.almtp", C, rng, min_dist=1.2,
                              scaling=1e-3 if kind == "RBTaylor" else 0.05, radial_scale=1.0, moment_scale=0.3,
                              radial_basis_type=kind)
            path = tmp / f"{kind}.mtp"
            path.write_text(text)
            kind_tests = {"train": train, "compressed": tests["compressed"]}
            for mode in ("cfg", "nbh"):
                check_states(args.mlpot, f"{kind} ", mode, text, path, C, train, kind_tests, ("almtp",), "numpy", tmp)

    print(f"worst relative difference to numpy: {WORST['rel']:.2e}")
    if FAILURES:
        print(f"{len(FAILURES)} FAILED")
        sys.exit(1)
    print("all grade checks passed")


if __name__ == "__main__":
    main()
