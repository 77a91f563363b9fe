// The Kokkos MTP kernel against finite differences of its own energy, across backends,
// and across neighbour-list layouts. (Parity with the reference implementation motep is in
// tests/python/test_motep_parity.py.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "mlpot/builders.hpp"
#include "mlpot/error.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/mtp_selection.hpp"
#include "mtp_potential_impl.hpp"

namespace {

mlpot::MtpModel random_model(const char* level, int species, unsigned seed, double moment_scale = 0.05) {
  mlpot::MtpModel t = mlpot::read_mtp(std::string(MLPOT_TEMPLATES) + "/" + level + ".almtp");
  mlpot::MtpModel m = mlpot::make_synthetic_mtp(t, species, 0.8, 5.0, seed);
  // Make the many-body part large enough that a wrong derivative of it would show.
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 1);
  for (auto& c : m.radial_coeffs) c += 0.05 * n(rng);
  for (auto& c : m.moment_coeffs) c = moment_scale * n(rng);
  return m;
}

mlpot::Structure small_triclinic(int species, unsigned seed, double scale = 1.0) {
  mlpot::Structure s;
  s.cell = {{{5.1 * scale, 0, 0}, {1.3 * scale, 4.7 * scale, 0}, {-0.8 * scale, 0.9 * scale, 5.4 * scale}}};
  s.pbc = {true, true, true};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  // A jittered 2x2x2 grid keeps atoms apart.
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c) {
        double f[3] = {(a + 0.3 * u(rng)) / 2, (b + 0.3 * u(rng)) / 2, (c + 0.3 * u(rng)) / 2};
        for (int d = 0; d < 3; ++d) s.positions.push_back(f[0] * s.cell[0][d] + f[1] * s.cell[1][d] + f[2] * s.cell[2][d]);
        s.species.push_back(int(rng() % species));
      }
  s.source = "test";
  return s;
}

double energy(mlpot::Potential& p, const mlpot::Structure& s) { return mlpot::evaluate(p, s).energy; }

void check_finite_differences(mlpot::Potential& pot, const mlpot::Structure& s0) {
  mlpot::Evaluation ev = mlpot::evaluate(pot, s0);
  const double h = 1e-5;
  double max_err = 0, max_f = 0;
  for (int i = 0; i < s0.size(); ++i) {
    for (int d = 0; d < 3; ++d) {
      mlpot::Structure sp = s0, sm = s0;
      sp.positions[3 * i + d] += h;
      sm.positions[3 * i + d] -= h;
      double fd = -(energy(pot, sp) - energy(pot, sm)) / (2 * h);
      max_err = std::max(max_err, std::fabs(fd - ev.forces[3 * i + d]));
      max_f = std::max(max_f, std::fabs(fd));
    }
  }
  EXPECT_GT(max_f, 1e-3) << "forces too small to test anything";
  EXPECT_LT(max_err, 1e-6 * std::max(1.0, max_f)) << "max |F + dE/dx| " << max_err << " max |F| " << max_f;
  // Virial W_ab = -dE/d(eps_ab) under the homogeneous strain x -> (1 + eps) x.
  const int pairs[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  for (int q = 0; q < 6; ++q) {
    double e_pm[2];
    for (int sign = 0; sign < 2; ++sign) {
      double eps = sign == 0 ? h : -h;
      mlpot::Structure s = s0;
      auto strain = [&](double* v) {
        // Symmetric strain eps_ab = eps_ba = eps/2 off the diagonal, eps on it.
        const int a = pairs[q][0], b = pairs[q][1];
        double va = v[a], vb = v[b];
        if (a == b) {
          v[a] += eps * va;
        } else {
          v[a] += 0.5 * eps * vb;
          v[b] += 0.5 * eps * va;
        }
      };
      for (int i = 0; i < s.size(); ++i) strain(&s.positions[3 * i]);
      for (int r = 0; r < 3; ++r) strain(s.cell[r].data());
      e_pm[sign] = energy(pot, s);
    }
    double fd = -(e_pm[0] - e_pm[1]) / (2 * h);
    EXPECT_NEAR(ev.virial[q], fd, 1e-6 * std::max(1.0, std::fabs(fd))) << "virial component " << q;
  }
}

}  // namespace

TEST(MtpKernel, ForcesAndVirialAreMinusEnergyDerivatives) {
  for (const char* level : {"08", "16"}) {
    mlpot::MtpModel m = random_model(level, 3, 7);
    auto pot = mlpot::make_mtp_potential(m, "Serial");
    SCOPED_TRACE(level);
    check_finite_differences(*pot, small_triclinic(3, 11));
    // Cell smaller than the cutoff: several images of each atom are neighbours.
    check_finite_differences(*pot, small_triclinic(3, 12, 0.55));
  }
}

