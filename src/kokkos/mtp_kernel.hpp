#pragma once
// The MTP per-atom math, written once for every Kokkos execution space.
//
// One team evaluates one atom i:
//   pass 1  for each neighbour j within the cutoff: the radial functions f_mu(r), f'_mu(r)
//           (each computed once per neighbour and species pair), cached in team scratch,
//           and the basic moments M_b += f_mu_b(r) * u_b(rhat), with u the monomials of rhat;
//   middle  the products alpha_index_times (forward), the site energy, and the adjoints
//           dE_i/dM (backward): in MLIP's order by the one thread of a host team, level by
//           level of the product graph with threads over moments on a GPU;
//   pass 2  for each cached neighbour: g_j = dE_i/dr_ij from the adjoints, scattered as
//           F_i += g_j, F_j -= g_j, virial -= g_j (x) r_ij (per atom: half to i, half to j;
//           the centroid form, 9 components: r_ij (x) (-g_j) all to j, the site's own atom
//           being the reference point of the site term);
//           when grading, also the site energy's gradient with respect to the parameters:
//           dE_i/dc[s_i,s_j,mu,xi] = sum_j scaling Q_xi(r_ij) sum_{b: mu_b = mu} dE_i/dM_b u_b(rhat),
//           dE_i/d(moment_coeffs[q]) = M[mapping[q]] (and dE_i/d(species_coeffs[s]) = [s == s_i]).
// No per-neighbour Jacobian of the moments is stored for the whole system; per atom only the
// neighbour cache (r, rhat, f, f') lives in scratch.
//
// A thread takes `lanes` neighbours at a time (MtpTuning): the neighbour cache is laid out as
// [block][item][lane], so every loop over the moment basis runs over the lanes with contiguous
// data and the same indices, which CPU compilers turn into SIMD instructions. A block's unused
// lanes hold r = cutoff, where every radial function and its derivative vanish, so they add
// nothing and are skipped when forces are scattered. GPUs use one lane (threads over neighbours).
#include <Kokkos_Core.hpp>
#include <Kokkos_ScatterView.hpp>

#include "mtp_parameters.hpp"
#include "mtp_radial_basis.hpp"

namespace mlpot::kokkos {

// Per-backend launch shape, for the kernel's arithmetic Real (double, or float in the mixed
// mode). Host backends run one atom per thread (team of one), so the scratch accumulations need
// no atomics; a GPU runs a team per atom with threads over the neighbours.
template <class ExecSpace, class Real = double>
struct MtpTuning {
  static constexpr int team_size = 1;
  // Neighbours evaluated together by one thread (SIMD lanes): 8 doubles fill an AVX-512 register,
  // two AVX2 or four SSE2 registers. Floats take 8 lanes too: 16 (the same 64 bytes) were 5 %
  // slower on one core of this project's AMD EPYC VM (16.3 against 15.4 us/atom-step, medians of
  // 5 interleaved runs, docs/performance.md).
  static constexpr int lanes = 8;
  // Grades: per-atom gradient rows contiguous per atom (one thread walks an atom's row), and
  // the inverse selection matrix with rows l contiguous (one thread forms one coefficient).
  using grade_rows_layout = Kokkos::LayoutRight;
  static constexpr bool grade_matrix_transposed = false;
  // The step in one kernel, or in three with the products one thread per atom (MtpKernel::Stage):
  // the one kernel until the split has been measured faster somewhere.
  static constexpr bool split_products = false;
};
#ifdef KOKKOS_ENABLE_CUDA
template <class Real>
struct MtpTuning<Kokkos::Cuda, Real> {
  static constexpr int team_size = 32;
  static constexpr int lanes = 1;
  // Threads over atoms / over coefficients l read consecutive addresses.
  using grade_rows_layout = Kokkos::LayoutLeft;
  static constexpr bool grade_matrix_transposed = true;
  // Not yet measured on a GPU (perf/device/: flip it and A/B against the commit before).
  static constexpr bool split_products = false;
};
// The product tables give a warp one contiguous row per term when a team's threads take the
// moments of a level kProductRound at a time (ProductPass).
static_assert(MtpTuning<Kokkos::Cuda>::team_size == kProductRound, "product rounds are laid out for the GPU team");
#endif

// Real: the arithmetic of the radial basis, the moments, the products and their adjoints and of
// each neighbour's gradient (double; float for the mixed-precision mode). Whatever Real is, the
// bond vectors are formed from the positions in double, and the site energies, forces and
// virials are summed in double.
template <class ExecSpace, int Lanes = MtpTuning<ExecSpace>::lanes, int TeamSize = MtpTuning<ExecSpace>::team_size,
          class Basis = BasisRBChebyshev, class Real = double>
struct MtpKernel {
  using exec_space = ExecSpace;
  using memory_space = typename ExecSpace::memory_space;
  using team_member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;
  using scratch_space = typename ExecSpace::scratch_memory_space;
  using real_type = Real;
  using ScratchReals = Kokkos::View<Real*, scratch_space, Kokkos::MemoryUnmanaged>;
  using ScratchInts = Kokkos::View<int*, scratch_space, Kokkos::MemoryUnmanaged>;
  using ForceScatter = Kokkos::Experimental::ScatterView<double* [3], Kokkos::LayoutRight, ExecSpace>;
  using VirialScatter = Kokkos::Experimental::ScatterView<double* [6], Kokkos::LayoutRight, ExecSpace>;
  using CentroidScatter = Kokkos::Experimental::ScatterView<double* [9], Kokkos::LayoutRight, ExecSpace>;
  static constexpr bool kAtomicScratch = TeamSize > 1;
  static constexpr int W = Lanes;
  static_assert(W == 1 || TeamSize == 1, "several lanes are for teams of one thread (hosts)");
  // Row stride of the monomials u[m][lane]: a thread's own block of W lanes on hosts; with one
  // lane, a team-wide table [n_mono][TeamSize + 1] with a column per thread (the padding column
  // spreads the rows over the shared-memory banks).
  static constexpr int kMonoStride = W > 1 ? W : TeamSize + 1;
  // The neighbour cache holds slots in blocks of kCacheBlock, each block [item][kCacheStride]
  // with item = r, rhat(3), f(K), f'(K) (cache_stride() items) and a column per slot: on hosts a
  // block is a thread's W lanes; on a GPU the TeamSize neighbours of a chunk, a column per
  // thread, padded by one like the monomials: a thread's own items are then consecutive
  // across the warp, and the threads over basic moments read one slot's f of several mu in
  // different banks. (A row per slot, 4 + 2K doubles long, put every 4th thread of a warp on
  // the same bank: 8-way conflicts on each cache access of pass 2.)
  static constexpr int kCacheBlock = W > 1 ? W : TeamSize;
  static constexpr int kCacheStride = W > 1 || TeamSize == 1 ? kCacheBlock : TeamSize + 1;

