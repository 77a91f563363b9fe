// The kernel's product schedule (MtpTables, schedule_products) against MLIP's definition: the
// entries of alpha_index_times evaluated one after another in file order (forward) and in
// reverse (adjoints), for every MLIP template.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "mlpot/mtp_model.hpp"
#include "mtp_parameters.hpp"

namespace {

const char* kLevels[] = {"06", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28"};

mlpot::MtpModel templ(const char* level) {
  return mlpot::read_mtp(std::string(MLPOT_TEMPLATES) + "/" + level + ".almtp");
}

struct Moments {
  std::vector<double> mom, adj;
};

// MLIP's loops over alpha_index_times.
Moments serial(const mlpot::MtpModel& m, const std::vector<double>& basic, const std::vector<double>& linear) {
  Moments r{std::vector<double>(m.alpha_moments_count, 0.0), linear};
  for (size_t b = 0; b < basic.size(); ++b) r.mom[b] = basic[b];
  for (const auto& t : m.alpha_index_times) r.mom[t[3]] += double(t[2]) * r.mom[t[0]] * r.mom[t[1]];
  for (size_t q = m.alpha_index_times.size(); q-- > 0;) {
    const auto& t = m.alpha_index_times[q];
    const double dk = r.adj[t[3]] * double(t[2]);
    r.adj[t[0]] += dk * r.mom[t[1]];
    r.adj[t[1]] += dk * r.mom[t[0]];
  }
  return r;
}

// The kernel's loops over the schedule, one level after another. Every value the schedule
// writes starts as NaN, so a moment or adjoint read before its level has written it, or never
// written, poisons the result.
Moments scheduled(const mlpot::MtpModel& m, const mlpot::kokkos::MtpTables& t, const std::vector<double>& basic,
                  const std::vector<double>& linear) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Moments r{std::vector<double>(m.alpha_moments_count, 0.0), std::vector<double>(m.alpha_moments_count, nan)};
  for (int o : t.fwd_out) r.mom[o] = nan;
  for (size_t b = 0; b < basic.size(); ++b) r.mom[b] = basic[b];
  for (int l = 0; l < t.n_levels; ++l) {
    for (int o = t.fwd_level_start[l]; o < t.fwd_level_start[l + 1]; ++o) {
      double acc = 0.0;
      for (int q = t.fwd_start[o]; q < t.fwd_start[o + 1]; ++q) {
        acc += double(t.fwd_terms[3 * q + 2]) * r.mom[t.fwd_terms[3 * q]] * r.mom[t.fwd_terms[3 * q + 1]];
      }
      r.mom[t.fwd_out[o]] = acc;
    }
  }
  for (int g = 0; g <= t.n_levels; ++g) {
    for (int o = t.bwd_level_start[g]; o < t.bwd_level_start[g + 1]; ++o) {
      double acc = linear[t.bwd_node[o]];
      for (int q = t.bwd_start[o]; q < t.bwd_start[o + 1]; ++q) {
        acc += r.adj[t.bwd_terms[3 * q]] * double(t.bwd_terms[3 * q + 1]) * r.mom[t.bwd_terms[3 * q + 2]];
      }
      r.adj[t.bwd_node[o]] = acc;
    }
  }
  return r;
}

}  // namespace

TEST(MtpTables, ProductScheduleReproducesMlipsLoops) {
  for (const char* level : kLevels) {
    SCOPED_TRACE(level);
    mlpot::MtpModel m = templ(level);
    mlpot::kokkos::MtpTables t;
    mlpot::kokkos::schedule_products(m, t);
    const int n = m.alpha_moments_count;
    // Every moment's adjoint is written once; every entry is a forward term once and a
    // backward term twice (once per side).
    EXPECT_EQ(int(t.bwd_node.size()), n);
    EXPECT_EQ(t.fwd_terms.size(), 3 * m.alpha_index_times.size());
    EXPECT_EQ(t.bwd_terms.size(), 6 * m.alpha_index_times.size());
    EXPECT_EQ(int(t.fwd_level_start.size()), t.n_levels + 1);
    EXPECT_EQ(int(t.bwd_level_start.size()), t.n_levels + 2);
    EXPECT_EQ(t.n_levels, std::string(level) == "06" ? 2 : 3);  // the kernel's barriers per pass
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> basic(m.alpha_index_basic.size()), linear(n);
    for (auto& v : basic) v = u(rng);
    for (auto& v : linear) v = u(rng);
    Moments a = serial(m, basic, linear), b = scheduled(m, t, basic, linear);
    for (int k = 0; k < n; ++k) {
      ASSERT_TRUE(std::isfinite(b.mom[k])) << "moment " << k;
      ASSERT_TRUE(std::isfinite(b.adj[k])) << "adjoint " << k;
      // The same terms, summed in another order.
      EXPECT_NEAR(a.mom[k], b.mom[k], 1e-14 * std::max(1.0, std::fabs(a.mom[k]))) << "moment " << k;
      EXPECT_NEAR(a.adj[k], b.adj[k], 1e-14 * std::max(1.0, std::fabs(a.adj[k]))) << "adjoint " << k;
    }
  }
}

// A file whose entries are in evaluation order but not grouped by level (an entry of a higher
// level between two of a lower one) schedules the same way.
TEST(MtpTables, InterleavedLevelsAreScheduled) {
  mlpot::MtpModel m = templ("06");
  m.alpha_moments_count = 5;
  m.alpha_index_basic.resize(2);
  // M2 = M0 M0 (level 1), M3 = 2 M2 M1 (level 2), M4 = M1 M1 + M0 M1 (level 1), after M3.
  m.alpha_index_times = {{0, 0, 1, 2}, {2, 1, 2, 3}, {1, 1, 1, 4}, {0, 1, 1, 4}};
  mlpot::kokkos::MtpTables t;
  mlpot::kokkos::schedule_products(m, t);
  EXPECT_EQ(t.n_levels, 2);
  EXPECT_EQ(t.fwd_out, (std::vector<int>{4, 2, 3}));  // level 1 (M4 has two terms, first), level 2
  EXPECT_EQ(t.fwd_level_start, (std::vector<int>{0, 2, 3}));
  std::vector<double> basic{0.3, -0.7}, linear{0.1, 0.2, 0.3, 0.4, 0.5};
  Moments a = serial(m, basic, linear), b = scheduled(m, t, basic, linear);
  for (int k = 0; k < 5; ++k) {
    EXPECT_DOUBLE_EQ(a.mom[k], b.mom[k]) << k;
    EXPECT_DOUBLE_EQ(a.adj[k], b.adj[k]) << k;
  }
  // dE/dM0 by hand: E = sum linear M; M2 = M0^2, M3 = 2 M2 M1, M4 = M1^2 + M0 M1.
  const double m0 = 0.3, m1 = -0.7;
  const double d0 = 0.1 + 0.3 * 2 * m0 + 0.4 * 2 * (2 * m0) * m1 + 0.5 * m1;
  EXPECT_NEAR(b.adj[0], d0, 1e-15);
}