// The centroid-form per-atom virial of atom j is sum_i r_ij (x) F_j^(i), F_j^(i) = -dE_i/dr_j,
// over the other atoms' site energies E_i. Checked against central differences of the per-atom
// energies in a cell wider than twice the cutoff, where each pair within the cutoff is one
// minimum image. Its sum is the virial, and symmetric, since the energy is rotation invariant.
// The same derivatives give LAMMPS' usual per-atom virial (the pair form), so a wrong split of
// either form between the atoms fails here, not only a wrong total.
TEST(MtpKernel, CentroidVirialsAreDerivativesOfSiteEnergies) {
  mlpot::MtpModel m = random_model("16", 3, 13);
  auto pot = mlpot::make_mtp_potential(m, "Serial");
  mlpot::Structure s;
  const double box[3] = {10.6, 10.9, 11.2};  // > 2 x 5 A
  s.cell = {{{box[0], 0, 0}, {0, box[1], 0}, {0, 0, box[2]}}};
  s.pbc = {true, true, true};
  s.source = "test";
  std::mt19937 rng(14);
  std::uniform_real_distribution<double> u(0, 1);
  while (s.size() < 40) {  // dense enough for ~10 neighbours each, no pair closer than 1.6 A
    double x[3] = {u(rng) * box[0], u(rng) * box[1], u(rng) * box[2]};
    bool ok = true;
    for (int a = 0; a < s.size() && ok; ++a) {
      double r2 = 0;
      for (int d = 0; d < 3; ++d) {
        double dd = x[d] - s.positions[3 * a + d];
        dd -= box[d] * std::round(dd / box[d]);
        r2 += dd * dd;
      }
      ok = r2 > 1.6 * 1.6;
    }
    if (!ok) continue;
    s.positions.insert(s.positions.end(), x, x + 3);
    s.species.push_back(int(rng() % 3));
  }
  const int n = s.size();
  mlpot::Evaluation ev = mlpot::evaluate(*pot, s, true, true);
  ASSERT_EQ(ev.atom_centroid_virial.size(), 9 * size_t(n));
  ASSERT_EQ(ev.atom_virial.size(), 6 * size_t(n));
  // LAMMPS' usual per-atom virial (compute stress/atom) from the same derivatives: each site
  // term r_ij (x) -dE_i/dr_j, symmetrised, half to i and half to j. xx yy zz xy xz yz.
  std::vector<double> w_pair(6 * size_t(n), 0.0);
  const int sym[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  const double h = 1e-5;
  // cv components: xx yy zz xy xz yz yx zx zy as (a, b) of r_a F_b.
  const int comp[9][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}, {1, 0}, {2, 0}, {2, 1}};
  double max_err = 0, max_w = 0;
  for (int j = 0; j < n; ++j) {
    std::vector<double> dEdrj[3];  // dE_i/dr_j for every i
    for (int b = 0; b < 3; ++b) {
      mlpot::Structure sp = s, sm = s;
      sp.positions[3 * j + b] += h;
      sm.positions[3 * j + b] -= h;
      mlpot::Evaluation ep = mlpot::evaluate(*pot, sp), em = mlpot::evaluate(*pot, sm);
      for (int i = 0; i < n; ++i) dEdrj[b].push_back((ep.atom_energy[i] - em.atom_energy[i]) / (2 * h));
    }
    double w[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    for (int i = 0; i < n; ++i) {
      if (i == j) continue;
      double rij[3];
      for (int d = 0; d < 3; ++d) {
        rij[d] = s.positions[3 * j + d] - s.positions[3 * i + d];
        rij[d] -= box[d] * std::round(rij[d] / box[d]);
      }
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) w[a][b] += rij[a] * -dEdrj[b][i];
      for (int q = 0; q < 6; ++q) {
        const int a = sym[q][0], b = sym[q][1];
        const double t = 0.5 * (rij[a] * -dEdrj[b][i] + rij[b] * -dEdrj[a][i]);
        w_pair[6 * size_t(i) + q] += 0.5 * t;
        w_pair[6 * size_t(j) + q] += 0.5 * t;
      }
    }
    for (int q = 0; q < 9; ++q) {
      const double ref = w[comp[q][0]][comp[q][1]];
      max_err = std::max(max_err, std::fabs(ev.atom_centroid_virial[9 * j + q] - ref));
      max_w = std::max(max_w, std::fabs(ref));
    }
  }
  EXPECT_GT(max_w, 1e-2) << "per-atom virials too small to test anything";
  // Central differences with h = 1e-5: 2026-12-02 both forms agreed to 4e-10 of the largest
  // per-atom virial (6.3e-8 and 4.9e-8 eV of 155 eV); the bound is ~10x that.
  EXPECT_LT(max_err, 5e-9 * std::max(1.0, max_w)) << "max error " << max_err << " of max " << max_w;
  double max_err_pair = 0, max_pair = 0;
  for (size_t k = 0; k < w_pair.size(); ++k) {
    max_err_pair = std::max(max_err_pair, std::fabs(ev.atom_virial[k] - w_pair[k]));
    max_pair = std::max(max_pair, std::fabs(w_pair[k]));
  }
  std::printf("per-atom virials against central differences of the site energies: centroid form %.2e, "
              "stress/atom form %.2e (of max %.3g eV)\n", max_err, max_err_pair, max_pair);
  EXPECT_GT(max_pair, 1e-2);
  EXPECT_LT(max_err_pair, 5e-9 * std::max(1.0, max_pair)) << "max error " << max_err_pair << " of max " << max_pair;
  double sum[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int j = 0; j < n; ++j)
    for (int q = 0; q < 9; ++q) sum[q] += ev.atom_centroid_virial[9 * j + q];
  const int as_virial[9] = {0, 1, 2, 3, 4, 5, 3, 4, 5};  // yx, zx, zy of a symmetric virial
  for (int q = 0; q < 9; ++q) EXPECT_NEAR(sum[q], ev.virial[as_virial[q]], 1e-10 * std::max(1.0, max_w)) << q;
}

TEST(MtpKernel, SerialAndOpenMPAgree) {
  auto backends = mlpot::available_backends();
  if (std::find(backends.begin(), backends.end(), "OpenMP") == backends.end()) GTEST_SKIP() << "no OpenMP backend";
  // Moderate coefficients keep forces O(1-100) eV/A; 1e-12 relative is a round-off-level bound.
  mlpot::MtpModel m = random_model("16", 6, 3, 2e-3);
  mlpot::Structure s = mlpot::build_li2co3(1, 2, 2);
  std::mt19937 rng(5);
  std::normal_distribution<double> n(0, 0.05);
  for (auto& x : s.positions) x += n(rng);
  auto serial = mlpot::make_mtp_potential(m, "Serial");
  auto openmp = mlpot::make_mtp_potential(m, "OpenMP");
  mlpot::Evaluation a = mlpot::evaluate(*serial, s, true), b = mlpot::evaluate(*openmp, s, true);
  EXPECT_NEAR(a.energy, b.energy, 1e-12 * std::fabs(a.energy));
  double fmax = 0;
  for (size_t i = 0; i < a.forces.size(); ++i) {
    EXPECT_NEAR(a.forces[i], b.forces[i], 1e-12 * std::max(1.0, std::fabs(a.forces[i])));
    fmax = std::max(fmax, std::fabs(a.forces[i]));
  }
  EXPECT_GT(fmax, 0.1);
  EXPECT_LT(fmax, 1000.0);
  for (int q = 0; q < 6; ++q) EXPECT_NEAR(a.virial[q], b.virial[q], 1e-12 * std::max(1.0, std::fabs(a.virial[q])));
  for (size_t i = 0; i < a.atom_energy.size(); ++i) EXPECT_NEAR(a.atom_energy[i], b.atom_energy[i], 1e-12);
  for (size_t i = 0; i < a.atom_virial.size(); ++i) EXPECT_NEAR(a.atom_virial[i], b.atom_virial[i], 1e-12);
}