  MtpParameters<memory_space, Real> p;
  // Inputs (raw device-accessible pointers, so any caller layout works without copies).
  const double* x = nullptr;
  const int* species = nullptr;
  const int* neighbors = nullptr;
  const int* const* rows = nullptr;
  const std::int64_t* offsets = nullptr;
  const int* counts = nullptr;
  std::int64_t row_stride = 0, slot_stride = 1;
  int index_mask = ~0;
  int max_neighbors = 0;  // cache slots per atom (MtpKokkosPotential: cache_slots)
  // Teams of several threads (GPUs) size the cache by the most neighbours within the cutoff seen
  // so far, kept between calls instead of counted before every launch. An atom with more
  // neighbours than that writes nothing: it is listed in `overflow` ([0] how many, [1] the most
  // neighbours within the cutoff among them, then the atoms) for a second launch with a larger
  // cache, in which league rank r evaluates atom `atom_list[r]`.
  Kokkos::View<int*, memory_space> overflow;
  const int* atom_list = nullptr;
  // Outputs.
  Kokkos::View<double*, memory_space> atom_energy;      // [n_local]
  Kokkos::View<double* [6], memory_space> atom_w;       // [n_local] per-centre virial
  ForceScatter forces;
  VirialScatter atom_virial;
  bool want_atom_virial = false;
  CentroidScatter atom_centroid_virial;  // xx yy zz xy xz yz yx zx zy (written by the WithCentroidVirials launch)
  // Parameter gradients of the site energies (extrapolation grades), one compact row per local
  // atom: the radial block of its own species [C(neighbour)][K][R], then the moment part
  // [n_scalar]; the species part is implicit (1 at s_i). Full-row column of compact index k < C*K*R
  // is s_i*C*K*R + k. Written whole for each local atom (no zeroing needed by the caller).
  Kokkos::View<double**, typename MtpTuning<ExecSpace>::grade_rows_layout, memory_space> param_rows;
  bool want_param_rows = false;

