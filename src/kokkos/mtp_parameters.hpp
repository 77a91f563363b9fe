#pragma once
// MTP model data laid out for the kernels, in the memory space of one execution space.
// Built once per model from mlpot::MtpModel; the kernels never see the file structure.
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlpot/mtp_model.hpp"

namespace mlpot::kokkos {

// The round of a product pass: the moments of a level are taken kProductRound at a time (a GPU
// warp: a team's threads take the moments of a level in turn, TeamThreadRange), and the terms
// of a round are stored row by row: row q holds term q of each moment of the round that has more
// than q, lane after lane. The threads of a warp then read one contiguous stretch per term
// instead of a scattered entry each. Moments come most terms first within a level, so the
// moments with more than q terms are the round's first lanes.
constexpr int kProductRound = 32;

// A term's two moment indices in one word (ProductPass::pair).
KOKKOS_INLINE_FUNCTION constexpr std::uint32_t product_pair(int x, int y) { return std::uint32_t(x) | std::uint32_t(y) << 16; }
KOKKOS_INLINE_FUNCTION constexpr int pair_first(std::uint32_t pair) { return int(pair & 0xffffu); }
KOKKOS_INLINE_FUNCTION constexpr int pair_second(std::uint32_t pair) { return int(pair >> 16); }

// One direction of the products, level by level (MtpTables::fwd, ::bwd). The moment of slot o
// (level l at [level_start[l], level_start[l + 1])) is node[o]; it has count[o] terms, term q
// at row_at[rows[o] + q] + (o - level_start[l]) % kProductRound of pair and mult.
struct ProductPass {
  std::vector<int> node;
  std::vector<int> level_start;
  std::vector<int> count;
  std::vector<int> rows;
  std::vector<int> row_at;
  std::vector<std::uint32_t> pair;  // product_pair(x, y) (require_evaluable keeps x, y < 2^16)
  std::vector<std::int16_t> mult;   // the entry's multiplicity (require_evaluable keeps it within 16 bits)
};

// Host-side tables derived from the model: the moment basis reorganised around the
// distinct Cartesian monomials x^a y^b z^c of the unit bond vector, so each neighbour
// evaluates every monomial once instead of once per basic moment.
struct MtpTables {
  int max_rank = 0;
  int n_mono = 0;                  // all (a,b,c) with a+b+c <= max_rank, ordered by degree
  std::vector<int> mono_parent;    // u[m] = u[parent] * rhat[axis]  (m >= 1)
  std::vector<int> mono_axis;
  std::vector<double> mono_degree;
  std::vector<int> mono_lower;     // [m][3]: monomial with the exponent along axis lowered by 1 (0 if none)
  std::vector<double> mono_exp;    // [m][3]: exponent along each axis (the derivative's factor)
  std::vector<int> basic_mu;       // radial function of each basic moment
  std::vector<int> basic_mono;     // monomial of each basic moment
  std::vector<int> basic_by_mu;    // basic moments ordered by radial function ...
  std::vector<int> mu_start;       // ... those of mu at [mu_start[mu], mu_start[mu+1])
  std::vector<int> basic_by_mono;  // basic moments ordered by monomial ...
  std::vector<int> mono_start;     // ... those of monomial m at [mono_start[m], mono_start[m+1])
  std::vector<int> mu_by_mono;     // radial function of basic_by_mono[t]
  std::vector<double> linear;      // [alpha_moments_count]: moment_coeffs scattered by the mapping
  // The products alpha_index_times scheduled for a team of threads (a team of one runs MLIP's
  // own loops over the entries). A moment's level is 0 for the basic ones (and moments no
  // product writes) and one above its inputs' highest for a product, so the moments of one
  // level depend only on lower ones: level by level, one thread sums each moment's terms
  // (forward) or each moment's adjoint over the products that read it (backward): no two
  // threads write one value, so no atomics. These are the sums of MLIP's loops in another order
  // (equal to round-off).
  int n_levels = 0;   // the highest level (3 for MLIP's templates 08..28, 2 for 06)
  ProductPass fwd;    // M_k = sum mult * M_a * M_b; pair a | b << 16; level 1 first
  ProductPass bwd;    // adj_n = linear_n + sum (adj_k * mult) * M_other, once for each side of
                      // k = mult M_a M_b that n is on; pair k | other << 16; every moment, highest
                      // level first; terms in reverse file order (MLIP's backward loop)
};

MtpTables build_tables(const MtpModel& model);
// The product schedule of `tables` (n_levels, fwd, bwd); part of build_tables.
void schedule_products(const MtpModel& model, MtpTables& tables);

// ProductPass in the memory space of a backend.
template <class MemorySpace>
struct ProductPassView {
  Kokkos::View<const int*, MemorySpace> node, level_start, count, rows, row_at;
  Kokkos::View<const std::uint32_t*, MemorySpace> pair;
  Kokkos::View<const std::int16_t*, MemorySpace> mult;
  // The index of term q of slot o, which lies in the level starting at slot `begin`.
  KOKKOS_INLINE_FUNCTION int term(int o, int begin, int q) const {
    return row_at(rows(o) + q) + (o - begin) % kProductRound;
  }
};

// Real: the type of the values the kernel's inner loops read (double; float for the
// mixed-precision kernel, rounded once here). The site energy's coefficients stay double: the
// site energy is summed in double in both.
template <class MemorySpace, class Real = double>
struct MtpParameters {
  using real_type = Real;
  int n_species = 0, n_radial = 0, basis_size = 0;
  int n_basic = 0, n_moments = 0, n_times = 0, n_mono = 0, n_scalar = 0;
  double min_dist = 0, max_dist = 0, scaling = 1;
  Kokkos::View<const Real*, MemorySpace> radial;            // [C][C][K][R]
  Kokkos::View<const double*, MemorySpace> species_coeffs;  // [C]
  Kokkos::View<const Real*, MemorySpace> linear;            // [n_moments]
  Kokkos::View<const double*, MemorySpace> moment_coeffs;   // [n_scalar], of the moments `mapping` names
  Kokkos::View<const int*, MemorySpace> basic_mu, basic_mono, basic_by_mu, mu_start;
  Kokkos::View<const int*, MemorySpace> basic_by_mono, mono_start, mu_by_mono;
  Kokkos::View<const int*, MemorySpace> times;              // [n_times][4]: i, j, mult, k
  int n_levels = 0;                                         // the products by level (MtpTables)
  ProductPassView<MemorySpace> fwd, bwd;
  Kokkos::View<const int*, MemorySpace> mapping;            // [n_scalar]: alpha_moment_mapping
  Kokkos::View<const int*, MemorySpace> mono_parent, mono_axis, mono_lower;
  Kokkos::View<const Real*, MemorySpace> mono_degree, mono_exp;
};

namespace detail {
// v's values as T (rounded where T is narrower).
template <class MemorySpace, class T, class From>
Kokkos::View<const T*, MemorySpace> to_device_as(const std::vector<From>& v, const char* label) {
  Kokkos::View<T*, MemorySpace> d(std::string(label), v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = T(v[i]);
  Kokkos::deep_copy(d, h);
  return d;
}
template <class MemorySpace, class T>
Kokkos::View<const T*, MemorySpace> to_device(const std::vector<T>& v, const char* label) {
  Kokkos::View<T*, MemorySpace> d(std::string(label), v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(d, h);
  return d;
}
template <class MemorySpace>
ProductPassView<MemorySpace> to_device(const ProductPass& h, const std::string& label) {
  ProductPassView<MemorySpace> d;
  d.node = to_device<MemorySpace>(h.node, (label + "_node").c_str());
  d.level_start = to_device<MemorySpace>(h.level_start, (label + "_level_start").c_str());
  d.count = to_device<MemorySpace>(h.count, (label + "_count").c_str());
  d.rows = to_device<MemorySpace>(h.rows, (label + "_rows").c_str());
  d.row_at = to_device<MemorySpace>(h.row_at, (label + "_row_at").c_str());
  d.pair = to_device<MemorySpace>(h.pair, (label + "_pair").c_str());
  d.mult = to_device<MemorySpace>(h.mult, (label + "_mult").c_str());
  return d;
}
}  // namespace detail

template <class MemorySpace, class Real = double>
MtpParameters<MemorySpace, Real> make_parameters(const MtpModel& m) {
  require_evaluable(m);
  MtpTables t = build_tables(m);
  MtpParameters<MemorySpace, Real> p;
  p.n_species = m.species_count;
  p.n_radial = m.radial_funcs_count;
  p.basis_size = m.radial_basis_size;
  p.n_basic = static_cast<int>(m.alpha_index_basic.size());
  p.n_moments = m.alpha_moments_count;
  p.n_times = static_cast<int>(m.alpha_index_times.size());
  p.n_mono = t.n_mono;
  p.n_scalar = m.alpha_scalar_moments();
  p.min_dist = m.min_dist;
  p.max_dist = m.max_dist;
  p.scaling = m.scaling;
  std::vector<int> times;
  for (const auto& e : m.alpha_index_times) times.insert(times.end(), e.begin(), e.end());
  using detail::to_device;
  using detail::to_device_as;
  p.radial = to_device_as<MemorySpace, Real>(m.radial_coeffs, "mtp::radial");
  p.species_coeffs = to_device<MemorySpace>(m.species_coeffs, "mtp::species_coeffs");
  p.linear = to_device_as<MemorySpace, Real>(t.linear, "mtp::linear");
  p.moment_coeffs = to_device<MemorySpace>(m.moment_coeffs, "mtp::moment_coeffs");
  p.basic_mu = to_device<MemorySpace>(t.basic_mu, "mtp::basic_mu");
  p.basic_mono = to_device<MemorySpace>(t.basic_mono, "mtp::basic_mono");
  p.basic_by_mu = to_device<MemorySpace>(t.basic_by_mu, "mtp::basic_by_mu");
  p.mu_start = to_device<MemorySpace>(t.mu_start, "mtp::mu_start");
  p.basic_by_mono = to_device<MemorySpace>(t.basic_by_mono, "mtp::basic_by_mono");
  p.mono_start = to_device<MemorySpace>(t.mono_start, "mtp::mono_start");
  p.mu_by_mono = to_device<MemorySpace>(t.mu_by_mono, "mtp::mu_by_mono");
  p.n_levels = t.n_levels;
  p.times = to_device<MemorySpace>(times, "mtp::times");
  p.fwd = to_device<MemorySpace>(t.fwd, "mtp::fwd");
  p.bwd = to_device<MemorySpace>(t.bwd, "mtp::bwd");
  p.mapping = to_device<MemorySpace>(m.alpha_moment_mapping, "mtp::mapping");
  p.mono_parent = to_device<MemorySpace>(t.mono_parent, "mtp::mono_parent");
  p.mono_axis = to_device<MemorySpace>(t.mono_axis, "mtp::mono_axis");
  p.mono_lower = to_device<MemorySpace>(t.mono_lower, "mtp::mono_lower");
  p.mono_degree = to_device_as<MemorySpace, Real>(t.mono_degree, "mtp::mono_degree");
  p.mono_exp = to_device_as<MemorySpace, Real>(t.mono_exp, "mtp::mono_exp");
  return p;
}

}  // namespace mlpot::kokkos