// Every output of two evaluations of one structure (with per-atom and centroid virials), each
// within tol relative to max(1, |value|), the energy relative to itself.
void expect_same_evaluation(const mlpot::Evaluation& a, const mlpot::Evaluation& b, double tol) {
  EXPECT_NEAR(a.energy, b.energy, tol * std::fabs(a.energy));
  for (size_t i = 0; i < a.forces.size(); ++i)
    EXPECT_NEAR(a.forces[i], b.forces[i], tol * std::max(1.0, std::fabs(a.forces[i])));
  for (int q = 0; q < 6; ++q) EXPECT_NEAR(a.virial[q], b.virial[q], tol * std::max(1.0, std::fabs(a.virial[q])));
  // Per-atom values reach 1e4 in a cell smaller than the cutoff: relative bounds.
  for (size_t i = 0; i < a.atom_energy.size(); ++i)
    EXPECT_NEAR(a.atom_energy[i], b.atom_energy[i], tol * std::max(1.0, std::fabs(a.atom_energy[i])));
  for (size_t i = 0; i < a.atom_virial.size(); ++i)
    EXPECT_NEAR(a.atom_virial[i], b.atom_virial[i], tol * std::max(1.0, std::fabs(a.atom_virial[i])));
  ASSERT_EQ(a.atom_centroid_virial.size(), 9 * a.atom_energy.size());
  ASSERT_EQ(b.atom_centroid_virial.size(), a.atom_centroid_virial.size());
  for (size_t i = 0; i < a.atom_centroid_virial.size(); ++i)
    EXPECT_NEAR(a.atom_centroid_virial[i], b.atom_centroid_virial[i],
                tol * std::max(1.0, std::fabs(a.atom_centroid_virial[i])));
}

// `shaped` (a kernel in another launch shape) against the default Serial kernel (8 SIMD lanes,
// one thread per atom): energies, forces, virials, per-atom values and both grade modes.
template <class Shaped>
void check_shape_matches_serial(double tol, const char* level = "16", int species = 6) {
  using Basis = typename Shaped::basis_type;
  SCOPED_TRACE(std::string("level ") + level + ", " + std::to_string(species) + " species, " + Basis::name);
  mlpot::MtpModel m = random_model(level, species, 21, 2e-3);
  m.radial_basis_type = Basis::name;
  // Li2CO3's C-O pairs (1.28 A) inside min_dist: the _repuls bases' clamp is taken.
  if (m.radial_basis_type != "RBChebyshev") m.min_dist = 1.5;
  std::mt19937 rng(22);
  std::normal_distribution<double> n01(0, 1);
  mlpot::Structure s = mlpot::build_li2co3(1, 2, 2);
  for (auto& x : s.positions) x += 0.05 * n01(rng);
  for (auto& sp : s.species) sp %= species;
  for (const mlpot::Structure& st : {s, small_triclinic(species, 23, 0.55)}) {
    Shaped one(m);
    auto eight = mlpot::make_mtp_potential(m, "Serial");
    expect_same_evaluation(mlpot::evaluate(*eight, st, true, true), mlpot::evaluate(one, st, true, true), tol);
  }
  for (auto mode : {mlpot::GradeMode::Configuration, mlpot::GradeMode::Neighborhood}) {
    auto state = std::make_shared<mlpot::SelectionState>(mlpot::initial_selection_state(m, mode));
    for (auto& v : state->inv_A) v = n01(rng);
    Shaped one(m);
    auto eight = mlpot::make_mtp_potential(m, "Serial");
    one.set_selection(state);
    eight->set_selection(state);
    mlpot::StructureGrade a = mlpot::grade_structure(*eight, s), b = mlpot::grade_structure(one, s);
    EXPECT_GT(a.grade, 0.0);
    EXPECT_NEAR(a.grade, b.grade, 10 * tol * a.grade);
    ASSERT_EQ(a.atom_grades.size(), b.atom_grades.size());
    for (size_t i = 0; i < a.atom_grades.size(); ++i) EXPECT_NEAR(a.atom_grades[i], b.atom_grades[i], 10 * tol * a.atom_grades[i]);
  }
}

#ifdef KOKKOS_ENABLE_SERIAL
// The GPU's kernel layout (one neighbour per thread, MtpTuning<Cuda>::lanes = 1) run on the
// host against the host's 8 SIMD lanes: every lane-dependent path of the one kernel source is
// exercised without a GPU (padding of the last block, the per-lane caches, the grade rows).
TEST(MtpKernel, OneLaneLayoutMatchesEightLanes) {
  check_shape_matches_serial<mlpot::kokkos::MtpKokkosPotential<Kokkos::Serial, 1>>(1e-12);
}
#endif

#ifdef KOKKOS_ENABLE_SERIAL
// Every radial basis in the GPU's layout (one lane) against the default host kernel the factory
// picks for the model's basis (8 lanes): the basis code of both paths, grades included.
// (RBTaylor's terms grow as r^n, to 5^7 here, and cancel: per-atom centroid virials of 1e13
// agree to 1.5e-12 relative, so its bound is 1e-11.)
template <class... Bases>
void check_every_basis(mlpot::kokkos::BasisList<Bases...>) {
  (check_shape_matches_serial<mlpot::kokkos::MtpKokkosPotential<Kokkos::Serial, 1, 1, Bases>>(
       std::string(Bases::name) == "RBTaylor" ? 1e-11 : 1e-12, "16", 3),
   ...);
}
TEST(MtpKernel, EveryRadialBasisOneLaneMatchesEightLanes) { check_every_basis(mlpot::kokkos::RadialBases{}); }
#endif

