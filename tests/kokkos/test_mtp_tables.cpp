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

// The kernel's loops over the schedule, one level after another, each moment's terms found as
// the kernel finds them (row of its round, lane within the round). Every value the schedule
// writes starts as NaN, so a moment or adjoint read before its level has written it, or never
// written, poisons the result.
template <class Term>
void run_pass(const mlpot::kokkos::ProductPass& s, std::vector<double>& out, const std::vector<double>& init, Term term) {
  for (size_t l = 0; l + 1 < s.level_start.size(); ++l) {
    const int begin = s.level_start[l];
    for (int o = begin; o < s.level_start[l + 1]; ++o) {
      double acc = init[s.node[o]];
      for (int q = 0; q < s.count[o]; ++q) {
        const int t = s.row_at[s.rows[o] + q] + (o - begin) % mlpot::kokkos::kProductRound;
        acc += term(mlpot::kokkos::pair_first(s.pair[t]), mlpot::kokkos::pair_second(s.pair[t]), double(s.mult[t]));
      }
      out[s.node[o]] = acc;
    }
  }
}

Moments scheduled(const mlpot::MtpModel& m, const mlpot::kokkos::MtpTables& t, const std::vector<double>& basic,
                  const std::vector<double>& linear) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Moments r{std::vector<double>(m.alpha_moments_count, 0.0), std::vector<double>(m.alpha_moments_count, nan)};
  for (int o : t.fwd.node) r.mom[o] = nan;
  for (size_t b = 0; b < basic.size(); ++b) r.mom[b] = basic[b];
  run_pass(t.fwd, r.mom, std::vector<double>(r.mom.size(), 0.0),
           [&](int a, int b, double mult) { return mult * r.mom[a] * r.mom[b]; });
  run_pass(t.bwd, r.adj, linear, [&](int k, int other, double mult) { return r.adj[k] * mult * r.mom[other]; });
  return r;
}

// Every term of the pass stored once, and a round's row q holding exactly term q of the
// round's moments with more than q terms, in lane order: what lets a warp read a row as one
// contiguous stretch.
void expect_rows_packed(const mlpot::kokkos::ProductPass& s, size_t n_terms) {
  EXPECT_EQ(s.pair.size(), n_terms);
  EXPECT_EQ(s.mult.size(), n_terms);
  std::vector<int> seen(n_terms, 0);
  for (size_t l = 0; l + 1 < s.level_start.size(); ++l) {
    const int begin = s.level_start[l];
    for (int o = begin; o < s.level_start[l + 1]; ++o) {
      const int lane = (o - begin) % mlpot::kokkos::kProductRound;
      if (lane > 0) {
        EXPECT_LE(s.count[o], s.count[o - 1]);  // most terms first within a round
        EXPECT_EQ(s.rows[o], s.rows[o - 1]);    // one round, one list of rows
      }
      for (int q = 0; q < s.count[o]; ++q) ++seen[s.row_at[s.rows[o] + q] + lane];
    }
  }
  for (size_t t = 0; t < n_terms; ++t) ASSERT_EQ(seen[t], 1) << "term " << t;
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
    EXPECT_EQ(int(t.bwd.node.size()), n);
    expect_rows_packed(t.fwd, m.alpha_index_times.size());
    expect_rows_packed(t.bwd, 2 * m.alpha_index_times.size());
    EXPECT_EQ(int(t.fwd.level_start.size()), t.n_levels + 1);
    EXPECT_EQ(int(t.bwd.level_start.size()), t.n_levels + 2);
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
  EXPECT_EQ(t.fwd.node, (std::vector<int>{4, 2, 3}));  // level 1 (M4 has two terms, first), level 2
  EXPECT_EQ(t.fwd.level_start, (std::vector<int>{0, 2, 3}));
  // Level 1's round: row 0 = first terms of M4 and M2, row 1 = M4's second; then level 2's.
  EXPECT_EQ(t.fwd.row_at, (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(t.fwd.pair[0], 1u | 1u << 16);  // M4's terms in file order: M1 M1 ...
  EXPECT_EQ(t.fwd.pair[2], 0u | 1u << 16);  // ... then M0 M1
  EXPECT_EQ(t.fwd.mult[3], 2);              // M3 = 2 M2 M1
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