  // Scratch layout (values of type Real). Team part: the basic moments (summed in pass 1) and later their
  // adjoints [n_basic], the adjoints in monomial order [n_basic], the lanes' partial moments
  // (several lanes), the neighbour cache [block][r, rhat(3), f(K), f'(K)][lane], with one lane
  // and grading the threads' gradient factors [TeamSize][K + R + 1], and one region shared by
  // the moments and adjoints of the products [2][n_moments] and, with one lane, the monomials
  // of the team's threads [n_mono][TeamSize + 1]: the monomials are used in pass 1 (the
  // chunk's, for the basic moments) and pass 2 (each thread's own), all moments and adjoints
  // only between the two. Thread part (several lanes only): the grade's sums [K][lane], the
  // monomials of a block [n_mono][lane] and the radial basis [2][R][lane]. (On a GPU at level 16
  // the team part is ~31 KB for Li2CO3, 7 teams per SM, inside the 40 KB of level-0
  // (shared-memory) scratch Kokkos offers a team; beyond, it spills to level 1, global memory.)
  KOKKOS_INLINE_FUNCTION int cache_stride() const { return 4 + 2 * p.n_radial; }
  KOKKOS_INLINE_FUNCTION int max_blocks() const { return (max_neighbors + kCacheBlock - 1) / kCacheBlock; }
  KOKKOS_INLINE_FUNCTION int block_reals() const { return cache_stride() * kCacheStride; }
  // A slot's column of the cache: its item k at [k * kCacheStride].
  KOKKOS_INLINE_FUNCTION Real* cache_slot(Real* cache, int slot) const {
    return cache + size_t(slot / kCacheBlock) * block_reals() + slot % kCacheBlock;
  }
  KOKKOS_INLINE_FUNCTION size_t shared_region_reals() const {
    const size_t products = 2 * size_t(p.n_moments);
    const size_t monomials = W > 1 ? 0 : size_t(p.n_mono) * kMonoStride;
    return products > monomials ? products : monomials;
  }
  KOKKOS_INLINE_FUNCTION size_t team_reals() const {
    return size_t(p.n_basic) * (W > 1 ? W + 2 : 2) + size_t(max_blocks()) * block_reals() +
           (W == 1 && want_param_rows ? size_t(TeamSize) * grade_stride() : 0) + shared_region_reals();
  }
  // With one lane, grading: a row per thread of its neighbour's gradient factors w_mu[K], q[R]
  // and species (radial_gradient_factors).
  KOKKOS_INLINE_FUNCTION int grade_stride() const { return p.n_radial + p.basis_size + 1; }
  KOKKOS_INLINE_FUNCTION size_t thread_reals() const {
    return W > 1 ? size_t(p.n_radial + p.n_mono + 2 * p.basis_size) * W : 0;
  }
  KOKKOS_INLINE_FUNCTION size_t team_ints() const { return size_t(max_blocks()) * kCacheBlock + 1; }

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
  // Whether atom j is a neighbour of atom i within the cutoff, with d = x_j - x_i and r^2.
  KOKKOS_INLINE_FUNCTION bool in_cutoff(int i, int j, double& d0, double& d1, double& d2, double& r2) const {
    d0 = x[3 * j] - x[3 * i];
    d1 = x[3 * j + 1] - x[3 * i + 1];
    d2 = x[3 * j + 2] - x[3 * i + 2];
    r2 = d0 * d0 + d1 * d1 + d2 * d2;
    return r2 < p.max_dist * p.max_dist && j != i;
  }
  KOKKOS_INLINE_FUNCTION int neighbor(int i, int jj) const {
    if (rows) return rows[i][jj] & index_mask;
    std::int64_t base = offsets ? offsets[i] : std::int64_t(i) * row_stride;
    return neighbors[base + std::int64_t(jj) * slot_stride] & index_mask;
  }

  // Monomials u[m][lane] (row stride kMonoStride) of the lanes' unit vectors rhat[axis][lane], by the degree-ordered
  // recursion.
  KOKKOS_INLINE_FUNCTION void monomials(const Real* rhat, Real* u) const {
    for (int l = 0; l < W; ++l) u[l] = Real(1);
    for (int m = 1; m < p.n_mono; ++m) {
      const Real* parent = u + p.mono_parent(m) * kMonoStride;
      const Real* axis = rhat + p.mono_axis(m) * kCacheStride;
      // Through a local copy: u is both read and written here, and the compiler vectorises
      // only what it can prove does not overlap.
      Real t[W];
      for (int l = 0; l < W; ++l) t[l] = parent[l] * axis[l];
      for (int l = 0; l < W; ++l) u[m * kMonoStride + l] = t[l];
    }
  }

  // f_mu(r) and f'_mu(r) ([mu][lane], row stride kCacheStride) for the species pairs
  // (si, sj[lane]): f_mu = sum_n c[si, sj, mu, n] Q_n(r), with the model's radial basis Q_n
  // (mtp_radial_basis.hpp). q and dq ([n][lane] each) hold the basis Q_n and Q'_n (several
  // lanes only).
  KOKKOS_INLINE_FUNCTION void radial(int si, const int* sj, const Real* r, Real* f, Real* df, Real* q,
                                     Real* dq) const {
    const int K = p.n_radial, R = p.basis_size;
    const Real* c[W];
    for (int l = 0; l < W; ++l) c[l] = &p.radial(((size_t(si) * p.n_species + sj[l]) * K) * R);
    if constexpr (W == 1) {
      // One lane (GPUs): each f_mu and f'_mu summed in registers, the basis recomputed for
      // every mu (a few flops per term). Summing into the cache term by term, as the basis
      // comes, would chain every term through a shared-memory load and store, and keeping the
      // basis would need per-thread scratch.
      for (int mu = 0; mu < K; ++mu) {
        const Real* cm = c[0] + mu * R;
        RadialBasisLanes<Basis, 1, Real> basis(r, p.min_dist, p.max_dist, p.scaling);
        Real fs = 0, dfs = 0;
        for (int n = 0; n < R; ++n) {
          Real qn, dqn;
          basis.next(n, &qn, &dqn);
          fs += cm[n] * qn;
          dfs += cm[n] * dqn;
        }
        f[mu * kCacheStride] = fs;
        df[mu * kCacheStride] = dfs;
      }
    } else {
      RadialBasisLanes<Basis, W, Real> basis(r, p.min_dist, p.max_dist, p.scaling);
      for (int n = 0; n < R; ++n) basis.next(n, q + n * W, dq + n * W);
      for (int mu = 0; mu < K; ++mu) {
        Real fs[W], dfs[W];
        for (int l = 0; l < W; ++l) fs[l] = dfs[l] = Real(0);
        for (int n = 0; n < R; ++n) {
          Real cn[W];
          for (int l = 0; l < W; ++l) cn[l] = c[l][mu * R + n];
          for (int l = 0; l < W; ++l) {
            fs[l] += cn[l] * q[n * W + l];
            dfs[l] += cn[l] * dq[n * W + l];
          }
        }
        for (int l = 0; l < W; ++l) {
          f[mu * kCacheStride + l] = fs[l];
          df[mu * kCacheStride + l] = dfs[l];
        }
      }
    }
  }