#ifdef KOKKOS_ENABLE_OPENMP
// The GPU's whole launch shape on the host: one lane and a team of two OpenMP threads per atom,
// so the team-parallel paths run concurrently as on a GPU (neighbour slots taken by atomics,
// atomic scratch sums, the product levels split between threads with a barrier after each; a
// missing barrier or a shared write shows up here as a race).
TEST(MtpKernel, TeamsOfTwoThreadsMatchSerial) {
  using Pot = mlpot::kokkos::MtpKokkosPotential<Kokkos::OpenMP, 1, 2>;
  if (Kokkos::OpenMP().concurrency() < 2) GTEST_SKIP() << "one OpenMP thread: no team of two";
  for (int repeat = 0; repeat < 3; ++repeat) check_shape_matches_serial<Pot>(1e-12);
  // Other product graphs: level 8 (3 levels, 14 products) with one species, level 20 (6 349).
  check_shape_matches_serial<Pot>(1e-12, "08", 1);
  check_shape_matches_serial<Pot>(1e-12, "20", 3);
}
#endif

#ifdef KOKKOS_ENABLE_OPENMP
// Teams of several threads (a GPU's shape) keep the size of their neighbour cache between calls
// and evaluate again only the atoms whose neighbours within the cutoff outnumber it: a dilute
// cell (every atom again in the first call, which starts from none), the same cell with one atom
// more beside the atom with the most neighbours (it and a few others overflow, the rest not),
// then the dilute cell again (none), each against Serial with a fresh list.
template <class Pot>
void check_team_cache_grows() {
  mlpot::MtpModel m = random_model("16", 3, 17, 2e-3);
  mlpot::Structure dilute = mlpot::build_li2co3(1, 2, 2);
  for (auto& x : dilute.positions) x *= 1.15;
  for (auto& row : dilute.cell)
    for (auto& x : row) x *= 1.15;
  for (auto& sp : dilute.species) sp %= 3;
  // The most neighbours within the cutoff, and an atom that has them.
  mlpot::GhostedSystem g = mlpot::build_neighbor_list(dilute, m.max_dist);
  int most = 0, busiest = 0;
  for (int i = 0; i < g.n_local; ++i) {
    const int c = int(g.offsets[i + 1] - g.offsets[i]);
    if (c > most) most = c, busiest = i;
  }
  mlpot::Structure denser = dilute;
  for (int d = 0; d < 3; ++d) denser.positions.push_back(dilute.positions[3 * busiest + d] + (d == 0 ? 1.7 : 0.4));
  denser.species.push_back(1);
  Pot team(m);
  auto serial = mlpot::make_mtp_potential(m, "Serial");
  int expect_slots = most;
  for (const auto& [label, s] : {std::pair<const char*, const mlpot::Structure*>{"dilute", &dilute},
                                 {"one atom more", &denser}, {"dilute again", &dilute}}) {
    SCOPED_TRACE(label);
    expect_same_evaluation(mlpot::evaluate(*serial, *s, true, true), mlpot::evaluate(team, *s, true, true), 1e-12);
    if (s == &denser) {
      EXPECT_GT(team.team_cache_slots(), most) << "the busiest atom gained a neighbour";
      expect_slots = team.team_cache_slots();
    }
    EXPECT_EQ(team.team_cache_slots(), expect_slots) << "the cache grows to the most neighbours seen, never shrinks";
  }
}
TEST(MtpKernel, TeamCacheGrowsOnlyForAtomsThatOverflow) {
  if (Kokkos::OpenMP().concurrency() < 2) GTEST_SKIP() << "one OpenMP thread: no team of two";
  check_team_cache_grows<mlpot::kokkos::MtpKokkosPotential<Kokkos::OpenMP, 1, 2>>();
  // The split step: its first stage overflows, the force stage has the grown cache.
  check_team_cache_grows<
      mlpot::kokkos::MtpKokkosPotential<Kokkos::OpenMP, 1, 2, mlpot::kokkos::BasisRBChebyshev, double, true>>();
}

// The step in three kernels, the products one thread per atom (MtpKernel::Stage), in the GPU's
// launch shape on the host (one lane, teams of two OpenMP threads) and with the host's 8 lanes,
// against the one-kernel Serial step: every template's product schedule, grades in both modes.
TEST(MtpKernel, SplitProductsMatchOneKernel) {
  using namespace mlpot::kokkos;
  using Team = MtpKokkosPotential<Kokkos::OpenMP, 1, 2, BasisRBChebyshev, double, true>;
  using Lanes = MtpKokkosPotential<Kokkos::Serial, 8, 1, BasisRBChebyshev, double, true>;
  for (const char* level : {"06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28"}) {
    const int species = level[0] == '0' ? 2 : 3;
    check_shape_matches_serial<Lanes>(1e-12, level, species);
    if (Kokkos::OpenMP().concurrency() >= 2) check_shape_matches_serial<Team>(1e-12, level, species);
  }
  // Another basis (its pair repulsion is added in the force stage).
  check_shape_matches_serial<MtpKokkosPotential<Kokkos::OpenMP, 1, 2, BasisRBChebyshevRepuls, double, true>>(1e-12,
                                                                                                            "16", 3);
}
#endif

// The split step on the default backend, in its own launch shape (Cuda in the CUDA build, so the
// device check of perf/device/ runs it on the GPU and the build compiles it for sm_90; OpenMP with
// 8 lanes here), against the one-kernel Serial step.
TEST(MtpKernel, SplitProductsOnTheDefaultBackendMatchSerial) {
  using Exec = Kokkos::DefaultExecutionSpace;
  using Tuning = mlpot::kokkos::MtpTuning<Exec>;
  using Split = mlpot::kokkos::MtpKokkosPotential<Exec, Tuning::lanes, Tuning::team_size,
                                                  mlpot::kokkos::BasisRBChebyshev, double, true>;
  check_shape_matches_serial<Split>(1e-10);
  check_shape_matches_serial<Split>(1e-10, "24", 3);
}

