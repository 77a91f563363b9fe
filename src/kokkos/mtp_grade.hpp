#pragma once
// Extrapolation grades from the per-atom parameter gradients that MtpKernel forms
// (param_rows), written once for every Kokkos execution space.
//
// Full parameter rows have MLIP's layout [radial C*C*K*R | species C | moment n_scalar]; an atom
// of species s only touches its own radial block s*C*K*R .. (s+1)*C*K*R, its species entry and
// the moment part, so its compact row has L = C*K*R + n_scalar entries.
// The inverse selection matrix is kept as M(k, l) = (A^-1)[k][l] = MLIP's inv_A[l][k], stored
// with l contiguous on GPUs (threads over l) and k contiguous on hosts (a thread walks k).
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "mtp_kernel.hpp"

namespace mlpot::kokkos {

// Atoms of one species in tiles of at most `tile`, in order of species (the neighbourhood grades
// read each element of the inverse once per tile instead of once per atom).
struct SpeciesTiles {
  std::vector<int> order;  // atoms by species
  std::vector<int> start;  // tile q is order[start[q] .. start[q + 1])
};
inline SpeciesTiles species_tiles(const int* species, int n_local, int tile) {
  SpeciesTiles t;
  t.order.resize(n_local);
  for (int i = 0; i < n_local; ++i) t.order[i] = i;
  std::stable_sort(t.order.begin(), t.order.end(), [&](int a, int b) { return species[a] < species[b]; });
  for (int p = 0; p < n_local;) {
    t.start.push_back(p);
    int q = p + 1;
    while (q < n_local && q - p < tile && species[t.order[q]] == species[t.order[p]]) ++q;
    p = q;
  }
  t.start.push_back(n_local);
  return t;
}

// Transposed: the GPU layout and kernels (the default on CUDA); a host backend takes them only
// in the test that checks them against the host ones.
template <class ExecSpace, bool Transposed = MtpTuning<ExecSpace>::grade_matrix_transposed>
struct MtpGrades {
  using memory_space = typename ExecSpace::memory_space;
  using Rows = Kokkos::View<double**, typename MtpTuning<ExecSpace>::grade_rows_layout, memory_space>;
  using Vector = Kokkos::View<double*, memory_space>;
  using team_member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;
  static constexpr bool kTransposed = Transposed;

  long n = 0;     // parameters
  int block = 0;  // C*K*R, one species' radial block
  int n_species = 0, n_scalar = 0;
  Vector matrix;  // [n*n], see at()
  mutable Kokkos::View<int*, memory_space> runs_;  // row_grade's nonzero stretches, kept between calls

  KOKKOS_INLINE_FUNCTION static long at(long k, long l, long nn) { return kTransposed ? k * nn + l : l * nn + k; }

  // From MLIP's stored inv_A (row-major, inv_A[l][k]) to this backend's layout.
  void upload(const std::vector<double>& inv_A) {
    matrix = Vector("mtp::inv_A", size_t(n) * n);
    auto h = Kokkos::create_mirror_view(matrix);
    for (long l = 0; l < n; ++l)
      for (long k = 0; k < n; ++k) h(at(k, l, n)) = inv_A[l * n + k];
    Kokkos::deep_copy(matrix, h);
  }

  // Sums of the compact rows per species: partial[s*L + k]; the host backends reduce atom by
  // atom (rows contiguous), GPUs column by column with a team over the atoms.
  struct SpeciesSums {
    using value_type = double[];
    using size_type = int;
    unsigned value_count;
    Rows rows;
    const int* species;
    int L;
    KOKKOS_INLINE_FUNCTION void operator()(int i, double sum[]) const {
      double* dst = sum + size_t(species[i]) * L;
      for (int k = 0; k < L; ++k) dst[k] += rows(i, k);
    }
    KOKKOS_INLINE_FUNCTION void init(double sum[]) const {
      for (unsigned c = 0; c < value_count; ++c) sum[c] = 0.0;
    }
    KOKKOS_INLINE_FUNCTION void join(double dst[], const double src[]) const {
      for (unsigned c = 0; c < value_count; ++c) dst[c] += src[c];
    }
  };

