#pragma once
// MTP model data laid out for the kernels, in the memory space of one execution space.
// Built once per model from mlpot::MtpModel; the kernels never see the file structure.
#include <Kokkos_Core.hpp>

#include "mlpot/mtp_model.hpp"

namespace mlpot::kokkos {

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
  // (equal to round-off). Within a level, moments with the most terms come first (threads take
  // them in turn).
  int n_levels = 0;                  // the highest level (3 for MLIP's templates 08..28, 2 for 06)
  std::vector<int> fwd_out;          // the product moments, level 1 first
  std::vector<int> fwd_level_start;  // [n_levels + 1]: level l + 1 at [fwd_level_start[l], fwd_level_start[l + 1])
  std::vector<int> fwd_start;        // terms of fwd_out[o] at [fwd_start[o], fwd_start[o + 1])
  std::vector<int> fwd_terms;        // [term][3]: inputs a, b and multiplicity, in file order
  // adj[n] = linear[n] + sum over the products k = mult * M_a * M_b that read n:
  // (adj[k] * mult) * M_other, once for each side of the product n is on.
  std::vector<int> bwd_node;         // every moment, highest level first
  std::vector<int> bwd_level_start;  // [n_levels + 2]: level n_levels - g at [bwd_level_start[g], bwd_level_start[g + 1])
  std::vector<int> bwd_start;        // terms of bwd_node[o] at [bwd_start[o], bwd_start[o + 1])
  std::vector<int> bwd_terms;        // [term][3]: product k, multiplicity, other input, in reverse file order
};

MtpTables build_tables(const MtpModel& model);
// The product schedule of `tables` (n_levels, fwd_*, bwd_*); part of build_tables.
void schedule_products(const MtpModel& model, MtpTables& tables);

template <class MemorySpace>
struct MtpParameters {
  int n_species = 0, n_radial = 0, basis_size = 0;
  int n_basic = 0, n_moments = 0, n_times = 0, n_mono = 0, n_scalar = 0;
  double min_dist = 0, max_dist = 0, scaling = 1;
  Kokkos::View<const double*, MemorySpace> radial;          // [C][C][K][R]
  Kokkos::View<const double*, MemorySpace> species_coeffs;  // [C]
  Kokkos::View<const double*, MemorySpace> linear;          // [n_moments]
  Kokkos::View<const double*, MemorySpace> moment_coeffs;   // [n_scalar], of the moments `mapping` names
  Kokkos::View<const int*, MemorySpace> basic_mu, basic_mono, basic_by_mu, mu_start;
  Kokkos::View<const int*, MemorySpace> basic_by_mono, mono_start, mu_by_mono;
  Kokkos::View<const int*, MemorySpace> times;              // [n_times][4]: i, j, mult, k
  int n_levels = 0;                                         // the products by level (MtpTables)
  Kokkos::View<const int*, MemorySpace> fwd_out, fwd_level_start, fwd_start, fwd_terms;
  Kokkos::View<const int*, MemorySpace> bwd_node, bwd_level_start, bwd_start, bwd_terms;
  Kokkos::View<const int*, MemorySpace> mapping;            // [n_scalar]: alpha_moment_mapping
  Kokkos::View<const int*, MemorySpace> mono_parent, mono_axis, mono_lower;
  Kokkos::View<const double*, MemorySpace> mono_degree, mono_exp;
};

namespace detail {
template <class MemorySpace, class T>
Kokkos::View<const T*, MemorySpace> to_device(const std::vector<T>& v, const char* label) {
  Kokkos::View<T*, MemorySpace> d(std::string(label), v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(d, h);
  return d;
}
}  // namespace detail

template <class MemorySpace>
MtpParameters<MemorySpace> make_parameters(const MtpModel& m) {
  require_evaluable(m);
  MtpTables t = build_tables(m);
  MtpParameters<MemorySpace> p;
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
  p.radial = to_device<MemorySpace>(m.radial_coeffs, "mtp::radial");
  p.species_coeffs = to_device<MemorySpace>(m.species_coeffs, "mtp::species_coeffs");
  p.linear = to_device<MemorySpace>(t.linear, "mtp::linear");
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
  p.fwd_out = to_device<MemorySpace>(t.fwd_out, "mtp::fwd_out");
  p.fwd_level_start = to_device<MemorySpace>(t.fwd_level_start, "mtp::fwd_level_start");
  p.fwd_start = to_device<MemorySpace>(t.fwd_start, "mtp::fwd_start");
  p.fwd_terms = to_device<MemorySpace>(t.fwd_terms, "mtp::fwd_terms");
  p.bwd_node = to_device<MemorySpace>(t.bwd_node, "mtp::bwd_node");
  p.bwd_level_start = to_device<MemorySpace>(t.bwd_level_start, "mtp::bwd_level_start");
  p.bwd_start = to_device<MemorySpace>(t.bwd_start, "mtp::bwd_start");
  p.bwd_terms = to_device<MemorySpace>(t.bwd_terms, "mtp::bwd_terms");
  p.mapping = to_device<MemorySpace>(m.alpha_moment_mapping, "mtp::mapping");
  p.mono_parent = to_device<MemorySpace>(t.mono_parent, "mtp::mono_parent");
  p.mono_axis = to_device<MemorySpace>(t.mono_axis, "mtp::mono_axis");
  p.mono_lower = to_device<MemorySpace>(t.mono_lower, "mtp::mono_lower");
  p.mono_degree = to_device<MemorySpace>(t.mono_degree, "mtp::mono_degree");
  p.mono_exp = to_device<MemorySpace>(t.mono_exp, "mtp::mono_exp");
  return p;
}

}  // namespace mlpot::kokkos