// In the CUDA build the default backend is Cuda: this is the device-against-host check that
// perf/device/ runs on a GPU. In the host build it compares OpenMP with Serial again.
TEST(MtpKernel, DefaultBackendMatchesSerialHost) {
  mlpot::MtpModel m = random_model("16", 6, 8, 2e-3);
  mlpot::Structure s = mlpot::build_li2co3(2, 2, 2);
  std::mt19937 rng(9);
  std::normal_distribution<double> n(0, 0.05);
  for (auto& x : s.positions) x += n(rng);
  auto host = mlpot::make_mtp_potential(m, "Serial");
  auto dev = mlpot::make_mtp_potential(m, "default");
  std::printf("comparing %s with Serial\n", dev->backend().c_str());
  mlpot::Evaluation a = mlpot::evaluate(*host, s, true, true), b = mlpot::evaluate(*dev, s, true, true);
  EXPECT_NEAR(a.energy, b.energy, 1e-10 * std::fabs(a.energy));
  for (size_t i = 0; i < a.forces.size(); ++i) EXPECT_NEAR(a.forces[i], b.forces[i], 1e-10 * std::max(1.0, std::fabs(a.forces[i])));
  for (int q = 0; q < 6; ++q) EXPECT_NEAR(a.virial[q], b.virial[q], 1e-10 * std::max(1.0, std::fabs(a.virial[q])));
  for (size_t i = 0; i < a.atom_virial.size(); ++i) EXPECT_NEAR(a.atom_virial[i], b.atom_virial[i], 1e-10 * std::max(1.0, std::fabs(a.atom_virial[i])));
  for (size_t i = 0; i < a.atom_centroid_virial.size(); ++i)
    EXPECT_NEAR(a.atom_centroid_virial[i], b.atom_centroid_virial[i],
                1e-10 * std::max(1.0, std::fabs(a.atom_centroid_virial[i])));
}

TEST(MtpKernel, PerAtomQuantitiesSumToTotals) {
  mlpot::MtpModel m = random_model("16", 6, 4);
  auto pot = mlpot::make_mtp_potential(m, "default");
  mlpot::Evaluation ev = mlpot::evaluate(*pot, mlpot::build_li2co3(1, 1, 1), true);
  double e = 0, v[6] = {0, 0, 0, 0, 0, 0}, f[3] = {0, 0, 0};
  for (size_t i = 0; i < ev.atom_energy.size(); ++i) {
    e += ev.atom_energy[i];
    for (int q = 0; q < 6; ++q) v[q] += ev.atom_virial[6 * i + q];
    for (int d = 0; d < 3; ++d) f[d] += ev.forces[3 * i + d];
  }
  EXPECT_NEAR(e, ev.energy, 1e-10 * std::fabs(ev.energy));
  for (int q = 0; q < 6; ++q) EXPECT_NEAR(v[q], ev.virial[q], 1e-10);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(f[d], 0.0, 1e-10);  // Newton's third law
}

// The GPU kernel's team scratch for the benchmark case (level 16, 6 species, Li2CO3) must fit the
// shared memory Kokkos offers a CUDA team at level 0 on an H100: sharedMemPerBlock (48 KiB)
// less Kokkos' reserve of (1024 + 2) doubles and an int64. Beyond it every team's scratch would
// live in global memory; this catches a change that grows it there without a GPU to notice.
#ifdef KOKKOS_ENABLE_SERIAL
TEST(MtpKernel, GpuTeamScratchFitsSharedMemory) {
  constexpr int kTeam = 32;  // MtpTuning<Cuda>::team_size (not visible in a host-only build)
  const size_t level0 = 48 * 1024 - ((1024 + 2) * sizeof(double) + sizeof(std::int64_t));
  mlpot::MtpModel t = mlpot::read_mtp(std::string(MLPOT_TEMPLATES) + "/16.almtp");
  mlpot::MtpModel m = mlpot::make_synthetic_mtp(t, 6, 0.92, 5.0, 2025);
  mlpot::Structure s = mlpot::build_li2co3(3, 5, 4);
  std::mt19937 rng(3);
  std::normal_distribution<double> jitter(0, 0.1);  // thermal displacements pack some atoms closer
  for (auto& x : s.positions) x += jitter(rng);
  mlpot::GhostedSystem g = mlpot::build_neighbor_list(s, m.max_dist);
  int most = 0;
  for (int i = 0; i < g.n_local; ++i) most = std::max(most, int(g.offsets[i + 1] - g.offsets[i]));
  using Kernel = mlpot::kokkos::MtpKernel<Kokkos::Serial, 1, kTeam>;
  using Pot = mlpot::kokkos::MtpKokkosPotential<Kokkos::Serial, 1, kTeam>;
  Kernel k;
  k.p = mlpot::kokkos::make_parameters<Kokkos::HostSpace>(m);
  k.max_neighbors = most;
  for (bool grading : {false, true}) {
    k.want_param_rows = grading;
    const size_t bytes = Pot::ScratchBytes(k.team_reals(), k.team_ints()) + k.thread_reals() * sizeof(double) * kTeam;
    std::printf("GPU team scratch, %d neighbours within the cutoff, %s: %zu bytes of %zu\n", most,
                grading ? "grading" : "forces", bytes, level0);
    EXPECT_LE(bytes, level0) << (grading ? "grading" : "forces");
  }
}
#endif

