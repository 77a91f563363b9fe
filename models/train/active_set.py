"""MLIP's MaxVol active set for a trained MTP, in neighbourhood mode (MLIP-3's --al_mode=nbh):
every atom's gradient of its site energy with respect to all the potential's coefficients is a
candidate row; A is the n x n set of rows of largest volume, and an atom grades
max_l |(b A^-1)_l| (docs/grade.md). The rows come from motep's Jacobian (the trainer's own
gradients, in MLIP's coefficient order); the state is written after the potential as MLIP-3's
`#MVS_v1.1` section, which `pair_style mtp ... extrapolation` and `mlpot grade` read."""
import io
from pathlib import Path

import numpy as np
from ase import Atoms
from motep.calculator import make_calculator
from motep.io.mlip.cfg import write_cfg
from motep.io.mlip.mtp import read_mtp

# MLIP starts A as INIT * I: directions no configuration spans keep these rows, and any atom
# with a component along them grades about 1/INIT, i.e. is extrapolative, as in MLIP.
INIT = 1e-6


def neighbourhood_rows(mtp_path, species, images):
    """(rows, owners): one row per atom of every image (n coefficients each) and its
    (image index, atom index)."""
    data = read_mtp(mtp_path)
    data.species = list(species)
    rows, owners = [], []
    for c, atoms in enumerate(images):
        work = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=True)
        work.calc = make_calculator(data, engine="cext", mode="train")
        work.get_potential_energy()
        jac = work.calc.engine.jac_energies(work)
        n = len(work)
        block = np.concatenate([np.asarray(jac.radial_coeffs).reshape(-1, n),
                                np.asarray(jac.species_coeffs).reshape(-1, n),
                                np.asarray(jac.moment_coeffs).reshape(-1, n)]).T
        rows.append(block)
        owners += [(c, i) for i in range(n)]
    return np.vstack(rows), owners


def maxvol(A, candidates, tol=1e-3, max_swaps=200000, refresh=256):
    """Swaps candidate rows into A while some candidate's coefficient in the basis of A's rows
    exceeds 1 + tol (MaxVol). Returns (A, origin): origin[k] is the candidate index now in row k
    of A, or -1 for a row kept from the A given. Rank-one updates of C = [A; candidates] A^-1,
    recomputed from scratch every `refresh` swaps to keep round-off from building up."""
    n = A.shape[0]
    ext = np.vstack([A, candidates])
    idx = np.arange(n)
    C = ext @ np.linalg.inv(A)
    fresh = True
    for swap in range(max_swaps):
        i, j = np.unravel_index(np.argmax(np.abs(C)), C.shape)
        pivot = C[i, j]
        if abs(pivot) <= 1 + tol:
            if fresh:
                break
            C = ext @ np.linalg.inv(ext[idx])  # converged on updated C: confirm on an exact one
            fresh = True
            continue
        fresh = False
        row = C[i].copy()
        row[j] -= 1.0
        C -= np.outer(C[:, j] / pivot, row)
        idx[j] = i
        if (swap + 1) % refresh == 0:
            C = ext @ np.linalg.inv(ext[idx])
            fresh = True
    else:
        raise RuntimeError(f"maxvol: no convergence after {max_swaps} swaps")
    return ext[idx].copy(), np.where(idx >= n, idx - n, -1)


def build(mtp_path, species, images):
    """A fresh state from INIT * I and every atom of images: (A, owners of A's rows)."""
    rows, owners = neighbourhood_rows(mtp_path, species, images)
    n = rows.shape[1]
    A, origin = maxvol(INIT * np.eye(n), rows)
    return A, [owners[k] if k >= 0 else None for k in origin]


def select_add(A, mtp_path, species, candidates):
    """MLIP-3's select_add: which candidate images contribute rows when they join A (indices,
    sorted). The state is rebuilt after retraining, so A itself is not returned."""
    rows, owners = neighbourhood_rows(mtp_path, species, candidates)
    _, origin = maxvol(A, rows)
    return sorted({owners[k][0] for k in origin if k >= 0})


def write_almtp(path, mtp_path, species, A, row_owners, images):
    """The potential of mtp_path followed by the state (A, its rows' owners, their images)."""
    used = sorted({o[0] for o in row_owners if o is not None})
    where = {c: k for k, c in enumerate(used)}
    selected = []
    for c in used:
        atoms = images[c]
        eqns = [3 * len(atoms) + 10 + i for (cc, i) in (o for o in row_owners if o is not None) if cc == c]
        copy = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=True)
        copy.info["selected_eqn_inds"] = ",".join(str(e) for e in eqns)
        selected.append(copy)
    n = A.shape[0]
    header = "".join(f"{key} {value:.16e}\n" for key, value in
                     (("energy_weight", 0.0), ("force_weight", 0.0), ("stress_weight", 0.0), ("site_en_weight", 1.0)))
    owners_text = "".join("-1 -1\n" if o is None else f"{where[o[0]]} {3 * len(images[o[0]]) + 10 + o[1]}\n"
                          for o in row_owners)
    cfgs = io.StringIO()
    if selected:
        write_cfg(cfgs, selected, species=list(species))
    potential = Path(mtp_path).read_text().rstrip("\n")
    blob = (potential + "\n#MVS_v1.1\n" + header + "weight_scaling 2\n#").encode()
    blob += np.ascontiguousarray(A, dtype="<f8").tobytes()
    blob += np.ascontiguousarray(np.linalg.inv(A).T, dtype="<f8").tobytes()  # MLIP keeps (A^-1)^T
    blob += ("\n#\n" + owners_text + "#\n" + cfgs.getvalue()).encode()
    assert A.shape == (n, n)
    Path(path).write_bytes(blob)