  // One level of a product pass (MtpTables::fwd, ::bwd), threads over its moments:
  // out[node] = init(node) + sum over the node's terms of term(pair, mult).
  template <class Init, class Term>
  KOKKOS_INLINE_FUNCTION void product_level(const team_member& team, const ProductPassView<memory_space>& pass, int l,
                                            Real* out, Init init, Term term) const {
    const int begin = pass.level_start(l);
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, begin, pass.level_start(l + 1)), [&](int o) {
      const int node = pass.node(o), n = pass.count(o);
      // Two partial sums, so the additions of consecutive terms overlap.
      Real s0 = init(node), s1 = 0;
      int q = 0;
      for (; q + 1 < n; q += 2) {
        const int t0 = pass.term(o, begin, q), t1 = pass.term(o, begin, q + 1);
        s0 += term(pass.pair(t0), pass.mult(t0));
        s1 += term(pass.pair(t1), pass.mult(t1));
      }
      if (q < n) {
        const int t0 = pass.term(o, begin, q);
        s0 += term(pass.pair(t0), pass.mult(t0));
      }
      out[node] = s0 + s1;
    });
    team.team_barrier();
  }

  // The moments' products M_k += mult M_a M_b (alpha_index_times) from the basic moments in
  // mom, and the adjoints adj = dE_i/dM of all moments. A team of one thread (host backends) runs
  // MLIP's own loops over the entries, forward in file order and back in reverse: on a CPU core
  // the whole step is ~3 % faster than with the level schedule's gathers. A team of several
  // (GPUs) goes level by level (MtpTables, schedule_products), a thread per moment, with a
  // barrier after each level (3 levels instead of a chain of n_times entries).
  KOKKOS_INLINE_FUNCTION void products_and_adjoints(const team_member& team, Real* mom, Real* adj) const {
    if constexpr (TeamSize == 1) {
      for (int t = 0; t < p.n_times; ++t) {
        const int a = p.times(4 * t), b = p.times(4 * t + 1), k = p.times(4 * t + 3);
        mom[k] += Real(p.times(4 * t + 2)) * mom[a] * mom[b];
      }
      for (int m = 0; m < p.n_moments; ++m) adj[m] = p.linear(m);
      for (int t = p.n_times - 1; t >= 0; --t) {
        const int a = p.times(4 * t), b = p.times(4 * t + 1), k = p.times(4 * t + 3);
        const Real dk = adj[k] * Real(p.times(4 * t + 2));
        adj[a] += dk * mom[b];
        adj[b] += dk * mom[a];
      }
    } else {
      // Term of a product moment: mult * M_a * M_b; of an adjoint: (adj_k * mult) * M_other.
      for (int l = 0; l < p.n_levels; ++l) {
        product_level(
            team, p.fwd, l, mom, [](int) { return Real(0); },
            [&](std::uint32_t ab, int mult) { return Real(mult) * mom[pair_first(ab)] * mom[pair_second(ab)]; });
      }
      for (int g = 0; g <= p.n_levels; ++g) {
        product_level(
            team, p.bwd, g, adj, [&](int node) { return p.linear(node); },
            [&](std::uint32_t ko, int mult) { return adj[pair_first(ko)] * Real(mult) * mom[pair_second(ko)]; });
      }
    }
  }

  // The centroid-form per-atom virials are a kernel of their own (a work tag, so a policy with
  // the tag launches it): behind a runtime flag in the one kernel they took the GPU kernel from
  // 80 to 94 registers (ptxas -v, CUDA 13, sm_90) in every step, asked for or not; each tagged
  // kernel has 80.
  struct WholeStep {};
  struct WithCentroidVirials {};
  KOKKOS_INLINE_FUNCTION void operator()(WholeStep, const team_member& team) const {
    compute_atom<false, Stage::Whole>(team);
  }
  KOKKOS_INLINE_FUNCTION void operator()(WithCentroidVirials, const team_member& team) const {
    compute_atom<true, Stage::Whole>(team);
  }

  // The step in three kernels (MtpKokkosPotential with SplitProducts): the basic moments of each
  // atom into `moments` (a team per atom, as above); the products, the site energy and the
  // adjoints with one thread per atom (MtpProductsPerAtom: moments stored [moment][atom], so the
  // threads of a warp read and write consecutive addresses, and all of them read the same
  // product entry at once); then the forces from the adjoints (a team per atom again: pass 1
  // once more for the neighbour cache, without the moment sums, then pass 2).
  enum class Stage { Whole, BasicMoments, Forces };
  struct BasicMomentsOnly {};
  struct ForcesFromAdjoints {};
  struct ForcesFromAdjointsWithCentroidVirials {};
  Kokkos::View<Real**, Kokkos::LayoutRight, memory_space> moments;   // [n_moments][atoms]
  Kokkos::View<Real**, Kokkos::LayoutRight, memory_space> adjoints;  // [n_moments][atoms]
  KOKKOS_INLINE_FUNCTION void operator()(BasicMomentsOnly, const team_member& team) const {
    compute_atom<false, Stage::BasicMoments>(team);
  }
  KOKKOS_INLINE_FUNCTION void operator()(ForcesFromAdjoints, const team_member& team) const {
    compute_atom<false, Stage::Forces>(team);
  }
  KOKKOS_INLINE_FUNCTION void operator()(ForcesFromAdjointsWithCentroidVirials, const team_member& team) const {
    compute_atom<true, Stage::Forces>(team);
  }

  template <bool Centroid, Stage St>
  KOKKOS_INLINE_FUNCTION void compute_atom(const team_member& team) const {
    const int i = atom_list ? atom_list[team.league_rank()] : team.league_rank();
    const int K = p.n_radial;
    constexpr int S = kCacheStride;
    const int level = team_level_;
    ScratchReals team_buf(team.team_scratch(level), team_reals());
    ScratchInts team_int(team.team_scratch(level), team_ints());
    ScratchReals thread_buf(team.thread_scratch(level), thread_reals());
    Real* basic = team_buf.data();          // [n_basic]: basic moments in pass 1, their adjoints in pass 2
    Real* adj_by_mono = basic + p.n_basic;  // [n_basic]: adj[basic_by_mono[t]]
    Real* mom_lanes = adj_by_mono + p.n_basic;  // [n_basic][W] (W > 1)
    Real* cache = mom_lanes + (W > 1 ? size_t(p.n_basic) * W : 0);
    int* cache_j = team_int.data();           // [blocks * kCacheBlock], and the count at the end
    const int count_at = max_blocks() * kCacheBlock;
    // With one lane and grading: the threads' gradient factors [TeamSize][grade_stride()].
    Real* grade_table = cache + size_t(max_blocks()) * block_reals();
    Real* shared_region = grade_table + (W == 1 && want_param_rows ? size_t(TeamSize) * grade_stride() : 0);
    // Between pass 1 and pass 2: all moments and their adjoints.
    Real* mom = shared_region;
    Real* adj = mom + p.n_moments;
    // With one lane, in passes 1 and 2: the team's monomials [n_mono][kMonoStride], a column
    // per thread.
    Real* u_team = W > 1 ? nullptr : shared_region;
    Real* w_mu = thread_buf.data();         // [K][W] (several lanes)
    // This thread's monomials [n_mono] x kMonoStride: its own scratch with several lanes, its
    // column of the team's table with one.
    Real* u = W > 1 ? w_mu + size_t(p.n_radial) * W : u_team + team.team_rank();
    Real* q_basis = W > 1 ? u + size_t(p.n_mono) * W : nullptr;  // [2][R][W]: Q_n, Q'_n

    const int si = species[i];
    const int nn = neighbor_count(i);

    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_basic), [&](int b) { basic[b] = 0.0; });
    if (want_param_rows && St != Stage::BasicMoments) {
      // This atom's radial block is summed over its neighbours in pass 2 (the moment part is set).
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_species * K * p.basis_size),
                           [&](int k) { param_rows(i, k) = 0.0; });
    }
    if constexpr (W > 1 && St != Stage::Forces) {
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_basic * W), [&](int q) { mom_lanes[q] = 0.0; });
    }
    Kokkos::single(Kokkos::PerTeam(team), [&]() { cache_j[count_at] = 0; });
    team.team_barrier();

    // Pass 1a: the neighbours within the cutoff, with r and rhat, into the cache.
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nn), [&](int jj) {
      const int j = neighbor(i, jj);
      double d0, d1, d2, r2;
      if (!in_cutoff(i, j, d0, d1, d2, r2)) return;
      int slot;
      if constexpr (kAtomicScratch) {
        slot = Kokkos::atomic_fetch_add(&cache_j[count_at], 1);
      } else {
        slot = cache_j[count_at]++;
      }
      if (slot >= count_at) return;  // more than the cache holds: the team overflows (below)
      // r and rhat from the double bond vector, rounded once to Real.
      const double r = Kokkos::sqrt(r2), inv_r = 1.0 / r;
      Real* c = cache_slot(cache, slot);
      cache_j[slot] = j;
      c[0] = Real(r);
      c[S] = Real(d0 * inv_r);
      c[2 * S] = Real(d1 * inv_r);
      c[3 * S] = Real(d2 * inv_r);
    });
    team.team_barrier();
    if (cache_j[count_at] > count_at) {
      // Every thread sees the same count here: the whole team leaves, having written nothing
      // but its zeroed grade row, and the second launch evaluates the atom.
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        const int at = Kokkos::atomic_fetch_add(&overflow(0), 1);
        Kokkos::atomic_max(&overflow(1), cache_j[count_at]);
        overflow(2 + at) = i;
      });
      return;
    }
    const int n_valid = cache_j[count_at];
    const int n_blocks = (n_valid + W - 1) / W;
    if constexpr (W > 1) {
      // Unused lanes of the last block: r = cutoff, where f and f' vanish.
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int slot = n_valid; slot < n_blocks * W; ++slot) {
          Real* c = cache_slot(cache, slot);
          cache_j[slot] = i;
          c[0] = Real(p.max_dist);  // the basis rounds the cutoff the same way: f = f' = 0 here
          c[S] = Real(1);
          c[2 * S] = c[3 * S] = Real(0);
        }
      });
      team.team_barrier();
    }

    // Pass 1b: radial functions once per neighbour, basic moments.
    if constexpr (W > 1) {
      // A thread's blocks of W neighbours sum into the lanes' partial moments.
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n_blocks), [&](int blk) {
        Real* c = cache_slot(cache, blk * W);
        Real* f = c + 4 * S;
        Real* df = f + K * S;
        int sj[W];
        for (int l = 0; l < W; ++l) sj[l] = species[cache_j[blk * W + l]];
        radial(si, sj, c, f, df, q_basis, q_basis + size_t(p.basis_size) * W);
        if constexpr (St == Stage::Forces) return;  // the cache is all pass 2 needs
        monomials(c + S, u);
        for (int b = 0; b < p.n_basic; ++b) {
          const Real* fb = f + p.basic_mu(b) * S;
          const Real* ub = u + p.basic_mono(b) * W;
          Real* mb = mom_lanes + size_t(b) * W;
          Real acc[W];
          for (int l = 0; l < W; ++l) acc[l] = mb[l] + fb[l] * ub[l];
          for (int l = 0; l < W; ++l) mb[l] = acc[l];
        }
      });
    } else {
      // One neighbour per thread (GPUs), TeamSize neighbours at a time: each thread puts its
      // neighbour's radial functions into the cache and its monomials into its column of the
      // team's table, then threads over the basic moments sum the chunk's contributions, each
      // moment by one thread. (Every thread adding its neighbour into every moment would make
      // all threads of a warp hit one scratch address at once, n_basic times per neighbour.)
      const int t = team.team_rank();
      // (A chunk is one block of the cache: c0 is a multiple of kCacheBlock = TeamSize.)
      for (int c0 = 0; c0 < n_valid; c0 += TeamSize) {
        const int n_chunk = n_valid - c0 < TeamSize ? n_valid - c0 : TeamSize;
        if (t < n_chunk) {
          Real* c = cache_slot(cache, c0 + t);
          const int sj = species[cache_j[c0 + t]];
          radial(si, &sj, c, c + 4 * S, c + (4 + K) * S, nullptr, nullptr);
          if constexpr (St != Stage::Forces) monomials(c + S, u);
        }
        if constexpr (St == Stage::Forces) continue;  // the cache is all pass 2 needs
        team.team_barrier();
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_basic), [&](int b) {
          const Real* fb = cache_slot(cache, c0) + (4 + p.basic_mu(b)) * S;
          const Real* ub = u_team + p.basic_mono(b) * kMonoStride;
          Real sum = 0;
          for (int l = 0; l < n_chunk; ++l) sum += fb[l] * ub[l];
          basic[b] += sum;
        });
        team.team_barrier();
      }
    }
    team.team_barrier();

    // Products and adjoints, then the site energy.
    if constexpr (W > 1 && St != Stage::Forces) {
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_basic), [&](int b) {
        Real sum = 0;
        for (int l = 0; l < W; ++l) sum += mom_lanes[size_t(b) * W + l];
        basic[b] = sum;
      });
      team.team_barrier();
    }
    if constexpr (St == Stage::BasicMoments) {
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_basic), [&](int b) { moments(b, i) = basic[b]; });
      return;
    }
    if constexpr (St == Stage::Forces) {
      // MtpProductsPerAtom left the adjoints and the site energy.
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_basic), [&](int t) {
        adj_by_mono[t] = adjoints(p.basic_by_mono(t), i);
        basic[t] = adjoints(t, i);
      });
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        for (int c = 0; c < 6; ++c) atom_w(i, c) = 0.0;
      });
      team.team_barrier();
    } else {
      // The whole step (Stage::Whole): the products in the team.
      // Pass 1's monomials are done with: the shared region takes all moments, the basic ones first.
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_moments),
                           [&](int m) { mom[m] = m < p.n_basic ? basic[m] : Real(0); });
      team.team_barrier();
      products_and_adjoints(team, mom, adj);
      // The site energy as MLIP sums it, over the scalar moments (a quarter of all at level 16),
      // in double.
      double e = 0.0;
      Kokkos::parallel_reduce(
          Kokkos::TeamThreadRange(team, p.n_scalar),
          [&](int q, double& sum) { sum += p.moment_coeffs(q) * double(mom[p.mapping(q)]); },
          e);
      // What pass 2 needs of the adjoints, out of the shared region (its monomials go there): those
      // of the basic moments in monomial order, and (grading) in their own order.
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_basic), [&](int t) {
        adj_by_mono[t] = adj[p.basic_by_mono(t)];
        basic[t] = adj[t];
      });
      if (want_param_rows) {
        const int radial_block = p.n_species * K * p.basis_size;
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_scalar),
                             [&](int q) { param_rows(i, radial_block + q) = mom[p.mapping(q)]; });
      }
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        atom_energy(i) = p.species_coeffs(si) + e;
        for (int c = 0; c < 6; ++c) atom_w(i, c) = 0.0;
      });
      team.team_barrier();
    }

    // Pass 2: g_j = sum_b adj_b d/dr_ij [f_mu_b(r) u_b(rhat)]
    //             = sum_m [(B_m - deg_m A_m / r) u_m rhat + (A_m / r) grad u_m],
    // A_m = sum_{b: mono_b = m} adj_b f_mu_b(r), B_m the same with f'.
    auto f_access = forces.access();
    auto v_access = atom_virial.access();
    auto cv_access = atom_centroid_virial.access();
    // The centre's force and virial are summed per thread and added once at the end: per
    // neighbour, all threads of a GPU warp would add to the same nine addresses at once.
    double fi0 = 0.0, fi1 = 0.0, fi2 = 0.0;
    double wi[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    double e_pair = 0.0;  // MLIP's pair repulsion (RBChebyshev_repuls), this thread's neighbours
    // The W lanes of the cache from slot `first`.
    auto force_block = [&](int first) {
      const Real* c = cache_slot(cache, first);
      const Real* rhat = c + S;
      const Real* f = c + 4 * S;
      const Real* df = f + K * S;
      Real inv_r[W], s[W], g0[W], g1[W], g2[W];
      for (int l = 0; l < W; ++l) {
        inv_r[l] = Real(1) / c[l];
        s[l] = g0[l] = g1[l] = g2[l] = Real(0);
      }
      monomials(rhat, u);
      for (int m = 0; m < p.n_mono; ++m) {
        const int t0 = p.mono_start(m), t1 = p.mono_start(m + 1);
        if (t0 == t1) continue;
        Real am[W], bm[W];
        for (int l = 0; l < W; ++l) am[l] = bm[l] = Real(0);
        for (int t = t0; t < t1; ++t) {
          const Real a = adj_by_mono[t];
          const Real* fm = f + p.mu_by_mono(t) * S;
          const Real* dfm = df + p.mu_by_mono(t) * S;
          for (int l = 0; l < W; ++l) {
            am[l] += a * fm[l];
            bm[l] += a * dfm[l];
          }
        }
        const Real deg = p.mono_degree(m);
        const Real e0 = p.mono_exp(3 * m), e1 = p.mono_exp(3 * m + 1), e2 = p.mono_exp(3 * m + 2);
        const Real* um = u + m * kMonoStride;
        const Real* u0 = u + p.mono_lower(3 * m) * kMonoStride;
        const Real* u1 = u + p.mono_lower(3 * m + 1) * kMonoStride;
        const Real* u2 = u + p.mono_lower(3 * m + 2) * kMonoStride;
        for (int l = 0; l < W; ++l) {
          s[l] += (bm[l] - deg * am[l] * inv_r[l]) * um[l];
          g0[l] += am[l] * e0 * u0[l];
          g1[l] += am[l] * e1 * u1[l];
          g2[l] += am[l] * e2 * u2[l];
        }
      }
      if constexpr (Basis::pair_repulsion) {
        for (int l = 0; l < W && first + l < n_valid; ++l) {
          double phi, dphi;
          MlipRepulsion::eval(c[l], p.min_dist, phi, dphi);
          s[l] += Real(dphi);  // d phi / d r_ij = phi' rhat
          e_pair += phi;
        }
      }
      for (int l = 0; l < W; ++l) {
        const int slot = first + l;
        if (slot >= n_valid) break;
        const int j = cache_j[slot];
        // This neighbour's gradient in Real; from here on (the sums over neighbours) in double.
        const double r = c[l];
        const double hx = rhat[l], hy = rhat[S + l], hz = rhat[2 * S + l];
        const double gx = Real(s[l] * rhat[l] + g0[l] * inv_r[l]);
        const double gy = Real(s[l] * rhat[S + l] + g1[l] * inv_r[l]);
        const double gz = Real(s[l] * rhat[2 * S + l] + g2[l] * inv_r[l]);
        fi0 += gx;
        fi1 += gy;
        fi2 += gz;
        f_access(j, 0) -= gx;
        f_access(j, 1) -= gy;
        f_access(j, 2) -= gz;
        const double dx = r * hx, dy = r * hy, dz = r * hz;
        const double w[6] = {-gx * dx, -gy * dy, -gz * dz, -0.5 * (gx * dy + gy * dx),
                             -0.5 * (gx * dz + gz * dx), -0.5 * (gy * dz + gz * dy)};
        for (int q = 0; q < 6; ++q) wi[q] += w[q];
        if (want_atom_virial) {
          for (int q = 0; q < 6; ++q) v_access(j, q) += 0.5 * w[q];
        }
        if constexpr (Centroid) {
          // r_ij (x) F_j with F_j = -g_j: component ab is d_a F_b.
          cv_access(j, 0) -= dx * gx;
          cv_access(j, 1) -= dy * gy;
          cv_access(j, 2) -= dz * gz;
          cv_access(j, 3) -= dx * gy;
          cv_access(j, 4) -= dx * gz;
          cv_access(j, 5) -= dy * gz;
          cv_access(j, 6) -= dy * gx;
          cv_access(j, 7) -= dz * gx;
          cv_access(j, 8) -= dz * gy;
        }
      }
    };
    if constexpr (W > 1) {
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n_blocks), [&](int blk) {
        force_block(blk * W);
        if (want_param_rows) {
          Real* q = q_basis;  // [R][W], free in pass 2
          radial_gradient_factors(cache_slot(cache, blk * W), u, basic, w_mu, q);
          const int R = p.basis_size, left = n_valid - blk * W;
          for (int l = 0; l < W && l < left; ++l) {
            const int base = species[cache_j[blk * W + l]] * K * R;
            for (int n = 0; n < R; ++n)
              for (int mu = 0; mu < K; ++mu) param_rows(i, base + mu * R + n) += q[n * W + l] * w_mu[mu * W + l];
          }
        }
      });
    } else {
      // One neighbour per thread, TeamSize at a time as in pass 1b: when grading, each thread
      // leaves its neighbour's gradient factors in its row of the team's table, then threads
      // over the atom's radial block (C x K x R) sum the chunk, each entry by one thread
      // (neighbours of one species would otherwise add into the same entries at once).
      const int t = team.team_rank();
      const int R = p.basis_size, gs = grade_stride();
      for (int c0 = 0; c0 < n_valid; c0 += TeamSize) {
        const int n_chunk = n_valid - c0 < TeamSize ? n_valid - c0 : TeamSize;
        if (t < n_chunk) {
          force_block(c0 + t);
          if (want_param_rows) {
            Real* g = grade_table + size_t(t) * gs;
            radial_gradient_factors(cache_slot(cache, c0 + t), u, basic, g, g + K);
            g[K + R] = species[cache_j[c0 + t]];
          }
        }
        if (want_param_rows) {
          team.team_barrier();
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n_species * K * R), [&](int e) {
            const int sj = e / (K * R), mu = (e / R) % K, n = e % R;
            double sum = 0.0;
            for (int l = 0; l < n_chunk; ++l) {
              const Real* g = grade_table + size_t(l) * gs;
              if (int(g[K + R]) == sj) sum += double(g[K + n] * g[mu]);
            }
            param_rows(i, e) += sum;
          });
          team.team_barrier();
        }
      }
    }
    f_access(i, 0) += fi0;
    f_access(i, 1) += fi1;
    f_access(i, 2) += fi2;
    for (int q = 0; q < 6; ++q) add(atom_w(i, q), wi[q]);
    if constexpr (Basis::pair_repulsion) add(atom_energy(i), e_pair);
    if (want_atom_virial) {
      for (int q = 0; q < 6; ++q) v_access(i, q) += 0.5 * wi[q];
    }
  }

  // The factors of a block's gradient dE_i/dc[s_i, s_j, mu, n] = q[n] w_mu[mu] (per lane):
  // w_mu = sum_{b: mu_b = mu} adj_b u_b (adj: the basic moments' adjoints) and
  // q_n = Q_n(r), the radial basis, into
  // w_mu[mu * W + lane] and q[n * W + lane] (cache c, monomials u[m * kMonoStride + lane]).
  KOKKOS_INLINE_FUNCTION void radial_gradient_factors(const Real* c, const Real* u, const Real* adj, Real* w_mu,
                                                      Real* q) const {
    const int K = p.n_radial, R = p.basis_size;
    // Grouped by mu so each sum stays in registers (a scatter into w_mu[basic_mu(b)] would
    // chain every iteration through memory).
    for (int mu = 0; mu < K; ++mu) {
      Real acc[W];
      for (int l = 0; l < W; ++l) acc[l] = Real(0);
      for (int t = p.mu_start(mu); t < p.mu_start(mu + 1); ++t) {
        const int b = p.basic_by_mu(t);
        const Real a = adj[b];
        const Real* ub = u + p.basic_mono(b) * kMonoStride;
        for (int l = 0; l < W; ++l) acc[l] += a * ub[l];
      }
      for (int l = 0; l < W; ++l) w_mu[mu * W + l] = acc[l];
    }
    RadialBasisLanes<Basis, W, Real> basis(c, p.min_dist, p.max_dist, p.scaling);
    for (int n = 0; n < R; ++n) {
      Real dq[W];  // (Q'_n unused here)
      basis.next(n, q + n * W, dq);
    }
  }

  int team_level_ = 0;
};

