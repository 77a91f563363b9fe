#include "mlpot/builders.hpp"

#include <cmath>
#include <limits>
#include <random>

#include "mlpot/error.hpp"

namespace mlpot {

const std::vector<std::string>& sei_elements() {
  static const std::vector<std::string> e{"H", "Li", "C", "O", "F", "P"};
  return e;
}

Structure build_li2co3(int na, int nb, int nc) {
  if (na < 1 || nb < 1 || nc < 1) throw Error("li2co3: repetitions must be positive");
  // Atom indices are ints throughout (Structure, neighbour lists, LAMMPS' tags).
  const double atoms = 24.0 * na * nb * nc;
  if (atoms > std::numeric_limits<int>::max()) {
    throw Error("li2co3: " + std::to_string(na) + "x" + std::to_string(nb) + "x" + std::to_string(nc) + " cells are " +
                std::to_string(static_cast<long long>(atoms)) + " atoms, more than the 2147483647 an int counts");
  }
  const double a = 8.359, b = 4.977, c = 6.194, beta = 114.79 * M_PI / 180.0;
  const Mat3 cell{{{a, 0, 0}, {0, b, 0}, {c * std::cos(beta), 0, c * std::sin(beta)}}};
  struct Site { int species; double x, y, z; };
  const Site asym[] = {{1, 0.1965, 0.4484, 0.8339}, {2, 0.0, 0.0657, 0.25}, {3, 0.0, 0.3229, 0.25},
                       {3, 0.1463, -0.0640, 0.3131}};
  // C2/c (unique axis b): (x,y,z) (-x,y,1/2-z) (-x,-y,-z) (x,-y,1/2+z), plus C-centring.
  std::vector<Site> cellsites;
  for (const Site& s : asym) {
    const double ops[4][3] = {{s.x, s.y, s.z}, {-s.x, s.y, 0.5 - s.z}, {-s.x, -s.y, -s.z}, {s.x, -s.y, 0.5 + s.z}};
    for (int t = 0; t < 2; ++t) {
      for (const auto& o : ops) {
        double f[3] = {o[0] + 0.5 * t, o[1] + 0.5 * t, o[2]};
        for (double& v : f) v -= std::floor(v);
        bool dup = false;
        for (const Site& q : cellsites) {
          double d[3] = {f[0] - q.x, f[1] - q.y, f[2] - q.z};
          for (double& v : d) v -= std::round(v);
          if (std::fabs(d[0]) + std::fabs(d[1]) + std::fabs(d[2]) < 1e-6) dup = true;
        }
        if (!dup) cellsites.push_back({s.species, f[0], f[1], f[2]});
      }
    }
  }
  if (cellsites.size() != 24) throw Error("li2co3: internal error, expected 24 atoms per cell");
  Structure s;
  s.pbc = {true, true, true};
  for (int r = 0; r < 3; ++r) {
    const int rep = r == 0 ? na : (r == 1 ? nb : nc);
    for (int d = 0; d < 3; ++d) s.cell[r][d] = cell[r][d] * rep;
  }
  for (int i = 0; i < na; ++i) {
    for (int j = 0; j < nb; ++j) {
      for (int k = 0; k < nc; ++k) {
        for (const Site& q : cellsites) {
          const double f[3] = {q.x + i, q.y + j, q.z + k};
          for (int d = 0; d < 3; ++d) s.positions.push_back(f[0] * cell[0][d] + f[1] * cell[1][d] + f[2] * cell[2][d]);
          s.species.push_back(q.species);
          s.symbols.push_back(sei_elements()[q.species]);
        }
      }
    }
  }
  s.source = "li2co3:" + std::to_string(na) + "x" + std::to_string(nb) + "x" + std::to_string(nc);
  return s;
}

namespace {

// Least-squares Chebyshev coefficients c_n with sum_n c_n T_n(xi(r)) (r - rc)^2 ~= target(r)
// on [rmin, rc], by normal equations on a fine grid (R <= 64, well conditioned in T_n).
std::vector<double> fit_radial(int R, double rmin, double rc, double (*target)(double, double), double r0) {
  const int npts = 400;
  std::vector<double> ata(size_t(R) * R, 0.0), atb(R, 0.0), row(R);
  for (int p = 0; p < npts; ++p) {
    double r = rmin + (rc - rmin) * (p + 0.5) / npts;
    double xi = (2 * r - (rmin + rc)) / (rc - rmin);
    double w = (r - rc) * (r - rc);
    double t0 = 1, t1 = xi;
    for (int n = 0; n < R; ++n) {
      double tn = n == 0 ? 1 : (n == 1 ? xi : 2 * xi * t1 - t0);
      if (n >= 2) { t0 = t1; t1 = tn; }
      row[n] = tn * w;
    }
    double y = target(r, r0);
    for (int a = 0; a < R; ++a) {
      atb[a] += row[a] * y;
      for (int b = 0; b < R; ++b) ata[size_t(a) * R + b] += row[a] * row[b];
    }
  }
  // Gaussian elimination with partial pivoting.
  std::vector<double> x = atb;
  for (int col = 0; col < R; ++col) {
    int piv = col;
    for (int r = col + 1; r < R; ++r) if (std::fabs(ata[size_t(r) * R + col]) > std::fabs(ata[size_t(piv) * R + col])) piv = r;
    for (int c = 0; c < R; ++c) std::swap(ata[size_t(col) * R + c], ata[size_t(piv) * R + c]);
    std::swap(x[col], x[piv]);
    for (int r = col + 1; r < R; ++r) {
      double f = ata[size_t(r) * R + col] / ata[size_t(col) * R + col];
      for (int c = col; c < R; ++c) ata[size_t(r) * R + c] -= f * ata[size_t(col) * R + c];
      x[r] -= f * x[col];
    }
  }
  for (int r = R - 1; r >= 0; --r) {
    for (int c = r + 1; c < R; ++c) x[r] -= ata[size_t(r) * R + c] * x[c];
    x[r] /= ata[size_t(r) * R + r];
  }
  return x;
}

// Soft repulsion (eV per bond counted from one side): 0.5 eV at r = r0, decaying smoothly.
double soft_repulsion(double r, double r0) { return 0.5 * std::exp(-(r - r0) / 0.45); }

}  // namespace

MtpModel make_synthetic_mtp(const MtpModel& tmpl, int C, double min_dist, double max_dist, unsigned seed) {
  if (C < 1) throw Error("synthetic MTP: species_count must be >= 1");
  // What parse_mtp() accepts back: a finite cutoff above a non-negative inner radius.
  if (!(min_dist >= 0 && max_dist > min_dist && std::isfinite(max_dist))) {
    throw Error("synthetic MTP: need 0 <= min_dist < max_dist < inf (got " + std::to_string(min_dist) + ", " +
                std::to_string(max_dist) + ")");
  }
  MtpModel m = tmpl;
  m.selection_state.clear();
  m.potential_name = "mlpot_synthetic";
  m.has_potential_tag = true;
  m.potential_tag = "synthetic benchmark model, not fitted to any data";
  m.has_scaling = true;
  m.scaling = 1.0;
  m.species_count = C;
  m.species_labels.clear();
  m.min_dist = min_dist;
  m.max_dist = max_dist;
  const int K = m.radial_funcs_count, R = m.radial_basis_size;
  // Covalent-like radii of H Li C O F P (A); further species reuse them cyclically.
  const double radius[6] = {0.31, 1.28, 0.76, 0.66, 0.57, 1.07};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  m.radial_coeffs.assign(size_t(C) * C * K * R, 0.0);
  for (int s1 = 0; s1 < C; ++s1) {
    for (int s2 = 0; s2 < C; ++s2) {
      // Symmetric in the species pair so that the pair term is a proper pair potential.
      const double r0 = 0.85 * (radius[s1 % 6] + radius[s2 % 6]);
      std::vector<double> pair = fit_radial(R, min_dist, max_dist, soft_repulsion, r0);
      for (int xi = 0; xi < R; ++xi) m.radial_coeffs[((size_t(s1) * C + s2) * K + 0) * R + xi] = pair[xi];
    }
  }
  for (int s1 = 0; s1 < C; ++s1) {
    for (int s2 = 0; s2 < C; ++s2) {
      for (int mu = 1; mu < K; ++mu) {
        for (int xi = 0; xi < R; ++xi) m.radial_coeffs[((size_t(s1) * C + s2) * K + mu) * R + xi] = 0.01 * normal(rng);
      }
    }
  }
  m.species_coeffs.assign(C, 0.0);
  for (int s = 0; s < C; ++s) m.species_coeffs[s] = -1.0 - 0.1 * s;
  m.moment_coeffs.assign(m.alpha_moment_mapping.size(), 0.0);
  int pair_moment = -1;
  for (size_t b = 0; b < m.alpha_index_basic.size(); ++b) {
    const auto& q = m.alpha_index_basic[b];
    if (q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 0) pair_moment = int(b);
  }
  bool carried = false;
  for (size_t q = 0; q < m.alpha_moment_mapping.size(); ++q) {
    if (m.alpha_moment_mapping[q] == pair_moment && !carried) {
      m.moment_coeffs[q] = 1.0;
      carried = true;
    } else {
      m.moment_coeffs[q] = 1e-4 * normal(rng);
    }
  }
  if (!carried) throw Error("synthetic MTP: template has no scalar rank-0 moment of radial function 0");
  return m;
}

}  // namespace mlpot

