// The mixed-precision MTP kernel (MtpPrecision::Mixed: float arithmetic, double sums) against
// the double kernel, which test_mtp_kernel and test_motep_parity hold to finite differences and
// to motep. The bounds below are the ones docs/mtp.md ("Mixed precision") states; the measured deviations are
// printed so the test output carries them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "mlpot/builders.hpp"
#include "mlpot/error.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mlpot/mtp_selection.hpp"
#include "mtp_potential_impl.hpp"

namespace {

// Stated in docs/mtp.md ("Mixed precision"): the forces' relative RMS deviation, the energy's
// deviation per atom in units of the RMS force component times 1 A (float round-off scales with
// the model's energy and force scales, which the random test models make large: a bound in eV
// would say nothing across them), and the virial's largest deviation relative to its largest
// component.
constexpr double kForceRelRms = 1e-5;
constexpr double kEnergyPerAtomPerForce = 1e-6;  // A
constexpr double kVirialRel = 1e-5;

mlpot::MtpModel template_model(const std::string& level) {
  return mlpot::read_mtp(std::string(MLPOT_TEMPLATES) + "/" + level + ".almtp");
}

// The benchmark model (mlpot make-model's defaults): a pair term carried by M_{0,0} plus small
// random many-body terms.
mlpot::MtpModel bench_model() { return mlpot::make_synthetic_mtp(template_model("16"), 6, 0.92, 5.0, 2025); }

// The same basis with the many-body part made large (as test_mtp_kernel's random models): the
// products of moments then carry a good share of the energy and forces, the harder case for
// float moments.
mlpot::MtpModel many_body_model(const std::string& level, unsigned seed) {
  mlpot::MtpModel m = mlpot::make_synthetic_mtp(template_model(level), 6, 0.8, 5.0, seed);
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 1);
  for (auto& c : m.radial_coeffs) c += 0.05 * n(rng);
  for (auto& c : m.moment_coeffs) c = 2e-3 * n(rng);
  return m;
}

mlpot::Structure li2co3_thermal(unsigned seed) {
  mlpot::Structure s = mlpot::build_li2co3(2, 2, 2);
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 0.05);
  for (auto& x : s.positions) x += n(rng);
  s.species[5] = 0;  // H, F and P too: every species pair of the model is used
  s.species[50] = 4;
  s.species[100] = 5;
  return s;
}

struct Deviation {
  double force_rel_rms = 0, force_max = 0, energy_per_atom = 0, virial_rel = 0, atom_energy_max = 0;
  double f_rms = 0;  // the reference's RMS force component
};

Deviation deviation(const mlpot::Evaluation& ref, const mlpot::Evaluation& got) {
  Deviation d;
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.forces.size(); ++i) {
    const double e = got.forces[i] - ref.forces[i];
    num += e * e;
    den += ref.forces[i] * ref.forces[i];
    d.force_max = std::max(d.force_max, std::fabs(e));
  }
  d.force_rel_rms = std::sqrt(num / den);
  d.f_rms = std::sqrt(den / double(ref.forces.size()));
  const double n = double(ref.atom_energy.size());
  d.energy_per_atom = std::fabs(got.energy - ref.energy) / n;
  double wmax = 0, dw = 0;
  for (int q = 0; q < 6; ++q) {
    wmax = std::max(wmax, std::fabs(ref.virial[q]));
    dw = std::max(dw, std::fabs(got.virial[q] - ref.virial[q]));
  }
  d.virial_rel = dw / wmax;
  for (size_t i = 0; i < ref.atom_energy.size(); ++i)
    d.atom_energy_max = std::max(d.atom_energy_max, std::fabs(got.atom_energy[i] - ref.atom_energy[i]));
  return d;
}

void expect_within_bounds(const mlpot::Evaluation& ref, const mlpot::Evaluation& got, const std::string& what) {
  const Deviation d = deviation(ref, got);
  std::printf("mixed vs double, %s: forces %.2e relative RMS (max %.2e eV/A, RMS component %.3g eV/A), "
              "energy %.2e eV/atom = %.2e A x RMS force (site energies max %.2e eV), virial %.2e relative\n",
              what.c_str(), d.force_rel_rms, d.force_max, d.f_rms, d.energy_per_atom, d.energy_per_atom / d.f_rms,
              d.atom_energy_max, d.virial_rel);
  EXPECT_LT(d.force_rel_rms, kForceRelRms) << what;
  EXPECT_LT(d.energy_per_atom, kEnergyPerAtomPerForce * d.f_rms) << what;
  EXPECT_LT(d.virial_rel, kVirialRel) << what;
  // Not bit-equal: the mixed kernel does run in float.
  EXPECT_GT(d.force_rel_rms, 1e-12) << what;
}

}  // namespace

