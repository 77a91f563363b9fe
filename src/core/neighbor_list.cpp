#include "mlpot/neighbor_list.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "mlpot/error.hpp"

namespace mlpot {

namespace {

double det3(const Mat3& m) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

// Inverse of the row-vector cell: frac = x * inv.
Mat3 inverse3(const Mat3& m, double det) {
  Mat3 r;
  r[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
  r[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
  r[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
  r[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
  r[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
  r[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
  r[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
  r[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
  r[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
  return r;
}

std::array<double, 3> cross(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string where(const Structure& s) { return s.source.empty() ? std::string("structure") : s.source; }

}  // namespace

ImageFrame image_frame(const Structure& s, double cutoff, double ghost_cutoff) {
  const int n = s.size();
  if (n == 0) throw Error(where(s) + ": configuration has no atoms");
  if (int(s.positions.size()) != 3 * n) throw Error(where(s) + ": positions and species differ in length");
  for (int i = 0; i < n; ++i) {
    for (int d = 0; d < 3; ++d) {
      if (!std::isfinite(s.positions[3 * i + d])) {
        throw Error(where(s) + ": atom " + std::to_string(i + 1) + " has a non-finite coordinate (" +
                    std::to_string(s.positions[3 * i + d]) + ")");
      }
    }
  }
  ImageFrame f = image_frame(s.cell, s.pbc, cutoff, ghost_cutoff, where(s));
  // Wrapping into the cell keeps a position's precision only so far from it: beyond a million
  // cells the wrapped value is round-off (1e300 wrapped to 0, and "atoms at the same position").
  for (int i = 0; f.periodic && i < n; ++i) {
    for (int a = 0; a < 3; ++a) {
      if (!f.pbc[a]) continue;
      const double frac = s.positions[3 * i] * f.inverse[0][a] + s.positions[3 * i + 1] * f.inverse[1][a] +
                          s.positions[3 * i + 2] * f.inverse[2][a];
      if (!(std::fabs(frac) <= 1e6)) {
        throw Error(where(s) + ": atom " + std::to_string(i + 1) + " lies " + short_number(frac) +
                    " cells from the origin along lattice vector " + std::to_string(a + 1) +
                    " (more than a million: its position cannot be wrapped into the cell accurately)");
      }
    }
  }
  return f;
}

ImageFrame image_frame(const Mat3& c, const std::array<bool, 3>& pbc, double cutoff, double ghost_cutoff,
                       const std::string& where) {
  if (!(cutoff > 0) || !std::isfinite(cutoff)) throw Error("neighbour list: cutoff must be positive");
  if (ghost_cutoff < cutoff) ghost_cutoff = cutoff;
  ImageFrame f;
  f.pbc = pbc;
  f.periodic = pbc[0] || pbc[1] || pbc[2];
  if (!f.periodic) return f;
  for (int a = 0; a < 3; ++a) {
    for (int d = 0; d < 3; ++d) {
      if (!std::isfinite(c[a][d])) throw Error(where + ": cell has a non-finite component");
    }
  }
  const double det = det3(c);
  if (!(std::fabs(det) > 1e-8)) throw Error(where + ": periodic cell is degenerate (volume " + std::to_string(det) + ")");
  f.cell = c;
  f.inverse = inverse3(c, det);
  // Plane spacing along each lattice direction bounds how many images reach the cutoff.
  for (int a = 0; a < 3; ++a) {
    if (!pbc[a]) continue;
    auto bc = cross(c[(a + 1) % 3], c[(a + 2) % 3]);
    double h = std::fabs(det) / std::sqrt(bc[0] * bc[0] + bc[1] * bc[1] + bc[2] * bc[2]);
    f.margin[a] = ghost_cutoff / h;
    // (Checked before the conversion: a very skewed cell's margin is beyond an int.)
    if (!(f.margin[a] <= 1000)) throw Error(where + ": periodic cell is too thin for the cutoff");
    f.n_img[a] = int(std::ceil(f.margin[a]));
    f.inner[a] = f.margin[a] * (ghost_cutoff - cutoff) / ghost_cutoff;
  }
  // Each image cell is a pass over the atoms: a cell far smaller than the cutoff would mean
  // ~1e9 of them (a 0.01 A cube at 5 A), a hang rather than a result.
  double images = 1;
  for (int a = 0; a < 3; ++a) images *= 2.0 * f.n_img[a] + 1;
  if (images > 1e6) {
    throw Error(where + ": the cutoff (" + short_number(ghost_cutoff) + " A) reaches " + short_number(images) +
                " periodic images of the cell, more than a million: the cell is far smaller than the cutoff");
  }
  return f;
}

BinGrid bin_grid(const double lo[3], const double hi[3], double cutoff, long n_total) {
  BinGrid g;
  for (int d = 0; d < 3; ++d) {
    g.lo[d] = lo[d];
    g.hi[d] = hi[d];
  }
  // Counted in doubles: a 1e9 A vacuum box at a 5 A cutoff is 1e26 bins, beyond a long.
  double nb[3];
  for (double bin = cutoff;; bin *= 2) {  // sparse open systems: fewer, larger bins
    for (int d = 0; d < 3; ++d) nb[d] = std::max(1.0, std::floor((hi[d] - lo[d]) / bin));
    if (nb[0] * nb[1] * nb[2] <= 8.0 * n_total + 64) break;
  }
  for (int d = 0; d < 3; ++d) g.nb[d] = long(nb[d]);
  return g;
}

GhostedSystem build_neighbor_list(const Structure& s, double cutoff, double ghost_cutoff, bool ghost_lists) {
  const int n = s.size();
  const ImageFrame frame = image_frame(s, cutoff, ghost_cutoff);
  const bool periodic = frame.periodic;

  GhostedSystem g;
  g.n_local = n;
  g.n_listed = n;
  g.positions = s.positions;
  g.species = s.species;
  g.owner.resize(n);
  g.image.assign(3 * size_t(n), 0);
  for (int i = 0; i < n; ++i) g.owner[i] = i;

  if (periodic) {
    const Mat3& c = frame.cell;
    double inv[3][3], cell[3][3];
    bool pbc[3];
    for (int a = 0; a < 3; ++a) {
      pbc[a] = frame.pbc[a];
      for (int d = 0; d < 3; ++d) {
        inv[a][d] = frame.inverse[a][d];
        cell[a][d] = c[a][d];
      }
    }
    std::vector<double> frac(3 * size_t(n));
    // Local atoms are wrapped into the cell along periodic axes (pair vectors, and so
    // energies and forces, do not change); ghosts are then images of the wrapped atoms.
    for (int i = 0; i < n; ++i) wrap_position(&s.positions[3 * i], inv, cell, pbc, &frac[3 * i], &g.positions[3 * i]);
    // Ghosts in two passes: first those within ghost_cutoff - cutoff of the cell (the only ones
    // that need lists of their own), then the rest of the shell, so listed atoms form a prefix.
    const auto& n_img = frame.n_img;
    const auto& margin = frame.margin;
    const auto& inner = frame.inner;
    for (int pass = 0; pass < (ghost_lists ? 2 : 1); ++pass) {
      for (int t0 = -n_img[0]; t0 <= n_img[0]; ++t0) {
        for (int t1 = -n_img[1]; t1 <= n_img[1]; ++t1) {
          for (int t2 = -n_img[2]; t2 <= n_img[2]; ++t2) {
            if (t0 == 0 && t1 == 0 && t2 == 0) continue;
            const int t[3] = {t0, t1, t2};
            for (int i = 0; i < n; ++i) {
              bool in_shell = true, in_inner = true;
              for (int a = 0; a < 3; ++a) {
                if (!s.pbc[a]) continue;
                double f = frac[3 * i + a] + t[a];
                in_shell = in_shell && f >= -margin[a] && f <= 1.0 + margin[a];
                in_inner = in_inner && f >= -inner[a] && f <= 1.0 + inner[a];
              }
              if (!in_shell) continue;
              if (ghost_lists && (pass == 0) != in_inner) continue;
              for (int d = 0; d < 3; ++d) {
                g.positions.push_back(g.positions[3 * i + d] + t0 * c[0][d] + t1 * c[1][d] + t2 * c[2][d]);
                g.image.push_back(t[d]);
              }
              g.species.push_back(s.species[i]);
              g.owner.push_back(i);
            }
          }
        }
      }
      if (pass == 0) g.n_listed = int(g.owner.size());
    }
  }

  // Cell-list binning over the bounding box of local + ghost atoms.
  const int n_total = g.n_total();
  double lo[3], hi[3];
  for (int d = 0; d < 3; ++d) lo[d] = hi[d] = g.positions[d];
  for (int a = 0; a < n_total; ++a) {
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::min(lo[d], g.positions[3 * a + d]);
      hi[d] = std::max(hi[d], g.positions[3 * a + d]);
    }
  }
  const BinGrid grid = bin_grid(lo, hi, cutoff, n_total);
  const long* nb = grid.nb;
  auto bin_of = [&](int a, int d) { return bin_coordinate(grid, g.positions[3 * a + d], d); };
  std::vector<long> bin_index(n_total);
  std::vector<int> bin_count(nb[0] * nb[1] * nb[2] + 1, 0);
  for (int a = 0; a < n_total; ++a) {
    bin_index[a] = (bin_of(a, 0) * nb[1] + bin_of(a, 1)) * nb[2] + bin_of(a, 2);
    ++bin_count[bin_index[a] + 1];
  }
  for (size_t b = 1; b < bin_count.size(); ++b) bin_count[b] += bin_count[b - 1];
  std::vector<int> bin_atoms(n_total);
  {
    std::vector<int> fill(bin_count.begin(), bin_count.end() - 1);
    for (int a = 0; a < n_total; ++a) bin_atoms[fill[bin_index[a]]++] = a;
  }
  const double rc2 = cutoff * cutoff;
  g.offsets.assign(1, 0);
  if (!ghost_lists || !periodic) g.n_listed = n;
  for (int i = 0; i < g.n_listed; ++i) {
    long bi[3] = {bin_of(i, 0), bin_of(i, 1), bin_of(i, 2)};
    for (long b0 = std::max(0L, bi[0] - 1); b0 <= std::min(nb[0] - 1, bi[0] + 1); ++b0) {
      for (long b1 = std::max(0L, bi[1] - 1); b1 <= std::min(nb[1] - 1, bi[1] + 1); ++b1) {
        for (long b2 = std::max(0L, bi[2] - 1); b2 <= std::min(nb[2] - 1, bi[2] + 1); ++b2) {
          long b = (b0 * nb[1] + b1) * nb[2] + b2;
          for (int q = bin_count[b]; q < bin_count[b + 1]; ++q) {
            int j = bin_atoms[q];
            if (j == i) continue;
            double r2 = 0;
            for (int d = 0; d < 3; ++d) {
              double dx = g.positions[3 * j + d] - g.positions[3 * i + d];
              r2 += dx * dx;
            }
            if (r2 >= rc2) continue;
            if (r2 < 1e-20) {
              throw Error(where(s) + ": atoms " + std::to_string(g.owner[i] + 1) + " and " +
                          std::to_string(g.owner[j] + 1) + (j < n && i < n ? "" : " (periodic image)") +
                          " are at the same position");
            }
            g.neighbors.push_back(j);
          }
        }
      }
    }
    g.offsets.push_back(std::int64_t(g.neighbors.size()));
  }
  return g;
}

void require_species_in_model(const Structure& s, const Potential& potential) {
  for (int i = 0; i < s.size(); ++i) {
    if (s.species[i] < 0 || s.species[i] >= potential.num_species()) {
      throw Error(where(s) + ": atom " + std::to_string(i + 1) + " has species " + std::to_string(s.species[i]) +
                  " but the model has " + std::to_string(potential.num_species()) + " species (0.." +
                  std::to_string(potential.num_species() - 1) + ")");
    }
  }
}

Evaluation evaluate_system(Potential& potential, const GhostedSystem& g, const std::int64_t* offsets,
                           const int* neighbors, bool with_virial, bool atom_virial, bool atom_centroid_virial) {
  const int n = g.n_local, nt = g.n_total();
  std::vector<double> f(3 * size_t(nt), 0.0), v(atom_virial ? 6 * size_t(nt) : 0, 0.0);
  std::vector<double> cv(atom_centroid_virial ? 9 * size_t(nt) : 0, 0.0);
  Evaluation ev;
  ev.atom_energy.assign(n, 0.0);
  AtomsRef atoms{n, nt, g.positions.data(), g.species.data(), MemorySpace::Host};
  NeighborsRef nbr;
  nbr.n_listed = g.n_listed;
  nbr.neighbors = neighbors;
  nbr.offsets = offsets;
  OutputsRef out{f.data(), ev.atom_energy.data(), atom_virial ? v.data() : nullptr};
  out.atom_centroid_virial = atom_centroid_virial ? cv.data() : nullptr;
  out.virial = with_virial;
  Totals t = potential.compute(atoms, nbr, out);
  ev.energy = t.energy;
  ev.virial = t.virial;
  // Rows of `width` values per atom and image, each image's added to its owner's.
  auto fold = [&](const std::vector<double>& per_image, int width) {
    std::vector<double> per_atom(width * size_t(n), 0.0);
    for (int a = 0; a < nt; ++a) {
      for (int d = 0; d < width; ++d) per_atom[width * size_t(g.owner[a]) + d] += per_image[width * size_t(a) + d];
    }
    return per_atom;
  };
  ev.forces = fold(f, 3);
  if (atom_virial) ev.atom_virial = fold(v, 6);
  if (atom_centroid_virial) ev.atom_centroid_virial = fold(cv, 9);
  return ev;
}

Evaluation evaluate(Potential& potential, const Structure& s, bool atom_virial, bool atom_centroid_virial) {
  require_species_in_model(s, potential);
  GhostedSystem g = build_neighbor_list(s, potential.cutoff(), potential.ghost_cutoff(),
                                        potential.needs_ghost_neighbors());
  return evaluate_system(potential, g, g.offsets.data(), g.neighbors.data(), true, atom_virial, atom_centroid_virial);
}

}  // namespace mlpot