namespace mlpot {

namespace {

using Vec3 = std::array<double, 3>;
Vec3 sub3(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec3 add3(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
Vec3 scale3(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
double dot3(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 cross3(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
Vec3 unit3(const Vec3& a) { return scale3(a, 1.0 / std::sqrt(dot3(a, a))); }

// Internal coordinates to Cartesian: the atom bonded to c at distance r, with angle b-c-new
// theta and dihedral a-b-c-new phi (degrees).
Vec3 place(const Vec3& a, const Vec3& b, const Vec3& c, double r, double theta, double phi) {
  const double t = theta * M_PI / 180.0, p = phi * M_PI / 180.0;
  const Vec3 bc = unit3(sub3(c, b));
  const Vec3 n = unit3(cross3(sub3(b, a), bc));
  const Vec3 m = cross3(n, bc);
  const Vec3 d = {-r * std::cos(t), r * std::sin(t) * std::cos(p), r * std::sin(t) * std::sin(p)};
  return add3(c, add3(scale3(bc, d[0]), add3(scale3(m, d[1]), scale3(n, d[2]))));
}

}  // namespace

std::vector<std::pair<int, std::array<double, 3>>> li2edc_molecule() {
  // Centrosymmetric trans conformer of (CH2-O-CO2-Li)2 built from typical bond lengths and
  // angles (C-C 1.52, C-O 1.43, O-C(carbonate) 1.34, C=O 1.22 / 1.28, C-H 1.09 A); each Li
  // sits on the bisector of its carbonate's two terminal oxygens (bidentate, Li-O ~2.0 A).
  const int H = 0, Li = 1, C = 2, O = 3;
  const Vec3 c1 = {0.76, 0, 0}, c1p = {-0.76, 0, 0}, dummy = {-0.76, 1.0, 0};
  const Vec3 o1 = place(dummy, c1p, c1, 1.43, 109.5, 180);
  const Vec3 c2 = place(c1p, c1, o1, 1.34, 116, 180);
  const Vec3 o2 = place(c1, o1, c2, 1.22, 125, 0);
  const Vec3 o3 = place(c1, o1, c2, 1.28, 112, 180);
  const Vec3 mid = scale3(add3(o2, o3), 0.5);
  const Vec3 li = add3(c2, scale3(unit3(sub3(mid, c2)), 2.3));
  const Vec3 h1 = place(dummy, c1p, c1, 1.09, 109.5, 60);
  const Vec3 h2 = place(dummy, c1p, c1, 1.09, 109.5, -60);
  std::vector<std::pair<int, Vec3>> half = {{C, c1}, {O, o1}, {C, c2}, {O, o2}, {O, o3}, {Li, li}, {H, h1}, {H, h2}};
  std::vector<std::pair<int, Vec3>> mol = half;
  for (const auto& [s, x] : half) mol.push_back({s, scale3(x, -1.0)});  // inversion centre at the C-C midpoint
  return mol;
}

Structure build_amorphous_li2edc(int molecules, double density, double min_distance, unsigned seed) {
  if (molecules < 1) throw Error("li2edc: need at least one molecule");
  if (!(density > 0) || !std::isfinite(density)) throw Error("li2edc: density must be a positive number (g/cm^3)");
  // (NaN would pass every distance check: no check at all.)
  if (!(min_distance >= 0) || !std::isfinite(min_distance)) {
    throw Error("li2edc: the minimum distance must be a number >= 0 (A)");
  }
  const auto mol = li2edc_molecule();
  const double masses[4] = {1.008, 6.94, 12.011, 15.999};
  double molar = 0;
  for (const auto& a : mol) molar += masses[a.first];
  const double avogadro = 6.02214076e23;
  const double volume = molecules * molar / avogadro / density * 1e24;  // A^3
  const double L = std::cbrt(volume);
  Structure s;
  s.cell = {{{L, 0, 0}, {0, L, 0}, {0, 0, L}}};
  s.pbc = {true, true, true};
  s.source = "li2edc:" + std::to_string(molecules);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g(0.0, 1.0);
  // Cell list over the box for the distance checks (cells at least min_distance wide).
  const int nc = std::max(1, int(L / std::max(min_distance, 1e-3)));
  const double cw = L / nc;
  std::vector<std::vector<int>> cells(size_t(nc) * nc * nc);
  auto cell_of = [&](const Vec3& x, int* c) {
    for (int d = 0; d < 3; ++d) c[d] = std::min(nc - 1, std::max(0, int(std::floor(x[d] / cw))));
  };
  const double d2min = min_distance * min_distance;
  const int max_attempts = 200000;
  std::vector<Vec3> trial(mol.size());
  for (int m = 0; m < molecules; ++m) {
    bool placed = false;
    for (int attempt = 0; attempt < max_attempts && !placed; ++attempt) {
      // Uniform random rotation (normalised Gaussian quaternion) and position.
      double q[4] = {g(rng), g(rng), g(rng), g(rng)};
      const double qn = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
      for (double& v : q) v /= qn;
      const double w = q[0], x = q[1], y = q[2], z = q[3];
      const double R[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
                              {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
                              {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}};
      const Vec3 centre = {u(rng) * L, u(rng) * L, u(rng) * L};
      bool ok = true;
      for (size_t a = 0; a < mol.size() && ok; ++a) {
        const Vec3& p = mol[a].second;
        Vec3 r;
        for (int d = 0; d < 3; ++d) {
          r[d] = centre[d] + R[d][0] * p[0] + R[d][1] * p[1] + R[d][2] * p[2];
          r[d] -= L * std::floor(r[d] / L);
        }
        trial[a] = r;
        int c[3];
        cell_of(r, c);
        for (int dx = -1; dx <= 1 && ok; ++dx)
          for (int dy = -1; dy <= 1 && ok; ++dy)
            for (int dz = -1; dz <= 1 && ok; ++dz) {
              const int cx = (c[0] + dx + nc) % nc, cy = (c[1] + dy + nc) % nc, cz = (c[2] + dz + nc) % nc;
              for (int j : cells[(size_t(cx) * nc + cy) * nc + cz]) {
                double d2 = 0;
                for (int d = 0; d < 3; ++d) {
                  double v = r[d] - s.positions[3 * size_t(j) + d];
                  v -= L * std::round(v / L);
                  d2 += v * v;
                }
                if (d2 < d2min) {
                  ok = false;
                  break;
                }
              }
            }
      }
      if (!ok) continue;
      for (size_t a = 0; a < mol.size(); ++a) {
        int c[3];
        cell_of(trial[a], c);
        cells[(size_t(c[0]) * nc + c[1]) * nc + c[2]].push_back(s.size());
        for (int d = 0; d < 3; ++d) s.positions.push_back(trial[a][d]);
        s.species.push_back(mol[a].first);
      }
      placed = true;
    }
    if (!placed) {
      throw Error("li2edc: could not place molecule " + std::to_string(m + 1) + " of " + std::to_string(molecules) +
                  " after " + std::to_string(max_attempts) + " attempts at " + std::to_string(density) +
                  " g/cm^3 with a minimum distance of " + std::to_string(min_distance) +
                  " A (lower the density or the minimum distance)");
    }
  }
  return s;
}

}  // namespace mlpot