TEST(MtpMixedPrecision, ParsesItsNames) {
  EXPECT_EQ(mlpot::parse_mtp_precision("double"), mlpot::MtpPrecision::Double);
  EXPECT_EQ(mlpot::parse_mtp_precision("Mixed"), mlpot::MtpPrecision::Mixed);
  try {
    mlpot::parse_mtp_precision("single");
    FAIL() << "no error";
  } catch (const mlpot::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'single'"), std::string::npos) << e.what();
  }
  auto pot = mlpot::make_mtp_potential(bench_model(), "Serial", mlpot::MtpPrecision::Mixed);
  EXPECT_EQ(pot->precision(), mlpot::MtpPrecision::Mixed);
  EXPECT_EQ(mlpot::make_mtp_potential(bench_model(), "Serial")->precision(), mlpot::MtpPrecision::Double);
}

// The stated bounds on Li2CO3 (192 atoms, thermal displacements) and amorphous Li2EDC (320
// atoms), the benchmark model and a strongly many-body one, on every backend of the build (Cuda
// in a CUDA build: perf/device/ runs this test on the GPU) and in the GPU's kernel layout run on
// the host.
TEST(MtpMixedPrecision, WithinStatedBoundsOfDouble) {
  const mlpot::Structure li2co3 = li2co3_thermal(3);
  const mlpot::Structure li2edc = mlpot::build_amorphous_li2edc(20, 1.7, 1.4, 7);
  for (const auto& [label, model] : {std::pair<std::string, mlpot::MtpModel>{"benchmark model", bench_model()},
                                     {"many-body model", many_body_model("16", 31)}}) {
    auto ref = mlpot::make_mtp_potential(model, "Serial");
    std::vector<std::pair<std::string, std::unique_ptr<mlpot::Potential>>> mixed;
    for (const auto& b : mlpot::available_backends()) {
      mixed.emplace_back(b, mlpot::make_mtp_potential(model, b, mlpot::MtpPrecision::Mixed));
    }
    // The GPU's kernel layout on the host, as test_mtp_kernel runs it: one lane per thread, and
    // teams of two OpenMP threads (the team-parallel paths concurrently).
#ifdef KOKKOS_ENABLE_SERIAL
    mixed.emplace_back("one lane (the GPU's layout)",
                       std::make_unique<mlpot::kokkos::MtpKokkosPotential<Kokkos::Serial, 1, 1,
                                                                          mlpot::kokkos::BasisRBChebyshev, float>>(model));
#endif
#ifdef KOKKOS_ENABLE_OPENMP
    if (Kokkos::OpenMP().concurrency() >= 2) {
      mixed.emplace_back("one lane, teams of 2 OpenMP threads",
                         std::make_unique<mlpot::kokkos::MtpKokkosPotential<Kokkos::OpenMP, 1, 2,
                                                                            mlpot::kokkos::BasisRBChebyshev, float>>(model));
      mixed.emplace_back("the split step, one lane, teams of 2 OpenMP threads",
                         std::make_unique<mlpot::kokkos::MtpKokkosPotential<
                             Kokkos::OpenMP, 1, 2, mlpot::kokkos::BasisRBChebyshev, float, true>>(model));
    }
#endif
    for (const auto& [sname, s] : {std::pair<std::string, const mlpot::Structure*>{"Li2CO3 192 atoms", &li2co3},
                                   {"Li2EDC 320 atoms", &li2edc}}) {
      const mlpot::Evaluation e_ref = mlpot::evaluate(*ref, *s);
      for (auto& [bname, pot] : mixed) {
        expect_within_bounds(e_ref, mlpot::evaluate(*pot, *s), label + ", " + sname + ", " + bname);
      }
    }
  }
}

// Every radial basis and every MLIP template's product schedule in mixed precision: within the
// same bounds of the double kernel on the Li2CO3 cell.
template <class... Bases>
void check_every_basis(mlpot::kokkos::BasisList<Bases...>) {
  const mlpot::Structure s = li2co3_thermal(4);
  (
      [&] {
        mlpot::MtpModel m = many_body_model("16", 41);
        m.radial_basis_type = Bases::name;
        if (m.radial_basis_type != "RBChebyshev") m.min_dist = 1.5;  // C-O pairs inside the clamp
        if (m.radial_basis_type == "RBTaylor") m.scaling = 1e-3;     // its terms grow as r^n
        auto ref = mlpot::make_mtp_potential(m, "Serial");
        auto mixed = mlpot::make_mtp_potential(m, "Serial", mlpot::MtpPrecision::Mixed);
        expect_within_bounds(mlpot::evaluate(*ref, s), mlpot::evaluate(*mixed, s), Bases::name);
      }(),
      ...);
}
TEST(MtpMixedPrecision, EveryRadialBasis) { check_every_basis(mlpot::kokkos::RadialBases{}); }

