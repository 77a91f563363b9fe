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

#include "mtp_kernel.hpp"

namespace mlpot::kokkos {

template <class ExecSpace>
struct MtpGrades {
  using memory_space = typename ExecSpace::memory_space;
  using Rows = Kokkos::View<double**, typename MtpTuning<ExecSpace>::grade_rows_layout, memory_space>;
  using Vector = Kokkos::View<double*, memory_space>;
  using team_member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;
  static constexpr bool kTransposed = MtpTuning<ExecSpace>::grade_matrix_transposed;

  long n = 0;     // parameters
  int block = 0;  // C*K*R, one species' radial block
  int n_species = 0, n_scalar = 0;
  Vector matrix;  // [n*n], see at()

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

  // grades[i] = max_l |(row_i A^-1)_l| for each local atom (neighbourhood mode).
  void neighborhood_grades(const Rows& rows, const int* species, int n_local, const Vector& grades) const {
    const long nn = n;
    const int blk = block, ns = n_scalar;
    const long moment0 = long(n_species) * blk + n_species;
    const long species0 = long(n_species) * blk;
    auto M = matrix;
    Kokkos::parallel_for(
        "mlpot::mtp_nbh_grades", Kokkos::TeamPolicy<ExecSpace>(n_local, Kokkos::AUTO),
        KOKKOS_LAMBDA(const team_member& t) {
          const int i = t.league_rank();
          const int s = species[i];
          const long radial0 = long(s) * blk;
          double g = 0.0;
          Kokkos::parallel_reduce(
              Kokkos::TeamThreadRange(t, nn),
              [&](long l, double& gmax) {
                double c = M(at(species0 + s, l, nn));
                for (int k = 0; k < blk; ++k) c += rows(i, k) * M(at(radial0 + k, l, nn));
                for (int q = 0; q < ns; ++q) c += rows(i, blk + q) * M(at(moment0 + q, l, nn));
                const double a = Kokkos::fabs(c);
                if (a > gmax) gmax = a;
              },
              Kokkos::Max<double>(g));
          Kokkos::single(Kokkos::PerTeam(t), [&]() { grades(i) = g; });
        });
  }

  // max_l |(b A^-1)_l| of one full row b[n].
  double row_grade(const Vector& b) const {
    const long nn = n;
    auto M = matrix;
    double g = 0.0;
    Kokkos::parallel_reduce(
        "mlpot::mtp_row_grade", Kokkos::RangePolicy<ExecSpace>(0, nn),
        KOKKOS_LAMBDA(long l, double& gmax) {
          double c = 0.0;
          for (long k = 0; k < nn; ++k) c += b(k) * M(at(k, l, nn));
          const double a = Kokkos::fabs(c);
          if (a > gmax) gmax = a;
        },
        Kokkos::Max<double>(g));
    return g;
  }
};

}  // namespace mlpot::kokkos