  // Full energy-gradient row b[n] = sum over local atoms of their rows.
  void energy_gradient(const Rows& rows, const int* species, int n_local, const Vector& b) const {
    const int C = n_species, blk = block, L = block + n_scalar;
    const long radial_end = long(C) * block;
    if constexpr (!kTransposed) {
      std::vector<double> sums(size_t(C) * L + C, 0.0);
      if (n_local > 0) {
        Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> result(sums.data(), size_t(C) * L);
        Kokkos::parallel_reduce("mlpot::mtp_species_sums", Kokkos::RangePolicy<ExecSpace>(0, n_local),
                                SpeciesSums{unsigned(C * L), rows, species, L}, result);
      }
      auto h = Kokkos::create_mirror_view(b);
      for (long c = 0; c < n; ++c) h(c) = 0.0;
      for (int s = 0; s < C; ++s) {
        for (int k = 0; k < blk; ++k) h(long(s) * blk + k) = sums[size_t(s) * L + k];
        for (int q = 0; q < n_scalar; ++q) h(radial_end + C + q) += sums[size_t(s) * L + blk + q];
      }
      for (int i = 0; i < n_local; ++i) h(radial_end + species[i]) += 1.0;
      Kokkos::deep_copy(b, h);
    } else {
      Kokkos::parallel_for(
          "mlpot::mtp_energy_gradient", Kokkos::TeamPolicy<ExecSpace>(n, Kokkos::AUTO),
          KOKKOS_LAMBDA(const team_member& t) {
            const long c = t.league_rank();
            double sum = 0.0;
            if (c < radial_end) {
              const int s = int(c / blk), k = int(c % blk);
              Kokkos::parallel_reduce(
                  Kokkos::TeamThreadRange(t, n_local),
                  [&](int i, double& acc) { acc += species[i] == s ? rows(i, k) : 0.0; }, sum);
            } else if (c < radial_end + C) {
              const int s = int(c - radial_end);
              Kokkos::parallel_reduce(
                  Kokkos::TeamThreadRange(t, n_local),
                  [&](int i, double& acc) { acc += species[i] == s ? 1.0 : 0.0; }, sum);
            } else {
              const int k = blk + int(c - radial_end - C);
              Kokkos::parallel_reduce(
                  Kokkos::TeamThreadRange(t, n_local), [&](int i, double& acc) { acc += rows(i, k); }, sum);
            }
            Kokkos::single(Kokkos::PerTeam(t), [&]() { b(c) = sum; });
          });
    }
  }

  // Host backends, neighbourhood mode: atoms of one species in tiles of kTile, each tile copied
  // k-major so that every element of the inverse read from memory serves kTile atoms (the
  // untiled product streams the species' n x L slice of the inverse, 2.8 MB at level 16, once
  // per atom).
  static constexpr int kTile = 8;
  static constexpr int kRows = 4;
  void neighborhood_grades_tiled(const Rows& rows, const int* species, int n_local, const Vector& grades) const {
    const SpeciesTiles tiles = species_tiles(species, n_local, kTile);
    const std::vector<int>& order = tiles.order;
    const std::vector<int>& tile_start = tiles.start;
    const int n_tiles = int(tile_start.size()) - 1;
    const long nn = n;
    const int blk = block, L = block + n_scalar;
    const long moment0 = long(n_species) * blk + n_species;
    const long species0 = long(n_species) * blk;
    const int* order_p = order.data();
    const int* start_p = tile_start.data();
    const double* M = matrix.data();
    Kokkos::parallel_for(
        "mlpot::mtp_nbh_grades_tiled", Kokkos::RangePolicy<ExecSpace>(0, n_tiles), [=](int ti) {
          const int p0 = start_p[ti], count = start_p[ti + 1] - p0;
          const int s = species[order_p[p0]];
          std::vector<double> tile(size_t(L) * kTile, 0.0);  // tile[k * kTile + t]
          for (int t = 0; t < count; ++t)
            for (int k = 0; k < L; ++k) tile[size_t(k) * kTile + t] = rows(order_p[p0 + t], k);
          double gmax[kTile] = {};
          const long radial0 = long(s) * blk;
          // kRows coefficients l at a time: each tile element loaded serves kRows of them.
          for (long l = 0; l < nn; l += kRows) {
            const double* Mr[kRows];  // rows l.. of MLIP's inv_A: k contiguous
            for (int r = 0; r < kRows; ++r) Mr[r] = M + std::min(l + r, nn - 1) * nn;
            double c[kRows][kTile];
            for (int r = 0; r < kRows; ++r)
              for (int t = 0; t < kTile; ++t) c[r][t] = Mr[r][species0 + s];
            for (int k = 0; k < L; ++k) {
              const long col = k < blk ? radial0 + k : moment0 + (k - blk);
              const double* tk = &tile[size_t(k) * kTile];
              for (int r = 0; r < kRows; ++r) {
                const double m = Mr[r][col];
                for (int t = 0; t < kTile; ++t) c[r][t] += tk[t] * m;
              }
            }
            for (int r = 0; r < kRows; ++r)
              for (int t = 0; t < kTile; ++t) gmax[t] = std::max(gmax[t], std::fabs(c[r][t]));
          }
          for (int t = 0; t < count; ++t) grades(order_p[p0 + t]) = gmax[t];
        });
    Kokkos::fence();
  }

