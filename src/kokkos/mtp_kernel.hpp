#pragma once
// The MTP per-atom math, written once for every Kokkos execution space.
//
// One team evaluates one atom i:
//   pass 1  for each neighbour j within the cutoff: the radial functions f_mu(r), f'_mu(r)
//           (each computed once per neighbour and species pair), cached in team scratch,
//           and the basic moments M_b += f_mu_b(r) * u_b(rhat), with u the monomials of rhat;
//   middle  the products alpha_index_times (forward), the site energy, and the adjoints
//           dE_i/dM (backward), by one thread;
//   pass 2  for each cached neighbour: g_j = dE_i/dr_ij from the adjoints, scattered as
//           F_i += g_j, F_j -= g_j, virial -= g_j (x) r_ij;
//           when grading, also the site energy's gradient with respect to the parameters:
//           dE_i/dc[s_i,s_j,mu,xi] = sum_j scaling Q_xi(r_ij) sum_{b: mu_b = mu} dE_i/dM_b u_b(rhat),
//           dE_i/d(moment_coeffs[q]) = M[mapping[q]] (and dE_i/d(species_coeffs[s]) = [s == s_i]).
// No per-neighbour Jacobian of the moments is stored for the whole system; per atom only the
// neighbour cache (r, rhat, f, f') lives in scratch.
#include <Kokkos_Core.hpp>
#include <Kokkos_ScatterView.hpp>

#include "mtp_parameters.hpp"

namespace mlpot::kokkos {

// Per-backend launch shape. Host backends run one atom per thread (team of one), so the
// scratch accumulations need no atomics; a GPU runs a team per atom with threads over the
// neighbours.
template <class ExecSpace>
struct MtpTuning {
  static constexpr int team_size = 1;
  // Grades: per-atom gradient rows contiguous per atom (one thread walks an atom's row), and
  // the inverse selection matrix with rows l contiguous (one thread forms one coefficient).
  using grade_rows_layout = Kokkos::LayoutRight;
  static constexpr bool grade_matrix_transposed = false;
};
#ifdef KOKKOS_ENABLE_CUDA
template <>
struct MtpTuning<Kokkos::Cuda> {
  static constexpr int team_size = 32;
  // Threads over atoms / over coefficients l read consecutive addresses.
  using grade_rows_layout = Kokkos::LayoutLeft;
  static constexpr bool grade_matrix_transposed = true;
};
#endif

template <class ExecSpace>
struct MtpKernel {
  using exec_space = ExecSpace;
  using memory_space = typename ExecSpace::memory_space;
  using team_member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;
  using scratch_space = typename ExecSpace::scratch_memory_space;
  using ScratchDoubles = Kokkos::View<double*, scratch_space, Kokkos::MemoryUnmanaged>;
  using ScratchInts = Kokkos::View<int*, scratch_space, Kokkos::MemoryUnmanaged>;
  using ForceScatter = Kokkos::Experimental::ScatterView<double* [3], Kokkos::LayoutRight, ExecSpace>;
  using VirialScatter = Kokkos::Experimental::ScatterView<double* [6], Kokkos::LayoutRight, ExecSpace>;
  static constexpr bool kAtomicScratch = MtpTuning<ExecSpace>::team_size > 1;

  MtpParameters<memory_space> p;
  // Inputs (raw device-accessible pointers, so any caller layout works without copies).
  const double* x = nullptr;
  const int* species = nullptr;
  const int* neighbors = nullptr;
  const int* const* rows = nullptr;
  const std::int64_t* offsets = nullptr;
  const int* counts = nullptr;
  std::int64_t row_stride = 0, slot_stride = 1;
  int index_mask = ~0;
  int max_neighbors = 0;
  // Outputs.
  Kokkos::View<double*, memory_space> atom_energy;      // [n_local]
  Kokkos::View<double* [6], memory_space> atom_w;       // [n_local] per-centre virial
  ForceScatter forces;
  VirialScatter atom_virial;
  bool want_atom_virial = false;
  // Parameter gradients of the site energies (extrapolation grades), one compact row per local
  // atom: the radial block of its own species [C(neighbour)][K][R], then the moment part
  // [n_scalar]; the species part is implicit (1 at s_i). Full-row column of compact index k < C*K*R
  // is s_i*C*K*R + k. Accumulated (+=); the caller zeroes them.
  Kokkos::View<double**, typename MtpTuning<ExecSpace>::grade_rows_layout, memory_space> param_rows;
  bool want_param_rows = false;

