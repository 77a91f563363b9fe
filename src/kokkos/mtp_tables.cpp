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
  return t;
}

}  // namespace mlpot::kokkos