  // The largest |c| of each atom of a GPU tile (a team-level max over the coefficients l).
  struct TileMax {
    double v[kTile];
  };
  struct TileMaxReducer {
    using reducer = TileMaxReducer;
    using value_type = TileMax;
    using result_view_type = Kokkos::View<value_type, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
    value_type& value;
    KOKKOS_INLINE_FUNCTION explicit TileMaxReducer(value_type& v) : value(v) {}
    KOKKOS_INLINE_FUNCTION void join(value_type& dst, const value_type& src) const {
      for (int t = 0; t < kTile; ++t) dst.v[t] = dst.v[t] > src.v[t] ? dst.v[t] : src.v[t];
    }
    KOKKOS_INLINE_FUNCTION void init(value_type& v) const {
      for (int t = 0; t < kTile; ++t) v.v[t] = 0.0;
    }
    KOKKOS_INLINE_FUNCTION value_type& reference() const { return value; }
    KOKKOS_INLINE_FUNCTION result_view_type view() const { return result_view_type(&value); }
    KOKKOS_INLINE_FUNCTION bool references_scalar() const { return true; }
  };
  mutable Kokkos::View<int*, memory_space> tile_order_, tile_start_;  // kept between calls
  static constexpr int kTeamThreads = 128;

  // grades[i] = max_l |(row_i A^-1)_l| for each local atom (neighbourhood mode).
  // GPU: a team per tile of kTile atoms of one species (species_tiles; the species come to the
  // host for it, n_local ints), the tile's rows in team scratch, threads over l: each element
  // of the inverse read serves the tile's atoms. (A team per atom read the species' L x n
  // slice of the inverse, 2.8 MB at level 16, for every atom: +290 % of the force call at
  // 1440 atoms on the H200.)
  void neighborhood_grades(const Rows& rows, const int* species, int n_local, const Vector& grades) const {
    if constexpr (!kTransposed) {
      if (n_local > 0) neighborhood_grades_tiled(rows, species, n_local, grades);
      return;
    } else {
      std::vector<int> h_species(n_local);
      Kokkos::deep_copy(Kokkos::View<int*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(h_species.data(), n_local),
                        Kokkos::View<const int*, memory_space, Kokkos::MemoryUnmanaged>(species, n_local));
      const SpeciesTiles tiles = species_tiles(h_species.data(), n_local, kTile);
      const int n_tiles = int(tiles.start.size()) - 1;
      if (tile_order_.extent(0) < size_t(n_local)) tile_order_ = Kokkos::View<int*, memory_space>("mtp::tile_order", n_local);
      if (tile_start_.extent(0) < tiles.start.size()) {
        tile_start_ = Kokkos::View<int*, memory_space>("mtp::tile_start", tiles.start.size());
      }
      using HostInts = Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
      Kokkos::deep_copy(Kokkos::subview(tile_order_, std::make_pair(0, n_local)), HostInts(tiles.order.data(), n_local));
      Kokkos::deep_copy(Kokkos::subview(tile_start_, std::make_pair(size_t(0), tiles.start.size())),
                        HostInts(tiles.start.data(), tiles.start.size()));
      const long nn = n;
      const int blk = block, L = block + n_scalar;
      const long moment0 = long(n_species) * blk + n_species;
      const long species0 = long(n_species) * blk;
      auto M = matrix;
      auto order = tile_order_;
      auto start = tile_start_;
      using ScratchDoubles = Kokkos::View<double*, typename ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
      auto tile_grades = KOKKOS_LAMBDA(const team_member& t) {
            const int p0 = start(t.league_rank()), count = start(t.league_rank() + 1) - p0;
            const int s = species[order(p0)];
            const long radial0 = long(s) * blk;
            ScratchDoubles tile(t.team_scratch(0), size_t(L) * kTile);  // tile[k * kTile + atom]
            Kokkos::parallel_for(Kokkos::TeamThreadRange(t, L * kTile), [&](int e) {
              const int k = e / kTile, a = e % kTile;
              tile(e) = a < count ? rows(order(p0 + a), k) : 0.0;
            });
            t.team_barrier();
            TileMax g;
            Kokkos::parallel_reduce(
                Kokkos::TeamThreadRange(t, nn),
                [&](long l, TileMax& gmax) {
                  double c[kTile];
                  const double base = M(at(species0 + s, l, nn));
                  for (int a = 0; a < kTile; ++a) c[a] = base;
                  for (int k = 0; k < L; ++k) {
                    const double m = M(at(k < blk ? radial0 + k : moment0 + (k - blk), l, nn));
                    for (int a = 0; a < kTile; ++a) c[a] += tile(k * kTile + a) * m;
                  }
                  for (int a = 0; a < kTile; ++a) {
                    const double v = Kokkos::fabs(c[a]);
                    if (v > gmax.v[a]) gmax.v[a] = v;
                  }
                },
                TileMaxReducer(g));
            Kokkos::parallel_for(Kokkos::TeamThreadRange(t, count), [&](int a) { grades(order(p0 + a)) = g.v[a]; });
          };
      // kTeamThreads threads over the n coefficients, or as many as the backend allows (a host
      // team has as many as its pool: the test runs the team reduction with two).
      const auto scratch = Kokkos::PerTeam(ScratchDoubles::shmem_size(size_t(L) * kTile));
      const int most = Kokkos::TeamPolicy<ExecSpace>(n_tiles, 1).set_scratch_size(0, scratch).team_size_max(
          tile_grades, Kokkos::ParallelForTag());
      Kokkos::TeamPolicy<ExecSpace> policy(n_tiles, most < kTeamThreads ? most : kTeamThreads);
      Kokkos::parallel_for("mlpot::mtp_nbh_grades", policy.set_scratch_size(0, scratch), tile_grades);
    }
  }