  // Scratch layout (doubles): team part and per-thread part.
  KOKKOS_INLINE_FUNCTION int cache_stride() const { return 4 + 2 * p.n_radial; }
  KOKKOS_INLINE_FUNCTION size_t team_doubles() const { return 2 * size_t(p.n_moments) + size_t(max_neighbors) * cache_stride(); }
  KOKKOS_INLINE_FUNCTION size_t thread_doubles() const { return 3 * size_t(p.n_mono) + p.n_radial; }
  KOKKOS_INLINE_FUNCTION size_t team_ints() const { return size_t(max_neighbors) + 1; }

  template <class T>
  KOKKOS_INLINE_FUNCTION static void add(T& dst, T v) {
    if constexpr (kAtomicScratch) {
      Kokkos::atomic_add(&dst, v);
    } else {
      dst += v;
    }
  }

  KOKKOS_INLINE_FUNCTION int neighbor_count(int i) const {
    return offsets ? int(offsets[i + 1] - offsets[i]) : counts[i];
  }
  KOKKOS_INLINE_FUNCTION int neighbor(int i, int jj) const {
    if (rows) return rows[i][jj] & index_mask;
    std::int64_t base = offsets ? offsets[i] : std::int64_t(i) * row_stride;
    return neighbors[base + std::int64_t(jj) * slot_stride] & index_mask;
  }

  // Monomials u[m] of the unit vector, by the degree-ordered recursion.
  KOKKOS_INLINE_FUNCTION void monomials(const double rhat[3], double* u) const {
    u[0] = 1.0;
    for (int m = 1; m < p.n_mono; ++m) u[m] = u[p.mono_parent(m)] * rhat[p.mono_axis(m)];
  }

  // f_mu(r) and f'_mu(r) for the species pair (si, sj): Chebyshev polynomials in
  // xi = (2r - (Rmin+Rcut)) / (Rcut - Rmin) times (r - Rcut)^2, times `scaling`.
  KOKKOS_INLINE_FUNCTION void radial(int si, int sj, double r, double* f, double* df) const {
    const int K = p.n_radial, R = p.basis_size;
    const double inv_width = 1.0 / (p.max_dist - p.min_dist);
    const double xi = (2.0 * r - (p.min_dist + p.max_dist)) * inv_width;
    const double dxi = 2.0 * inv_width;
    const double w = (r - p.max_dist);
    const double w2 = w * w * p.scaling, dw2 = 2.0 * w * p.scaling;
    for (int mu = 0; mu < K; ++mu) f[mu] = df[mu] = 0.0;
    const double* c = &p.radial(((size_t(si) * p.n_species + sj) * K) * R);
    // T_n(xi), T'_n(xi) recursion; Q_n = w2 T_n, Q'_n = dw2 T_n + w2 T'_n dxi.
    double t_prev = 1.0, t_cur = xi, dt_prev = 0.0, dt_cur = 1.0;
    for (int n = 0; n < R; ++n) {
      double tn, dtn;
      if (n == 0) {
        tn = 1.0; dtn = 0.0;
      } else if (n == 1) {
        tn = xi; dtn = 1.0;
      } else {
        tn = 2.0 * xi * t_cur - t_prev;
        dtn = 2.0 * t_cur + 2.0 * xi * dt_cur - dt_prev;
        t_prev = t_cur; t_cur = tn; dt_prev = dt_cur; dt_cur = dtn;
      }
      const double q = w2 * tn, dq = dw2 * tn + w2 * dtn * dxi;
      for (int mu = 0; mu < K; ++mu) {
        f[mu] += c[mu * R + n] * q;
        df[mu] += c[mu * R + n] * dq;
      }
    }
  }