TEST(MtpKernel, PaddedNeighbourLayoutsMatchCsr) {
  // LAMMPS-Kokkos hands over a padded 2-D list (LayoutLeft on GPUs, LayoutRight on hosts)
  // with a skin: entries beyond the cutoff must be ignored. The reference is the list built
  // with the exact cutoff (no entry beyond it); the skin lists, as CSR and padded, must give
  // its energy, per-atom energies and forces (ghost forces folded onto their owners).
  mlpot::MtpModel m = random_model("08", 2, 9);
  auto pot = mlpot::make_mtp_potential(m, "Serial");
  mlpot::Structure s = small_triclinic(2, 3);
  const mlpot::Evaluation ref = mlpot::evaluate(*pot, s);
  mlpot::GhostedSystem skin = mlpot::build_neighbor_list(s, m.max_dist + 1.0);
  const int n = skin.n_local, nt = skin.n_total();
  std::vector<int> counts(n);
  int maxn = 0;
  long beyond = 0;  // skin entries beyond the cutoff: the test needs some
  for (int i = 0; i < n; ++i) {
    counts[i] = int(skin.offsets[i + 1] - skin.offsets[i]);
    maxn = std::max(maxn, counts[i]);
    for (auto k = skin.offsets[i]; k < skin.offsets[i + 1]; ++k) {
      const int j = skin.neighbors[k];
      double r2 = 0.0;
      for (int d = 0; d < 3; ++d) r2 += std::pow(skin.positions[3 * j + d] - skin.positions[3 * i + d], 2);
      beyond += r2 >= m.max_dist * m.max_dist;
    }
  }
  ASSERT_GT(beyond, 0);
  mlpot::AtomsRef atoms{n, nt, skin.positions.data(), skin.species.data(), mlpot::MemorySpace::Host};
  auto expect_reference = [&](const mlpot::Totals& t, const std::vector<double>& f, const std::vector<double>& e) {
    EXPECT_NEAR(t.energy, ref.energy, 1e-12 * std::fabs(ref.energy));
    std::vector<double> folded(3 * size_t(n), 0.0);
    for (int a = 0; a < nt; ++a)
      for (int d = 0; d < 3; ++d) folded[3 * skin.owner[a] + d] += f[3 * size_t(a) + d];
    for (size_t k = 0; k < folded.size(); ++k) EXPECT_NEAR(folded[k], ref.forces[k], 1e-12);
    for (int i = 0; i < n; ++i) EXPECT_NEAR(e[i], ref.atom_energy[i], 1e-12 * std::fabs(ref.energy) / n);
  };
  {
    SCOPED_TRACE("skin list as CSR");
    mlpot::NeighborsRef csr;
    csr.neighbors = skin.neighbors.data();
    csr.offsets = skin.offsets.data();
    std::vector<double> f(3 * size_t(nt), 0.0), e(n);
    expect_reference(pot->compute(atoms, csr, {f.data(), e.data(), nullptr}), f, e);
  }
  // The host kernel, and the GPU's launch shape (one lane, teams of two threads), which sizes
  // its neighbour cache by the entries within the cutoff rather than the list's length.
  std::vector<std::unique_ptr<mlpot::Potential>> pots;
  pots.push_back(mlpot::make_mtp_potential(m, "Serial"));
#ifdef KOKKOS_ENABLE_OPENMP
  if (Kokkos::OpenMP().concurrency() >= 2) pots.push_back(std::make_unique<mlpot::kokkos::MtpKokkosPotential<Kokkos::OpenMP, 1, 2>>(m));
#endif
  for (auto& tested : pots)
  for (int layout = 0; layout < 2; ++layout) {
    SCOPED_TRACE(tested->backend() + (layout == 0 ? ", LayoutRight" : ", LayoutLeft"));
    std::vector<int> padded(size_t(n) * maxn, -1);
    mlpot::NeighborsRef nbr;
    nbr.counts = counts.data();
    nbr.row_stride = layout == 0 ? maxn : 1;
    nbr.slot_stride = layout == 0 ? 1 : n;
    for (int i = 0; i < n; ++i)
      for (int jj = 0; jj < counts[i]; ++jj)
        padded[i * nbr.row_stride + jj * nbr.slot_stride] = skin.neighbors[skin.offsets[i] + jj] | (layout << 30);
    nbr.neighbors = padded.data();
    nbr.index_mask = (1 << 29) - 1;
    std::vector<double> f(3 * size_t(nt), 0.0), e(n);
    expect_reference(tested->compute(atoms, nbr, {f.data(), e.data(), nullptr}), f, e);
  }
}

TEST(MtpKernel, ForcesAccumulateIntoCallerArrays) {
  mlpot::MtpModel m = random_model("08", 1, 2);
  auto pot = mlpot::make_mtp_potential(m, "default");
  mlpot::Structure s = small_triclinic(1, 4);
  s.species.assign(s.size(), 0);
  mlpot::GhostedSystem g = mlpot::build_neighbor_list(s, m.max_dist);
  mlpot::AtomsRef atoms{g.n_local, g.n_total(), g.positions.data(), g.species.data(), mlpot::MemorySpace::Host};
  mlpot::NeighborsRef nbr;
  nbr.neighbors = g.neighbors.data();
  nbr.offsets = g.offsets.data();
  std::vector<double> f1(3 * size_t(g.n_total()), 0.0), f2(3 * size_t(g.n_total()), 1.0);
  pot->compute(atoms, nbr, {f1.data(), nullptr, nullptr});
  pot->compute(atoms, nbr, {f2.data(), nullptr, nullptr});
  for (size_t k = 0; k < f1.size(); ++k) EXPECT_NEAR(f2[k], f1[k] + 1.0, 1e-12);
}

// LAMMPS asks for neither energy nor virial between thermo outputs: the forces stay, the totals
// are not reduced (zeros); either flag alone brings both back.
TEST(MtpKernel, TotalsOnlyWhenAsked) {
  mlpot::MtpModel m = random_model("08", 2, 5);
  auto pot = mlpot::make_mtp_potential(m, "default");
  mlpot::Structure s = small_triclinic(2, 6);
  mlpot::GhostedSystem g = mlpot::build_neighbor_list(s, m.max_dist);
  mlpot::AtomsRef atoms{g.n_local, g.n_total(), g.positions.data(), g.species.data(), mlpot::MemorySpace::Host};
  mlpot::NeighborsRef nbr;
  nbr.neighbors = g.neighbors.data();
  nbr.offsets = g.offsets.data();
  std::vector<double> f_all(3 * size_t(g.n_total()), 0.0);
  const mlpot::Totals all = pot->compute(atoms, nbr, {f_all.data(), nullptr, nullptr});
  ASSERT_NE(all.energy, 0.0);
  for (int flags = 0; flags < 3; ++flags) {
    mlpot::OutputsRef out;
    std::vector<double> f(f_all.size(), 0.0);
    out.forces = f.data();
    out.energy = flags == 1;
    out.virial = flags == 2;
    const mlpot::Totals t = pot->compute(atoms, nbr, out);
    for (size_t k = 0; k < f.size(); ++k) EXPECT_NEAR(f[k], f_all[k], 1e-12 * std::max(1.0, std::fabs(f_all[k])));
    if (flags == 0) {
      EXPECT_EQ(t.energy, 0.0);
      for (int q = 0; q < 6; ++q) EXPECT_EQ(t.virial[q], 0.0);
    } else {
      EXPECT_NEAR(t.energy, all.energy, 1e-12 * std::fabs(all.energy)) << flags;
      for (int q = 0; q < 6; ++q) EXPECT_NEAR(t.virial[q], all.virial[q], 1e-12 * std::max(1.0, std::fabs(all.virial[q]))) << flags;
    }
  }
}

