// The native MACE engine's radial MLP, the part with its own numerics (mace_radial_table.hpp):
// the network's first and second derivatives against central differences of its values, the
// quintic Hermite table against the network off its knots, and the kernels' per-edge weights
// (edge_weights: the table and the network path) on Kokkos Serial and OpenMP against the host
// network. The rest of the engine is held to mace-torch by test_mace_parity_native and
// test_mace_compat_native.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "mace_kernel.hpp"

using namespace mlpot;
using namespace mlpot::kokkos::mace;

namespace {

constexpr int kWeights = 24;

// A radial MLP shaped like MACE's (8 Bessel functions, two SiLU layers), random weights.
mace_native::Model synthetic_model(bool cutoff_on_basis) {
  mace_native::Model m;
  m.r_max = 5.0;
  m.cutoff_p = 5;
  m.cutoff_on_basis = cutoff_on_basis;
  const int nb = 8;
  for (int n = 1; n <= nb; ++n) m.bessel_w.push_back(n * M_PI / m.r_max);
  m.bessel_prefactor = std::sqrt(2.0 / m.r_max);
  std::mt19937 rng(5);
  std::normal_distribution<double> g(0, 1);
  mace_native::Layer L;
  const int sizes[] = {nb, 16, 16, kWeights};
  for (int k = 0; k < 3; ++k) {
    mace_native::MlpLayer ml;
    ml.n_in = sizes[k];
    ml.n_out = sizes[k + 1];
    for (int i = 0; i < ml.n_in * ml.n_out; ++i) ml.w.push_back(g(rng) / std::sqrt(double(ml.n_in)));
    ml.act = k < 2;
    ml.act_scale = 1.679;
    L.radial_mlp.push_back(ml);
  }
  L.n_weights = kWeights;
  m.layers.push_back(L);
  return m;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

}  // namespace

TEST(MaceRadial, NetworkDerivativesMatchCentralDifferences) {
  for (bool on_basis : {true, false}) {
    const auto m = synthetic_model(on_basis);
    HostRadialNetwork net(m, m.layers[0]);
    std::vector<double> w(kWeights), dw(kWeights), ddw(kWeights), wp(kWeights), dwp(kWeights), ddwp(kWeights),
        wm(kWeights), dwm(kWeights), ddwm(kWeights);
    const double h = 1e-5;
    for (double r : {0.7, 1.3, 2.9, 4.2, 4.9}) {
      net.eval(r, w.data(), dw.data(), ddw.data());
      net.eval(r + h, wp.data(), dwp.data(), ddwp.data());
      net.eval(r - h, wm.data(), dwm.data(), ddwm.data());
      const double s1 = max_abs(dw), s2 = max_abs(ddw);
      for (int j = 0; j < kWeights; ++j) {
        EXPECT_NEAR(dw[j], (wp[j] - wm[j]) / (2 * h), 1e-8 * s1) << "r " << r << " weight " << j;
        EXPECT_NEAR(ddw[j], (dwp[j] - dwm[j]) / (2 * h), 1e-8 * s2) << "r " << r << " weight " << j;
      }
    }
  }
}

TEST(MaceRadial, TableWithinItsToleranceOfTheNetwork) {
  const auto m = synthetic_model(true);
  const double tolerance = 1e-10;
  const HostRadialTable tab = build_radial_table(m, m.layers[0], tolerance);
  ASSERT_TRUE(tab.ok) << "error " << tab.error << " at " << tab.n_knots << " knots";
  EXPECT_LE(tab.error, tolerance);
  HostRadialNetwork net(m, m.layers[0]);
  std::vector<double> w(kWeights), dw(kWeights), ddw(kWeights), wi(kWeights), dwi(kWeights);
  // The scales the tolerance is relative to.
  double wmax = 0, dwmax = 0;
  for (int k = 0; k < tab.n_knots; ++k) {
    net.eval(tab.r_lo + k * tab.h, w.data(), dw.data(), ddw.data());
    wmax = std::max(wmax, max_abs(w));
    dwmax = std::max(dwmax, max_abs(dw));
  }
  // At the knots the interpolant is the network; between them, at points the builder did not
  // check, within twice its tolerance.
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(tab.r_lo, m.r_max);
  double worst = 0;
  for (int q = 0; q < 2000; ++q) {
    const double r = q < 5 ? tab.r_lo + q * 7 * tab.h : u(rng);
    net.eval(r, w.data(), dw.data(), ddw.data());
    tab.interpolate(r, wi.data(), dwi.data());
    for (int j = 0; j < kWeights; ++j) {
      if (q < 5) {
        EXPECT_NEAR(wi[j], w[j], 1e-15 * wmax);
        EXPECT_NEAR(dwi[j], dw[j], 1e-13 * dwmax);
      }
      worst = std::max({worst, std::abs(wi[j] - w[j]) / wmax, std::abs(dwi[j] - dw[j]) / dwmax});
    }
  }
  EXPECT_LT(worst, 2 * tolerance);
}

template <class ExecSpace>
void kernel_edge_weights_match_host(bool table) {
  const auto m = synthetic_model(false);  // envelope on the MLP outputs: both paths apply it
  MaceEngine<ExecSpace, double> engine(m, table, 1e-11);
  ASSERT_EQ(engine.radial_tables().at(0).first > 0, table);
  const auto L = engine.layer(0);
  const auto R = engine.radial();
  std::vector<double> radii;
  for (int q = 0; q < 64; ++q) radii.push_back(0.3 + 4.69 * q / 63.0);  // below the table's start too
  const int n = int(radii.size());
  Kokkos::View<double*, typename ExecSpace::memory_space> r_d("r", n);
  Kokkos::View<double**, Kokkos::LayoutRight, typename ExecSpace::memory_space> w_d("w", n, kWeights),
      dw_d("dw", n, kWeights), w_only_d("w_only", n, kWeights);
  auto r_h = Kokkos::create_mirror_view(r_d);
  for (int q = 0; q < n; ++q) r_h(q) = radii[q];
  Kokkos::deep_copy(r_d, r_h);
  using policy = Kokkos::TeamPolicy<ExecSpace>;
  using scratch = Kokkos::View<double*, typename ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  const int buf = 2 * R.n_bessel + 4 * L.mlp_width;
  Kokkos::parallel_for(
      policy(n, 1).set_scratch_size(0, Kokkos::PerTeam(scratch::shmem_size(buf))),
      KOKKOS_LAMBDA(const typename policy::member_type& team) {
        const int q = team.league_rank();
        scratch s(team.team_scratch(0), buf);
        double d, dd;  // no Density block, no Agnesi transform: d = dd = 0, r0 unused
        edge_weights(team, L, R, r_d(q), 0.0, &w_d(q, 0), &dw_d(q, 0), s.data(), d, dd);
        // the forward pass's call: weights without derivatives
        edge_weights(team, L, R, r_d(q), 0.0, &w_only_d(q, 0), static_cast<double*>(nullptr), s.data(), d, dd);
      });
  auto w_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), w_d);
  auto dw_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), dw_d);
  auto w_only_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), w_only_d);
  for (int q = 0; q < n; ++q)
    for (int j = 0; j < kWeights; ++j) EXPECT_EQ(w_only_h(q, j), w_h(q, j)) << "without derivatives, r " << radii[q];
  HostRadialNetwork net(m, m.layers[0]);
  std::vector<double> w(kWeights), dw(kWeights), ddw(kWeights);
  double sw = 0, sd = 0;  // the scales of the table's tolerance: the largest |w| and |dw/dr|
  for (int q = 0; q < n; ++q) {
    net.eval(radii[q], w.data(), dw.data(), ddw.data());
    sw = std::max(sw, max_abs(w));
    sd = std::max(sd, max_abs(dw));
  }
  for (int q = 0; q < n; ++q) {
    net.eval(radii[q], w.data(), dw.data(), ddw.data());
    const double tol = table && radii[q] >= radial_table_r_lo(m.r_max) ? 2e-11 : 1e-14;
    for (int j = 0; j < kWeights; ++j) {
      EXPECT_NEAR(w_h(q, j), w[j], tol * sw) << ExecSpace::name() << " r " << radii[q] << " weight " << j;
      EXPECT_NEAR(dw_h(q, j), dw[j], tol * sd) << ExecSpace::name() << " r " << radii[q] << " weight " << j;
    }
  }
}

TEST(MaceRadial, KernelEdgeWeightsMatchTheHostNetwork) {
  for (bool table : {false, true}) {
#if defined(KOKKOS_ENABLE_SERIAL)
    kernel_edge_weights_match_host<Kokkos::Serial>(table);
#endif
#if defined(KOKKOS_ENABLE_OPENMP)
    kernel_edge_weights_match_host<Kokkos::OpenMP>(table);
#endif
  }
}