  KOKKOS_INLINE_FUNCTION void operator()(const team_member& team) const {
    const int i = team.league_rank();
    const int K = p.n_radial;
    const int stride = cache_stride();
    const int level = team_level_;
    ScratchDoubles team_buf(team.team_scratch(level), team_doubles());
    ScratchInts team_int(team.team_scratch(level), team_ints());
    ScratchDoubles thread_buf(team.thread_scratch(level), thread_doubles());
    double* mom = team_buf.data();
    double* adj = mom + p.n_moments;
    double* cache = adj + p.n_moments;  // [n_valid][4 + 2K]: r, rhat(3), f(K), f'(K)
    int* cache_j = team_int.data();     // [n_valid], and the count at [max_neighbors]
    double* u = thread_buf.data();
    double* A = u + p.n_mono;
    double* B = A + p.n_mono;

    const double xi0 = x[3 * i], xi1 = x[3 * i + 1], xi2 = x[3 * i + 2];
    const int si = species[i];
    const int nn = neighbor_count(i);
    const double rc2 = p.max_dist * p.max_dist;

    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_moments), [&](int m) { mom[m] = 0.0; });
    Kokkos::single(Kokkos::PerTeam(team), [&]() { cache_j[max_neighbors] = 0; });
    team.team_barrier();

