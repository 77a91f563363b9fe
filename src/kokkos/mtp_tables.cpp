#include <algorithm>
#include <cstdint>
#include <utility>
#include <map>

#include "mlpot/error.hpp"
#include "mtp_parameters.hpp"

namespace mlpot::kokkos {

MtpTables build_tables(const MtpModel& m) {
  MtpTables t;
  t.max_rank = m.max_tensor_rank();
  std::map<std::array<int, 3>, int> index;
  // Degree-ordered enumeration; the parent of a monomial is the one with the first nonzero
  // exponent lowered, which has a smaller degree and so comes earlier.
  for (int k = 0; k <= t.max_rank; ++k) {
    for (int a = k; a >= 0; --a) {
      for (int b = k - a; b >= 0; --b) {
        int c = k - a - b;
        int m_idx = t.n_mono++;
        index[{a, b, c}] = m_idx;
        t.mono_degree.push_back(k);
        t.mono_exp.insert(t.mono_exp.end(), {double(a), double(b), double(c)});
        int axis = a > 0 ? 0 : (b > 0 ? 1 : 2);
        std::array<int, 3> parent{a, b, c};
        if (k > 0) parent[axis] -= 1;
        t.mono_parent.push_back(k > 0 ? index.at(parent) : 0);
        t.mono_axis.push_back(axis);
        for (int ax = 0; ax < 3; ++ax) {
          std::array<int, 3> lower{a, b, c};
          if (lower[ax] > 0) {
            lower[ax] -= 1;
            t.mono_lower.push_back(index.at(lower));
          } else {
            t.mono_lower.push_back(0);  // multiplied by exponent 0
          }
        }
      }
    }
  }
  for (const auto& q : m.alpha_index_basic) {
    t.basic_mu.push_back(q[0]);
    t.basic_mono.push_back(index.at({q[1], q[2], q[3]}));
  }
  t.mu_start.assign(m.radial_funcs_count + 1, 0);
  for (int mu = 0; mu < m.radial_funcs_count; ++mu) {
    t.mu_start[mu] = int(t.basic_by_mu.size());
    for (size_t b = 0; b < t.basic_mu.size(); ++b)
      if (t.basic_mu[b] == mu) t.basic_by_mu.push_back(int(b));
  }
  t.mu_start[m.radial_funcs_count] = int(t.basic_by_mu.size());
  t.mono_start.assign(t.n_mono + 1, 0);
  for (int mono = 0; mono < t.n_mono; ++mono) {
    t.mono_start[mono] = int(t.basic_by_mono.size());
    for (size_t b = 0; b < t.basic_mono.size(); ++b) {
      if (t.basic_mono[b] != mono) continue;
      t.basic_by_mono.push_back(int(b));
      t.mu_by_mono.push_back(t.basic_mu[b]);
    }
  }
  t.mono_start[t.n_mono] = int(t.basic_by_mono.size());
  t.linear.assign(m.alpha_moments_count, 0.0);
  for (size_t q = 0; q < m.alpha_moment_mapping.size(); ++q) {
    t.linear[m.alpha_moment_mapping[q]] += m.moment_coeffs[q];
  }
  schedule_products(m, t);
  return t;
}

void schedule_products(const MtpModel& m, MtpTables& t) {
  const int n = m.alpha_moments_count;
  const auto& times = m.alpha_index_times;
  // Levels. The parser guarantees that every entry's inputs are complete before it (file order),
  // so one pass in file order sees final input levels.
  std::vector<int> level(n, 0);
  for (const auto& e : times) level[e[3]] = std::max(level[e[3]], 1 + std::max(level[e[0]], level[e[1]]));
  t.n_levels = n > 0 ? *std::max_element(level.begin(), level.end()) : 0;
  std::vector<std::vector<int>> writers(n), readers(n);  // entry indices, file order
  for (size_t q = 0; q < times.size(); ++q) {
    writers[times[q][3]].push_back(int(q));
    readers[times[q][0]].push_back(int(q));
    readers[times[q][1]].push_back(int(q));  // twice when a == b: both sides add
  }
  // Moments of one level, most terms first (ties by index, so the tables are deterministic).
  auto by_level = [&](int l, const std::vector<std::vector<int>>& terms) {
    std::vector<int> v;
    for (int k = 0; k < n; ++k)
      if (level[k] == l) v.push_back(k);
    std::stable_sort(v.begin(), v.end(), [&](int a, int b) { return terms[a].size() > terms[b].size(); });
    return v;
  };
  // One pass: the levels in the given order; term(k, x) is the x-th term of moment k as
  // (pair, multiplicity).
  auto schedule = [&](ProductPass& s, const std::vector<int>& levels, const std::vector<std::vector<int>>& terms,
                      auto term) {
    s = ProductPass{};
    s.level_start.push_back(0);
    for (int l : levels) {
      const std::vector<int> moments = by_level(l, terms);
      for (size_t r0 = 0; r0 < moments.size(); r0 += kProductRound) {
        const size_t r1 = std::min(moments.size(), r0 + kProductRound);
        const int rows = int(s.row_at.size());
        for (size_t o = r0; o < r1; ++o) {
          s.node.push_back(moments[o]);
          s.count.push_back(int(terms[moments[o]].size()));
          s.rows.push_back(rows);
        }
        // Row x: term x of the round's moments with more than x terms (its first lanes).
        for (size_t x = 0; x < terms[moments[r0]].size(); ++x) {
          s.row_at.push_back(int(s.pair.size()));
          for (size_t o = r0; o < r1 && x < terms[moments[o]].size(); ++o) {
            const auto [pair, mult] = term(moments[o], x);
            s.pair.push_back(pair);
            s.mult.push_back(mult);
          }
        }
      }
      s.level_start.push_back(int(s.node.size()));
    }
  };
  std::vector<int> fwd_levels, bwd_levels;
  for (int l = 1; l <= t.n_levels; ++l) fwd_levels.push_back(l);
  for (int l = t.n_levels; l >= 0; --l) bwd_levels.push_back(l);
  schedule(t.fwd, fwd_levels, writers, [&](int k, size_t x) {
    const auto& e = times[writers[k][x]];
    return std::pair{product_pair(e[0], e[1]), std::int16_t(e[2])};
  });
  // MLIP's backward loop runs over the entries in reverse (an entry with a == b adds twice).
  schedule(t.bwd, bwd_levels, readers, [&](int a, size_t x) {
    const auto& e = times[readers[a][readers[a].size() - 1 - x]];
    return std::pair{product_pair(e[3], e[0] == a ? e[1] : e[0]), std::int16_t(e[2])};
  });
}

}  // namespace mlpot::kokkos
