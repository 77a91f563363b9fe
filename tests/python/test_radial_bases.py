"""Every radial basis MLIP-3 evaluates (RBChebyshev, RBChebyshev_repuls, BChebyshev,
BChebyshev_repuls, RBShapeev, RBTaylor), against an independent reference and against finite
differences of mlpot's own energy.

The reference is motep's NumPy engine (an independent MTP implementation) with its radial basis
replaced by `mlip3_basis` below, written here from MLIP-3's definitions (src/basis.cpp: RB_* carry
the (r - Rcut)^2 factor, the B* and RBTaylor bases do not; the _repuls bases evaluate at
max(r, min_dist) with zero derivative there; the basis-level scaling is folded into the global
one, as mtpr.cpp does). Chebyshev values come from numpy's chebval/chebder, not a recursion.
RBChebyshev_repuls also adds MLIP-3's pair repulsion to each site energy, for every neighbour closer
than min_dist: 1e4 (exp(-10 (r - 1)) - exp(-10 (min_dist - 1))) (mtpr.cpp, CalcSiteEnergyDers);
`mlip3_pair_repulsion` adds it to motep's results.
RBShapeev: MLIP-3 sums powers r^-2 .. r^n with closed-form coefficients; those sums are
(m/r)^2 ((M-r)/(M-m))^2 c_n P_n^(5,1)(xi), c_n = sqrt((2n+7)(n+6) / (8 (n+1)^3)), the same xi as
for Chebyshev (the coefficients of MLIP-3's table follow from this exactly; see
src/kokkos/mtp_radial_basis.hpp). The test evaluates that with scipy's Jacobi polynomials
(their derivative from P_{n-1}^(6,2)), mlpot by a recurrence.

Random-coefficient potentials of levels 8 and 16 with 1 and 3 species; structures with pairs
inside min_dist (so the _repuls branch is exercised) and a cell smaller than the cutoff.
Bounds (relative to the largest value): energy 1e-10, forces and virial 1e-9 (the issue's
bars); finite differences 1e-6 of the largest force (central, h = 1e-5 A).
"""
import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.special
from numpy.polynomial import chebyshev as npcheb

from mlpot_testlib import random_mtp, read_cfg_results, run, write_cfg

E_REL, F_REL, S_REL, FD_REL = 1e-10, 1e-9, 1e-9, 1e-6
BASES = ["RBChebyshev", "RBChebyshev_repuls", "BChebyshev", "BChebyshev_repuls", "RBShapeev", "RBTaylor"]
MIN_DIST, MAX_DIST = 1.9, 4.6


def mlip3_basis(kind, r, rmin, rmax, size, scaling):
    """Q_n(r) and dQ_n/dr [size, len(r)] of MLIP-3's basis `kind` (times the folded scaling)."""
    r = np.asarray(r, float)
    clamp = kind.endswith("_repuls")
    x = np.where(r < rmin, rmin, r) if clamp else r
    vals, ders = np.zeros((size, r.size)), np.zeros((size, r.size))
    for n in range(size):
        if kind == "RBTaylor":
            p, dp = x**n, (n * x ** (n - 1) if n > 0 else np.zeros_like(x))
        elif kind == "RBShapeev":
            ksi = (2 * x - (rmin + rmax)) / (rmax - rmin)
            c = np.sqrt((2 * n + 7) * (n + 6) / (8.0 * (n + 1) ** 3))
            jac = c * scipy.special.eval_jacobi(n, 5, 1, ksi)
            djac = (c * (n + 7) / 2 * scipy.special.eval_jacobi(n - 1, 6, 2, ksi) if n > 0 else 0 * x) * 2 / (rmax - rmin)
            w = (rmin / x) ** 2 * ((rmax - x) / (rmax - rmin)) ** 2
            dw = -2 * rmin**2 * rmax * (rmax - x) / ((rmax - rmin) ** 2 * x**3)
            p, dp = w * jac, dw * jac + w * djac
        else:
            unit = np.zeros(n + 1)
            unit[n] = 1.0
            ksi = (2 * x - (rmin + rmax)) / (rmax - rmin)
            p = npcheb.chebval(ksi, unit)
            dp = npcheb.chebval(ksi, npcheb.chebder(unit)) * 2.0 / (rmax - rmin)
        if kind.startswith("RBChebyshev"):
            vals[n] = p * (x - rmax) ** 2
            ders[n] = dp * (x - rmax) ** 2 + p * 2 * (x - rmax)
        else:
            vals[n], ders[n] = p, dp
    if clamp:
        ders[:, r <= rmin] = 0.0
    inside = r < rmax
    return scaling * vals * inside, scaling * ders * inside