TEST(MtpKernel, BadInputIsReportedWithTheAtom) {
  mlpot::MtpModel m = random_model("08", 2, 2);
  auto pot = mlpot::make_mtp_potential(m, "Serial");
  mlpot::Structure s = small_triclinic(2, 4);
  s.species[5] = 2;
  try {
    mlpot::evaluate(*pot, s);
    FAIL() << "no error";
  } catch (const mlpot::Error& e) {
    EXPECT_NE(std::string(e.what()).find("atom 6 has species 2"), std::string::npos) << e.what();
  }
  s = small_triclinic(2, 4);
  s.positions[3 * 2 + 1] = std::nan("");
  try {
    mlpot::evaluate(*pot, s);
    FAIL() << "no error";
  } catch (const mlpot::Error& e) {
    EXPECT_NE(std::string(e.what()).find("atom 3 has a non-finite coordinate"), std::string::npos) << e.what();
  }
  mlpot::Structure empty;
  empty.source = "empty.cfg:1";
  EXPECT_THROW(mlpot::evaluate(*pot, empty), mlpot::Error);
  EXPECT_THROW(mlpot::make_mtp_potential(m, "Hip"), mlpot::Error);
}

// Extrapolation grades: the default backend (Cuda in the CUDA build, OpenMP here) against
// Serial, in both modes, on a state with a dense random inverse (every parameter matters).
// Their agreement with an independent computation (motep gradients, numpy) is in
// tests/python/test_grade.py.
TEST(MtpGrades, DefaultBackendMatchesSerialHost) {
  mlpot::MtpModel m = random_model("16", 6, 12, 2e-3);
  mlpot::Structure s = mlpot::build_li2co3(1, 2, 2);
  std::mt19937 rng(13);
  std::normal_distribution<double> n01(0, 1);
  for (auto& x : s.positions) x += 0.05 * n01(rng);
  for (auto mode : {mlpot::GradeMode::Configuration, mlpot::GradeMode::Neighborhood}) {
    auto st = std::make_shared<mlpot::SelectionState>(mlpot::initial_selection_state(m, mode));
    for (auto& v : st->inv_A) v = n01(rng);
    auto host = mlpot::make_mtp_potential(m, "Serial");
    auto dev = mlpot::make_mtp_potential(m, "default");
    host->set_selection(st);
    dev->set_selection(st);
    mlpot::StructureGrade a = mlpot::grade_structure(*host, s), b = mlpot::grade_structure(*dev, s);
    std::printf("%s mode: grade %.6g (Serial) %.6g (%s)\n",
                mode == mlpot::GradeMode::Configuration ? "configuration" : "neighbourhood", a.grade, b.grade,
                dev->backend().c_str());
    EXPECT_GT(a.grade, 0.0);
    EXPECT_NEAR(a.grade, b.grade, 1e-11 * a.grade);
    ASSERT_EQ(a.atom_grades.size(), b.atom_grades.size());
    for (size_t i = 0; i < a.atom_grades.size(); ++i) EXPECT_NEAR(a.atom_grades[i], b.atom_grades[i], 1e-11 * a.atom_grades[i]);
    if (mode == mlpot::GradeMode::Configuration) {
      // The backend's matrix-vector product against the host reference on the same row.
      std::vector<double> row = host->energy_gradient(), row_dev = dev->energy_gradient();
      for (size_t k = 0; k < row.size(); ++k) EXPECT_NEAR(row[k], row_dev[k], 1e-11 * std::max(1.0, std::fabs(row[k])));
      EXPECT_NEAR(dev->row_grade(row), mlpot::grade_of_row(*st, row), 1e-11 * mlpot::grade_of_row(*st, row));
      // The product reads only the nonzero stretches of the row: zeros at both ends and
      // scattered through it.
      std::vector<double> patchy(row.size());
      for (size_t k = 0; k < patchy.size(); ++k) patchy[k] = (k * 7 % 13) < 6 || k < 3 || k + 2 >= patchy.size() ? 0.0 : n01(rng);
      for (auto* pot : {host.get(), dev.get()})
        EXPECT_NEAR(pot->row_grade(patchy), mlpot::grade_of_row(*st, patchy), 1e-11 * mlpot::grade_of_row(*st, patchy));
      // Species part of the row: the atom counts per species.
      std::vector<int> counts(6, 0);
      for (int sp : s.species) ++counts[sp];
      const long species0 = long(m.species_count) * m.species_count * m.radial_funcs_count * m.radial_basis_size;
      for (int sp = 0; sp < 6; ++sp) EXPECT_EQ(row[species0 + sp], double(counts[sp]));
    } else {
      EXPECT_EQ(a.grade, *std::max_element(a.atom_grades.begin(), a.atom_grades.end()));
    }
    // Forces are unchanged by grading (to round-off: on a GPU the neighbours' forces are added
    // with atomics, in no fixed order, so two runs differ in the last bits).
    auto plain = mlpot::make_mtp_potential(m, "default");
    mlpot::Evaluation e = mlpot::evaluate(*plain, s);
    for (size_t i = 0; i < e.forces.size(); ++i)
      EXPECT_NEAR(e.forces[i], b.evaluation.forces[i], 1e-12 * std::max(1.0, std::fabs(e.forces[i])));
  }
}