  // [begin, end) of the nonzero stretches of a row (on the host, where the caller has it).
  static std::vector<int> nonzero_runs(const std::vector<double>& row) {
    std::vector<int> runs;
    for (size_t k = 0; k < row.size();) {
      if (row[k] == 0.0) {
        ++k;
        continue;
      }
      size_t e = k;
      while (e < row.size() && row[e] != 0.0) ++e;
      runs.push_back(int(k));
      runs.push_back(int(e));
      k = e;
    }
    return runs;
  }

  // max_l |(b A^-1)_l| of one full row b[n], given its nonzero_runs. The product streams the
  // n x n inverse (12.5 MB at level 16 with 6 species) and is bound by memory, so only the
  // columns k where b is nonzero are read: b is exactly zero in the radial blocks of species
  // pairs the configuration lacks.
  double row_grade(const Vector& b, const std::vector<int>& runs) const {
    const long nn = n;
    const int n_runs = int(runs.size()) / 2;
    if (runs_.extent(0) < runs.size()) runs_ = Kokkos::View<int*, memory_space>("mtp::row_runs", runs.size());
    Kokkos::deep_copy(Kokkos::subview(runs_, std::make_pair(size_t(0), runs.size())),
                      Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(
                          runs.data(), runs.size()));
    auto d_runs = runs_;
    auto M = matrix;
    double g = 0.0;
    Kokkos::parallel_reduce(
        "mlpot::mtp_row_grade", Kokkos::RangePolicy<ExecSpace>(0, nn),
        KOKKOS_LAMBDA(long l, double& gmax) {
          // Four independent sums: one would wait on each addition (latency-bound).
          double c0 = 0.0, c1 = 0.0, c2 = 0.0, c3 = 0.0;
          for (int r = 0; r < n_runs; ++r) {
            long k = d_runs(2 * r);
            const long e = d_runs(2 * r + 1);
            for (; k + 4 <= e; k += 4) {
              c0 += b(k) * M(at(k, l, nn));
              c1 += b(k + 1) * M(at(k + 1, l, nn));
              c2 += b(k + 2) * M(at(k + 2, l, nn));
              c3 += b(k + 3) * M(at(k + 3, l, nn));
            }
            for (; k < e; ++k) c0 += b(k) * M(at(k, l, nn));
          }
          const double a = Kokkos::fabs((c0 + c1) + (c2 + c3));
          if (a > gmax) gmax = a;
        },
        Kokkos::Max<double>(g));
    return g;
  }
};

}  // namespace mlpot::kokkos