    // Pass 1: radial functions once per neighbour, basic moments.
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nn), [&](int jj) {
      const int j = neighbor(i, jj);
      const double d0 = x[3 * j] - xi0, d1 = x[3 * j + 1] - xi1, d2 = x[3 * j + 2] - xi2;
      const double r2 = d0 * d0 + d1 * d1 + d2 * d2;
      if (r2 >= rc2 || j == i) return;
      int slot;
      if constexpr (kAtomicScratch) {
        slot = Kokkos::atomic_fetch_add(&cache_j[max_neighbors], 1);
      } else {
        slot = cache_j[max_neighbors]++;
      }
      const double r = Kokkos::sqrt(r2), inv_r = 1.0 / r;
      double* c = cache + size_t(slot) * stride;
      cache_j[slot] = j;
      c[0] = r;
      c[1] = d0 * inv_r;
      c[2] = d1 * inv_r;
      c[3] = d2 * inv_r;
      double* f = c + 4;
      double* df = f + K;
      radial(si, species[j], r, f, df);
      monomials(c + 1, u);
      for (int b = 0; b < p.n_basic; ++b) add(mom[b], f[p.basic_mu(b)] * u[p.basic_mono(b)]);
    });
    team.team_barrier();

    // Products, site energy and adjoints (one thread: the products form a dependency chain).
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      for (int t = 0; t < p.n_times; ++t) {
        const int a = p.times(4 * t), b = p.times(4 * t + 1), k = p.times(4 * t + 3);
        mom[k] += double(p.times(4 * t + 2)) * mom[a] * mom[b];
      }
      double e = p.species_coeffs(si);
      for (int m = 0; m < p.n_moments; ++m) {
        e += p.linear(m) * mom[m];
        adj[m] = p.linear(m);
      }
      for (int t = p.n_times - 1; t >= 0; --t) {
        const int a = p.times(4 * t), b = p.times(4 * t + 1), k = p.times(4 * t + 3);
        const double dk = adj[k] * double(p.times(4 * t + 2));
        adj[a] += dk * mom[b];
        adj[b] += dk * mom[a];
      }
      atom_energy(i) = e;
      for (int c = 0; c < 6; ++c) atom_w(i, c) = 0.0;
      if (want_param_rows) {
        const int radial_block = p.n_species * K * p.basis_size;
        for (int q = 0; q < p.n_scalar; ++q) param_rows(i, radial_block + q) = mom[p.mapping(q)];
      }
    });
    team.team_barrier();

    // Pass 2: g_j = sum_b adj_b d/dr_ij [f_mu_b(r) u_b(rhat)]
    //             = sum_b adj_b [(f' - k f / r) u rhat + (f / r) grad u].
    const int n_valid = cache_j[max_neighbors];
    auto f_access = forces.access();
    auto v_access = atom_virial.access();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n_valid), [&](int slot) {
      const double* c = cache + size_t(slot) * stride;
      const int j = cache_j[slot];
      const double r = c[0], inv_r = 1.0 / r;
      const double* rhat = c + 1;
      const double* f = c + 4;
      const double* df = f + K;
      monomials(rhat, u);
      for (int m = 0; m < p.n_mono; ++m) A[m] = B[m] = 0.0;
      for (int b = 0; b < p.n_basic; ++b) {
        const int m = p.basic_mono(b), mu = p.basic_mu(b);
        A[m] += adj[b] * f[mu];
        B[m] += adj[b] * df[mu];
      }
      double s = 0.0, g0 = 0.0, g1 = 0.0, g2 = 0.0;
      for (int m = 0; m < p.n_mono; ++m) {
        const double am = A[m];
        s += (B[m] - p.mono_degree(m) * am * inv_r) * u[m];
        g0 += am * p.mono_exp(3 * m) * u[p.mono_lower(3 * m)];
        g1 += am * p.mono_exp(3 * m + 1) * u[p.mono_lower(3 * m + 1)];
        g2 += am * p.mono_exp(3 * m + 2) * u[p.mono_lower(3 * m + 2)];
      }
      const double gx = s * rhat[0] + g0 * inv_r;
      const double gy = s * rhat[1] + g1 * inv_r;
      const double gz = s * rhat[2] + g2 * inv_r;
      f_access(i, 0) += gx;
      f_access(i, 1) += gy;
      f_access(i, 2) += gz;
      f_access(j, 0) -= gx;
      f_access(j, 1) -= gy;
      f_access(j, 2) -= gz;
      const double dx = r * rhat[0], dy = r * rhat[1], dz = r * rhat[2];
      const double w[6] = {-gx * dx, -gy * dy, -gz * dz, -0.5 * (gx * dy + gy * dx),
                           -0.5 * (gx * dz + gz * dx), -0.5 * (gy * dz + gz * dy)};
      for (int q = 0; q < 6; ++q) add(atom_w(i, q), w[q]);
      if (want_atom_virial) {
        for (int q = 0; q < 6; ++q) {
          v_access(i, q) += 0.5 * w[q];
          v_access(j, q) += 0.5 * w[q];
        }
      }
      if (want_param_rows) add_parameter_gradient(i, species[j], r, u, adj, B + p.n_mono);
    });
  }

  // dE_i/dc[s_i, sj, mu, xi] += scaling Q_xi(r) sum_{b: mu_b = mu} adj_b u_b for one neighbour.
  KOKKOS_INLINE_FUNCTION void add_parameter_gradient(int i, int sj, double r, const double* u, const double* adj,
                                                     double* w_mu) const {
    const int K = p.n_radial, R = p.basis_size;
    // Grouped by mu so each sum stays in a register (a scatter into w_mu[basic_mu(b)] would
    // chain every iteration through memory).
    for (int mu = 0; mu < K; ++mu) {
      double acc = 0.0;
      for (int t = p.mu_start(mu); t < p.mu_start(mu + 1); ++t) {
        const int b = p.basic_by_mu(t);
        acc += adj[b] * u[p.basic_mono(b)];
      }
      w_mu[mu] = acc;
    }
    const double xi = (2.0 * r - (p.min_dist + p.max_dist)) / (p.max_dist - p.min_dist);
    const double w = r - p.max_dist, w2 = w * w * p.scaling;
    const int base = sj * K * R;
    double t_prev = 1.0, t_cur = xi;
    for (int n = 0; n < R; ++n) {
      double tn;
      if (n == 0) {
        tn = 1.0;
      } else if (n == 1) {
        tn = xi;
      } else {
        tn = 2.0 * xi * t_cur - t_prev;
        t_prev = t_cur;
        t_cur = tn;
      }
      const double q = w2 * tn;
      for (int mu = 0; mu < K; ++mu) add(param_rows(i, base + mu * R + n), q * w_mu[mu]);
    }
  }

  int team_level_ = 0;
};

}  // namespace mlpot::kokkos