// The GPU's grade kernels (the transposed inverse, a team per tile of atoms of one species in
// neighbourhood mode) run here on the host, against MLIP's definition on each atom's full row
// (grade_of_row) and against the host kernels.
TEST(MtpGrades, GpuKernelsRunOnTheHostMatchTheDefinition) {
  using Host = Kokkos::DefaultHostExecutionSpace;
  mlpot::MtpModel m = random_model("10", 3, 5);
  const int C = m.species_count, blk = C * m.radial_funcs_count * m.radial_basis_size, ns = m.alpha_scalar_moments();
  const int L = blk + ns;
  mlpot::SelectionState st = mlpot::initial_selection_state(m, mlpot::GradeMode::Neighborhood);
  const long n = st.n;
  ASSERT_EQ(n, long(C) * blk + C + ns);
  std::mt19937 rng(21);
  std::normal_distribution<double> n01(0, 1);
  for (auto& v : st.inv_A) v = n01(rng);
  // 29 atoms: species 1 more often than a tile holds (two tiles of it), one atom of species 2.
  const int n_local = 29;
  std::vector<int> species(n_local);
  for (int i = 0; i < n_local; ++i) species[i] = i == 17 ? 2 : (i % 3 == 0 ? 0 : 1);
  std::vector<std::vector<double>> full(n_local, std::vector<double>(n, 0.0));
  const long moment0 = long(C) * blk + C;
  auto check = [&](auto grades_kind) {
    using G = decltype(grades_kind);
    G g;
    g.n = n;
    g.block = blk;
    g.n_species = C;
    g.n_scalar = ns;
    g.upload(st.inv_A);
    typename G::Rows rows("rows", n_local, L);
    for (int i = 0; i < n_local; ++i) {
      std::fill(full[i].begin(), full[i].end(), 0.0);
      full[i][long(C) * blk + species[i]] = 1.0;
      for (int k = 0; k < L; ++k) {
        rows(i, k) = n01(rng);
        full[i][k < blk ? long(species[i]) * blk + k : moment0 + (k - blk)] = rows(i, k);
      }
    }
    typename G::Vector grades("grades", n_local);
    g.neighborhood_grades(rows, species.data(), n_local, grades);
    for (int i = 0; i < n_local; ++i) {
      const double want = mlpot::grade_of_row(st, full[i]);
      EXPECT_NEAR(grades(i), want, 1e-12 * want) << "atom " << i << (G::kTransposed ? " (GPU kernel)" : " (host)");
    }
    // The configuration's energy-gradient row: the sum of the full rows.
    typename G::Vector b("b", n);
    g.energy_gradient(rows, species.data(), n_local, b);
    for (long c = 0; c < n; ++c) {
      double want = 0.0;
      for (int i = 0; i < n_local; ++i) want += full[i][c];
      EXPECT_NEAR(b(c), want, 1e-12 * std::max(1.0, std::fabs(want))) << "column " << c;
    }
  };
  check(mlpot::kokkos::MtpGrades<Host, false>{});
  check(mlpot::kokkos::MtpGrades<Host, true>{});
}

TEST(MtpGrades, ModeAndStateMismatchAreErrors) {
  mlpot::MtpModel m = random_model("08", 2, 3);
  auto pot = mlpot::make_mtp_potential(m, "Serial");
  EXPECT_THROW(pot->energy_gradient(), mlpot::Error);
  auto st = std::make_shared<mlpot::SelectionState>(mlpot::initial_selection_state(m, mlpot::GradeMode::Neighborhood));
  pot->set_selection(st);
  EXPECT_THROW(pot->neighborhood_grades(nullptr), mlpot::Error);  // no compute() yet
  mlpot::Structure s = small_triclinic(2, 1);
  mlpot::grade_structure(*pot, s);
  EXPECT_THROW(pot->energy_gradient(), mlpot::Error);  // configuration-mode call on an nbh state
  mlpot::MtpModel other = random_model("08", 3, 3);
  auto wrong = std::make_shared<mlpot::SelectionState>(mlpot::initial_selection_state(other, mlpot::GradeMode::Neighborhood));
  EXPECT_THROW(pot->set_selection(wrong), mlpot::Error);
}

// evaluate_many lays a batch of structures out as one system; each structure's results must be
// those of evaluate() on it alone (which the finite-difference and motep tests hold), whatever
// the batch boundaries: every structure alone, a few per batch, all in one.
TEST(MtpKernel, BatchesOfStructuresMatchOneAtATime) {
  mlpot::MtpModel m = random_model("16", 6, 31);
  std::vector<mlpot::Structure> structures;
  for (unsigned seed = 1; seed <= 3; ++seed) structures.push_back(small_triclinic(6, seed));
  structures.push_back(small_triclinic(6, 4, 0.55));  // far smaller than the cutoff: many images
  mlpot::Structure cluster = small_triclinic(6, 5);
  cluster.pbc = {false, false, false};
  structures.push_back(cluster);
  mlpot::Structure slab = small_triclinic(6, 6);
  slab.pbc = {true, true, false};
  structures.push_back(slab);
  mlpot::Structure li = mlpot::build_li2co3(1, 1, 1);
  for (int& t : li.species) t = (t + 2) % 6;
  structures.push_back(li);
  for (const char* backend : {"Serial", "default"}) {
    auto pot = mlpot::make_mtp_potential(m, backend);
    std::vector<mlpot::Evaluation> one;
    for (const auto& s : structures) one.push_back(mlpot::evaluate(*pot, s));
    for (long batch : {1L, 20L, 100000L}) {
      std::vector<mlpot::Evaluation> many = mlpot::evaluate_many(*pot, structures, batch);
      ASSERT_EQ(many.size(), structures.size());
      for (size_t k = 0; k < structures.size(); ++k) {
        const auto &a = one[k], &b = many[k];
        SCOPED_TRACE(std::string(backend) + ", batches of " + std::to_string(batch) + " atoms, structure " +
                     std::to_string(k));
        double f_max = 0;
        for (double f : a.forces) f_max = std::max(f_max, std::fabs(f));
        EXPECT_NEAR(b.energy, a.energy, 1e-12 * std::max(1.0, std::fabs(a.energy)));
        ASSERT_EQ(b.forces.size(), a.forces.size());
        ASSERT_EQ(b.atom_energy.size(), a.atom_energy.size());
        for (size_t i = 0; i < a.forces.size(); ++i) EXPECT_NEAR(b.forces[i], a.forces[i], 1e-12 * std::max(1.0, f_max));
        for (size_t i = 0; i < a.atom_energy.size(); ++i) EXPECT_NEAR(b.atom_energy[i], a.atom_energy[i], 1e-12);
        for (int q = 0; q < 6; ++q) EXPECT_NEAR(b.virial[q], a.virial[q], 1e-12 * std::max(1.0, std::fabs(a.virial[q])));
      }
    }
    // A bad structure fails the call as evaluate() would, naming the first bad one in order.
    std::vector<mlpot::Structure> bad = structures;
    bad[2].positions[4] = std::nan("");
    bad[2].source = "in.cfg:40";
    bad[5].species[0] = 9;
    try {
      mlpot::evaluate_many(*pot, bad);
      ADD_FAILURE() << "no error for a NaN coordinate";
    } catch (const mlpot::Error& e) {
      EXPECT_NE(std::string(e.what()).find("in.cfg:40: atom 2 has a non-finite coordinate"), std::string::npos)
          << e.what();
    }
  }
}