def mlip3_pair_repulsion(cell, pos, rmin):
    """Energy, forces and PlusStress of MLIP-3's RBChebyshev_repuls pair term, every ordered pair
    (i, j) closer than rmin counted once in i's site energy (a full neighbour list: twice a pair)."""
    inv = np.linalg.inv(cell)
    e, f, w = 0.0, np.zeros_like(pos), np.zeros((3, 3))
    for i in range(len(pos)):
        for j in range(len(pos)):
            v0 = pos[j] - pos[i]
            v0 = v0 - np.round(v0 @ inv) @ cell
            for shift in np.array(np.meshgrid(*[range(-2, 3)] * 3)).reshape(3, -1).T:
                v = v0 + shift @ cell
                r = np.linalg.norm(v)
                if not 1e-9 < r < rmin:
                    continue
                x = 1e4 * np.exp(-10 * (r - 1))
                e += x - 1e4 * np.exp(-10 * (rmin - 1))
                g = -10 * x * v / r  # d phi / d r_ij
                f[j] -= g
                f[i] += g
                w -= np.outer(g, v)
    return e, f, np.array([w[0, 0], w[1, 1], w[2, 2], w[1, 2], w[0, 2], w[0, 1]])


_MOTEP_BASIS = None  # motep's own Chebyshev basis class, before use_mlip3_basis replaced it


def use_mlip3_basis(kind):
    """From now on motep's NumPy engine (energies, forces, stress, and in mode "train" the
    parameter gradients) evaluates MLIP-3's basis `kind` (mlip3_basis) instead of its own."""
    global _MOTEP_BASIS
    import motep.potentials.mtp.numpy.engine as engine
    if _MOTEP_BASIS is None:
        _MOTEP_BASIS = engine.ChebyshevArrayRadialBasis

    class Mlip3Basis(_MOTEP_BASIS):
        def calc_radial_part(self, r_abs, itype, jtypes):
            d = self.mtp_data
            self.basis_vs, self.basis_ds = mlip3_basis(kind, r_abs, d.radial_basis.min, d.radial_basis.max,
                                                       d.radial_basis.size, d.scaling)
            c = self.coeffs[itype, jtypes]  # [neighbours, K, R]
            return (np.einsum("nj,jkn->kj", self.basis_vs, c), np.einsum("nj,jkn->kj", self.basis_ds, c))

    engine.ChebyshevArrayRadialBasis = Mlip3Basis


def reference(mtp_path, kind, cell, pos, types, scaling=None):
    """motep's NumPy engine with MLIP-3's basis `kind`: energy, forces, PlusStress (xx yy zz yz xz xy).
    `scaling`: the global scaling with a basis-level one folded in (motep's reader takes the
    basis-level line for the global one)."""
    from ase import Atoms
    from motep.calculator import MTP
    from motep.io.mlip.mtp import read_mtp

    use_mlip3_basis(kind)
    data = read_mtp(str(mtp_path))
    data.species = list(range(1, data.species_count + 1))
    if scaling is not None:
        data.scaling = scaling
    atoms = Atoms(numbers=np.asarray(types) + 1, positions=pos, cell=cell, pbc=True)
    atoms.calc = MTP(data, engine="numpy")
    with contextlib.redirect_stdout(io.StringIO()):  # motep's notes on pairs inside min_dist
        e, f = atoms.get_potential_energy(), atoms.get_forces()
        stress = atoms.get_stress(voigt=True)
    w = -stress * atoms.get_volume()
    if kind == "RBChebyshev_repuls":
        ep, fp, wp = mlip3_pair_repulsion(np.asarray(cell), np.asarray(pos), data.radial_basis.min)
        e, f, w = e + ep, f + fp, w + wp
    return e, f, w


def structures(rng, species_count):
    out = []
    cell = np.diag([6.3, 5.9, 6.6])
    grid = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)], float)
    pos = np.concatenate([grid, grid + 0.5]) / 2.0 @ cell + rng.normal(0, 0.15, size=(16, 3))
    # Two pairs inside min_dist (the _repuls bases' clamp) and one just outside it.
    pos[1] = pos[0] + [1.2, 0.3, -0.2]
    pos[3] = pos[2] + [0.1, -1.5, 0.4]
    pos[5] = pos[4] + [0.2, 0.3, MIN_DIST + 0.05]
    out.append(("close-pairs", cell, pos, rng.integers(0, species_count, 16)))
    cell = np.array([[5.8, 0.0, 0.0], [1.4, 5.2, 0.0], [-0.9, 1.1, 6.0]])
    frac = np.array([[i / 2, j / 2, k / 3] for i in range(2) for j in range(2) for k in range(3)])
    pos = (frac + rng.normal(0, 0.03, size=frac.shape)) @ cell
    out.append(("triclinic", cell, pos, rng.integers(0, species_count, len(pos))))
    cell = np.array([[2.9, 0.0, 0.0], [0.6, 2.7, 0.0], [0.3, -0.4, 3.1]])
    pos = np.array([[0.1, 0.2, 0.1], [1.6, 1.5, 1.4]]) + rng.normal(0, 0.05, size=(2, 3))
    out.append(("small-cell", cell, pos, rng.integers(0, species_count, 2)))
    return out


