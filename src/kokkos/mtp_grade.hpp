#pragma once
// Extrapolation grades from the per-atom parameter gradients that MtpKernel forms
// (param_rows), written once for every Kokkos execution space.
//
// Full parameter rows have MLIP's layout [radial C*C*K*R | species C | moment n_scalar]; an atom
// of species s only touches its own radial block s*C*K*R .. (s+1)*C*K*R, its species entry and
// the moment part, so its compact row has L = C*K*R + n_scalar entries.
// inv_at[k*n + l] = (A^-1)[k][l] = MLIP's inv_A[l][k]: threads over l read consecutive memory.
#include <Kokkos_Core.hpp>

namespace mlpot::kokkos {

template <class ExecSpace>
struct MtpGrades {
  using memory_space = typename ExecSpace::memory_space;
  using Rows = Kokkos::View<double**, Kokkos::LayoutRight, memory_space>;
  using Vector = Kokkos::View<double*, memory_space>;
  using team_member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;

  long n = 0;              // parameters
  int block = 0;           // C*K*R, one species' radial block
  int n_species = 0, n_scalar = 0;
  Vector inv_at;           // [n*n]

  long species_column(int s) const { return long(n_species) * block + s; }

  // Full energy-gradient row b[n] = sum over local atoms of their rows.
  void energy_gradient(const Rows& rows, const int* species, int n_local, const Vector& b) const {
    const int C = n_species;
    const long radial_end = long(C) * block, n_cols = n;
    const int blk = block;
    Kokkos::parallel_for(
        "mlpot::mtp_energy_gradient", Kokkos::TeamPolicy<ExecSpace>(n_cols, Kokkos::AUTO),
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
                Kokkos::TeamThreadRange(t, n_local), [&](int i, double& acc) { acc += species[i] == s ? 1.0 : 0.0; },
                sum);
          } else {
            const int k = blk + int(c - radial_end - C);
            Kokkos::parallel_reduce(Kokkos::TeamThreadRange(t, n_local), [&](int i, double& acc) { acc += rows(i, k); },
                                    sum);
          }
          Kokkos::single(Kokkos::PerTeam(t), [&]() { b(c) = sum; });
        });
  }

  // grades[i] = max_l |(row_i A^-1)_l| for each local atom (neighbourhood mode).
  void neighborhood_grades(const Rows& rows, const int* species, int n_local, const Vector& grades) const {
    const long nn = n;
    const int blk = block, ns = n_scalar;
    const long moment0 = long(n_species) * blk + n_species;
    const long species0 = long(n_species) * blk;
    auto M = inv_at;
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
                double c = M((species0 + s) * nn + l);
                for (int k = 0; k < blk; ++k) c += rows(i, k) * M((radial0 + k) * nn + l);
                for (int q = 0; q < ns; ++q) c += rows(i, blk + q) * M((moment0 + q) * nn + l);
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
    auto M = inv_at;
    double g = 0.0;
    Kokkos::parallel_reduce(
        "mlpot::mtp_row_grade", Kokkos::RangePolicy<ExecSpace>(0, nn),
        KOKKOS_LAMBDA(long l, double& gmax) {
          double c = 0.0;
          for (long k = 0; k < nn; ++k) c += b(k) * M(k * nn + l);
          const double a = Kokkos::fabs(c);
          if (a > gmax) gmax = a;
        },
        Kokkos::Max<double>(g));
    return g;
  }
};

}  // namespace mlpot::kokkos