TEST(MtpMixedPrecision, EveryTemplate) {
  const mlpot::Structure s = li2co3_thermal(5);
  for (const char* level : {"06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28"}) {
    mlpot::MtpModel m = many_body_model(level, 51);
    auto ref = mlpot::make_mtp_potential(m, "Serial");
    auto mixed = mlpot::make_mtp_potential(m, "Serial", mlpot::MtpPrecision::Mixed);
    expect_within_bounds(mlpot::evaluate(*ref, s), mlpot::evaluate(*mixed, s), std::string("level ") + level);
  }
}

// The mixed kernel's forces are minus the gradient of its own energy to within float round-off:
// central differences of the (double-summed) energy with h = 1e-3 A on the benchmark model. The
// energy carries float noise (~1e-6 eV for these 192 atoms, from sites whose rounding changes
// with the displacement), so the differences hold to ~6e-4 of the largest force (the double
// kernel's error with the same h, truncation alone, is printed beside it: ~2e-6); the bound is
// 2e-3 (docs/mtp.md, "Mixed precision").
TEST(MtpMixedPrecision, ForcesAreMinusEnergyDerivatives) {
  const mlpot::MtpModel m = bench_model();
  auto mixed = mlpot::make_mtp_potential(m, "Serial", mlpot::MtpPrecision::Mixed);
  auto dbl = mlpot::make_mtp_potential(m, "Serial");
  const mlpot::Structure s = li2co3_thermal(6);
  const double h = 1e-3;
  auto max_error = [&](mlpot::Potential& pot, double& max_f) {
    const mlpot::Evaluation ev = mlpot::evaluate(pot, s);
    double max_err = 0;
    max_f = 0;
    for (int i = 0; i < s.size(); i += 7) {
      for (int d = 0; d < 3; ++d) {
        mlpot::Structure sp = s, sm = s;
        sp.positions[3 * i + d] += h;
        sm.positions[3 * i + d] -= h;
        const double fd = -(mlpot::evaluate(pot, sp).energy - mlpot::evaluate(pot, sm).energy) / (2 * h);
        max_err = std::max(max_err, std::fabs(fd - ev.forces[3 * i + d]));
        max_f = std::max(max_f, std::fabs(fd));
      }
    }
    return max_err;
  };
  double max_f = 0, max_f_double = 0;
  const double err = max_error(*mixed, max_f), err_double = max_error(*dbl, max_f_double);
  std::printf("mixed: max |F + dE/dx| %.2e eV/A (double kernel: %.2e; central differences, h = %g A), "
              "max |F| %.3g eV/A\n", err, err_double, h, max_f);
  EXPECT_GT(max_f, 0.5);
  EXPECT_LT(err, 2e-3 * std::max(1.0, max_f));
}

// Grades are not offered in mixed precision: setting a selection state is an error that says so.
TEST(MtpMixedPrecision, RefusesGrades) {
  mlpot::MtpModel t = template_model("08");
  mlpot::MtpModel m = mlpot::make_synthetic_mtp(t, 2, 0.92, 5.0, 3);
  auto state = std::make_shared<mlpot::SelectionState>();
  state->n = m.parameter_count();
  auto pot = mlpot::make_mtp_potential(m, "Serial", mlpot::MtpPrecision::Mixed);
  try {
    pot->set_selection(state);
    FAIL() << "no error";
  } catch (const mlpot::Error& e) {
    EXPECT_NE(std::string(e.what()).find("precision mixed does not compute extrapolation grades"), std::string::npos)
        << e.what();
  }
}

#ifdef KOKKOS_ENABLE_SERIAL
// On a GPU a team's scratch (shared memory) bounds how many teams an SM holds: in float it is
// about half the double kernel's.
template <class Real>
size_t gpu_team_scratch_bytes(const mlpot::MtpModel& m, int neighbours) {
  using B = mlpot::kokkos::BasisRBChebyshev;
  mlpot::kokkos::MtpKernel<Kokkos::Serial, 1, 32, B, Real> k;
  k.p = mlpot::kokkos::make_parameters<Kokkos::HostSpace, Real>(m);
  k.max_neighbors = neighbours;
  return mlpot::kokkos::MtpKokkosPotential<Kokkos::Serial, 1, 32, B, Real>::ScratchBytes(k.team_reals(), k.team_ints());
}
TEST(MtpMixedPrecision, GpuTeamScratchIsAboutHalf) {
  const mlpot::MtpModel m = bench_model();
  const size_t d = gpu_team_scratch_bytes<double>(m, 60), f = gpu_team_scratch_bytes<float>(m, 60);
  std::printf("GPU team scratch at 60 neighbours within the cutoff: double %zu bytes, mixed %zu bytes\n", d, f);
  EXPECT_LT(f, 0.56 * d);
}
#endif