def pair_distances(cell, pos):
    """Every image distance below the cutoff + 1 A (to keep finite differences off the kinks)."""
    inv = np.linalg.inv(cell)
    d = []
    for i in range(len(pos)):
        for j in range(len(pos)):
            v = pos[j] - pos[i]
            v -= np.round(v @ inv) @ cell
            for a in range(-2, 3):
                for b in range(-2, 3):
                    for c in range(-2, 3):
                        w = v + np.array([a, b, c]) @ cell
                        rr = np.linalg.norm(w)
                        if 1e-9 < rr < MAX_DIST + 1:
                            d.append(rr)
    return np.array(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--templates", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(20261202)
    failures, checked = [], 0
    worst = {}
    h = 1e-5
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for kind in BASES:
            for level in ["08", "16"]:
                for species_count in [1, 3]:
                    tag0 = f"{kind}, level {level}, {species_count} species"
                    # RBTaylor grows as r^n: smaller coefficients keep energies in a sane range.
                    text = random_mtp(Path(args.templates) / f"{level}.almtp", species_count, rng, min_dist=MIN_DIST,
                                      max_dist=MAX_DIST, scaling=0.05 if kind != "RBTaylor" else 1e-3,
                                      radial_basis_type=kind)
                    folded = None
                    if kind == "RBTaylor" and species_count == 3:
                        # A basis-level scaling (MLIP folds it into the global one).
                        text = text.replace("scaling = 0.001\n", "scaling = 0.01\n").replace(
                            f"\tmin_dist = {MIN_DIST!r}", f"\tscaling = 0.1\n\tmin_dist = {MIN_DIST!r}")
                        folded = 0.01 * 0.1
                    mtp = tmp / f"{kind}_{level}_{species_count}.mtp"
                    mtp.write_text(text)
                    structs = structures(rng, species_count)
                    # Finite differences: a few components of the first structure, displaced.
                    name, cell, pos, types = structs[0]
                    fd = []
                    for (atom, axis) in [(0, 0), (1, 2), (4, 1), (9, 0)]:
                        for sign in (+1, -1):
                            p = pos.copy()
                            p[atom, axis] += sign * h
                            fd.append((cell, p, types))
                    cfg = tmp / "in.cfg"
                    write_cfg(cfg, [(c, p, t) for _, c, p, t in structs] + fd)
                    out = tmp / "out.cfg"
                    r = run([args.mlpot, "eval", "--model", mtp, "--input", cfg, "--output", out])
                    if r.returncode != 0:
                        failures.append(f"{tag0}: mlpot failed: {r.stderr}")
                        continue
                    got = read_cfg_results(out)
                    for k, (name, cell, pos, types) in enumerate(structs):
                        e, f, w = reference(mtp, kind, cell, pos, types, folded)
                        g = got[k]
                        tag = f"{tag0}, {name}"
                        de = abs(g["energy"] - e) / max(1.0, abs(e))
                        df = np.abs(g["forces"] - f).max() / max(1.0, np.abs(f).max())
                        ds = np.abs(np.array(g["plus_stress"]) - w).max() / max(1.0, np.abs(w).max())
                        for key, v in (("energy", de), ("forces", df), ("virial", ds)):
                            worst[key] = max(worst.get(key, 0.0), v)
                        checked += 1
                        if np.abs(f).max() < 1e-3:
                            failures.append(f"{tag}: forces too small to test ({np.abs(f).max():.2e})")
                        if de > E_REL or df > F_REL or ds > S_REL:
                            failures.append(f"{tag}: energy {de:.2e}, forces {df:.2e}, virial {ds:.2e} (relative)")
                    # Forces against central differences of mlpot's energies.
                    name, cell, pos, types = structs[0]
                    d = pair_distances(cell, pos)
                    # B* and RBTaylor jump at the cutoff, the _repuls bases bend at min_dist.
                    near_kink = (not kind.startswith("RB") or kind == "RBTaylor") and np.any(
                        np.abs(d - MAX_DIST) < 10 * h)
                    near_kink |= kind.endswith("_repuls") and np.any(np.abs(d - MIN_DIST) < 10 * h)
                    if near_kink:
                        failures.append(f"{tag0}: a pair within {10 * h} A of a kink; change the seed")
                        continue
                    fmax = max(1.0, np.abs(got[0]["forces"]).max())
                    base = len(structs)
                    for q, (atom, axis) in enumerate([(0, 0), (1, 2), (4, 1), (9, 0)]):
                        ep, em = got[base + 2 * q]["energy"], got[base + 2 * q + 1]["energy"]
                        f_fd = -(ep - em) / (2 * h)
                        err = abs(f_fd - got[0]["forces"][atom, axis]) / fmax
                        worst["finite differences"] = max(worst.get("finite differences", 0.0), err)
                        if err > FD_REL:
                            failures.append(f"{tag0}: dE/dx of atom {atom} axis {axis}: {f_fd:.8e} vs force "
                                            f"{got[0]['forces'][atom, axis]:.8e} ({err:.2e} of the largest)")
    print(f"{checked} structures checked; worst (relative): " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    for m in failures:
        print("FAIL:", m)
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