// The middle of the split step (MtpKernel::Stage): one thread per atom forms the products of its
// moments (MLIP's alpha_index_times, in the file's order, as a host team of one does), the site
// energy (summed in double), the moment part of its grade row, and the adjoints of all moments,
// with moments and adjoints stored [moment][atom]: the threads of a GPU warp take 32 consecutive
// atoms, so each of their loads and stores is one contiguous stretch, and all read the same
// product entry at once (one broadcast load). What it computes is what products_and_adjoints
// computes for one atom.
template <class Kernel>
struct MtpProductsPerAtom {
  using Real = typename Kernel::real_type;
  Kernel k;
  KOKKOS_INLINE_FUNCTION void operator()(int i) const {
    const auto& p = k.p;
    auto& m = k.moments;
    auto& adj = k.adjoints;
    for (int q = p.n_basic; q < p.n_moments; ++q) m(q, i) = Real(0);
    for (int t = 0; t < p.n_times; ++t) {
      const int a = p.times(4 * t), b = p.times(4 * t + 1), c = p.times(4 * t + 3);
      m(c, i) += Real(p.times(4 * t + 2)) * m(a, i) * m(b, i);
    }
    double e = 0.0;
    for (int q = 0; q < p.n_scalar; ++q) e += p.moment_coeffs(q) * double(m(p.mapping(q), i));
    const int si = k.species[i];
    k.atom_energy(i) = p.species_coeffs(si) + e;
    if (k.want_param_rows) {
      const int radial_block = p.n_species * p.n_radial * p.basis_size;
      for (int q = 0; q < p.n_scalar; ++q) k.param_rows(i, radial_block + q) = m(p.mapping(q), i);
    }
    for (int q = 0; q < p.n_moments; ++q) adj(q, i) = p.linear(q);
    for (int t = p.n_times - 1; t >= 0; --t) {
      const int a = p.times(4 * t), b = p.times(4 * t + 1), c = p.times(4 * t + 3);
      const Real dk = adj(c, i) * Real(p.times(4 * t + 2));
      adj(a, i) += dk * m(b, i);
      adj(b, i) += dk * m(a, i);
    }
  }
};

}  // namespace mlpot::kokkos
