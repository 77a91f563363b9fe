#pragma once
// The radial bases of MLIP-3 (its basis.h/basis.cpp and the type names mtpr.cpp reads), each a
// type the MTP kernel is specialised on: the basis is fixed by the model, so the kernel holds
// no per-neighbour branch on it. Adding a basis means one struct here and one entry in
// RadialBases; everything else (the kernel, grades, the factory) takes it from that list.
//
// Every basis is Q_n(r) = scaling * e(r') P_n(r') with r' = r, or r' = max(r, min_dist) for the
// "_repuls" bases (constant below min_dist, so they add no force there: MLIP's repulsion is the
// value frozen at min_dist), and Q'_n = 0 where r <= min_dist for those. `scaling` is the
// model's global scaling with the basis-level one already multiplied in, as mtpr.cpp does.
//   e(r): (r - Rcut)^2 for the "RB" bases (smooth at the cutoff); 1 inside the cutoff for the
//         "B" bases and RBTaylor (as in MLIP, they do not vanish at the cutoff).
//   P_n:  Chebyshev T_n(xi), xi = (2r - (Rmin + Rcut)) / (Rcut - Rmin), or r^n (RBTaylor).
// RBShapeev (MLIP's tabulated polynomials in 1/r) is read but not evaluated: require_evaluable
// says so.
#include <Kokkos_Core.hpp>

namespace mlpot::kokkos {

// T_n(xi) and dT_n/dr for W lanes, n = 0, 1, 2, ... in turn (lanes innermost: SIMD over them).
template <int W>
struct ChebyshevRecursion {
  double xi[W], t_prev[W], t_cur[W], dt_prev[W], dt_cur[W], dxi;
  KOKKOS_INLINE_FUNCTION ChebyshevRecursion(const double* r, double min_dist, double max_dist) {
    const double inv_width = 1.0 / (max_dist - min_dist);
    dxi = 2.0 * inv_width;
    for (int l = 0; l < W; ++l) {
      xi[l] = (2.0 * r[l] - (min_dist + max_dist)) * inv_width;
      t_prev[l] = 1.0;
      t_cur[l] = xi[l];
      dt_prev[l] = 0.0;
      dt_cur[l] = 1.0;
    }
  }
  // P_n and dP_n/dr.
  KOKKOS_INLINE_FUNCTION void next(int n, double* tn, double* dtn) {
    for (int l = 0; l < W; ++l) {
      if (n == 0) {
        tn[l] = 1.0; dtn[l] = 0.0;
      } else if (n == 1) {
        tn[l] = xi[l]; dtn[l] = dxi;
      } else {
        const double t = 2.0 * xi[l] * t_cur[l] - t_prev[l];
        const double dt = 2.0 * t_cur[l] + 2.0 * xi[l] * dt_cur[l] - dt_prev[l];
        t_prev[l] = t_cur[l]; t_cur[l] = t; dt_prev[l] = dt_cur[l]; dt_cur[l] = dt;
        tn[l] = t; dtn[l] = dt * dxi;
      }
    }
  }
};

// r^n and n r^(n-1) for W lanes.
template <int W>
struct PowerRecursion {
  double r[W], p_prev[W];
  KOKKOS_INLINE_FUNCTION PowerRecursion(const double* x, double, double) {
    for (int l = 0; l < W; ++l) {
      r[l] = x[l];
      p_prev[l] = 1.0;
    }
  }
  KOKKOS_INLINE_FUNCTION void next(int n, double* pn, double* dpn) {
    for (int l = 0; l < W; ++l) {
      if (n == 0) {
        pn[l] = 1.0; dpn[l] = 0.0;
      } else {
        dpn[l] = n * p_prev[l];
        pn[l] = p_prev[l] * r[l];
        p_prev[l] = pn[l];
      }
    }
  }
};

// The bases: a name (as in the .mtp file), whether the (r - Rcut)^2 factor applies, whether r
// is clamped to min_dist, and the polynomial family.
struct BasisRBChebyshev {
  static constexpr const char* name = "RBChebyshev";
  static constexpr bool smooth_cutoff = true, clamp_below_min = false;
  template <int W> using Polynomials = ChebyshevRecursion<W>;
};
struct BasisRBChebyshevRepuls {
  static constexpr const char* name = "RBChebyshev_repuls";
  static constexpr bool smooth_cutoff = true, clamp_below_min = true;
  template <int W> using Polynomials = ChebyshevRecursion<W>;
};
struct BasisBChebyshev {
  static constexpr const char* name = "BChebyshev";
  static constexpr bool smooth_cutoff = false, clamp_below_min = false;
  template <int W> using Polynomials = ChebyshevRecursion<W>;
};
struct BasisBChebyshevRepuls {
  static constexpr const char* name = "BChebyshev_repuls";
  static constexpr bool smooth_cutoff = false, clamp_below_min = true;
  template <int W> using Polynomials = ChebyshevRecursion<W>;
};
struct BasisRBTaylor {
  static constexpr const char* name = "RBTaylor";
  static constexpr bool smooth_cutoff = false, clamp_below_min = false;
  template <int W> using Polynomials = PowerRecursion<W>;
};

template <class... B>
struct BasisList {};
using RadialBases = BasisList<BasisRBChebyshev, BasisRBChebyshevRepuls, BasisBChebyshev, BasisBChebyshevRepuls,
                              BasisRBTaylor>;

// Q_n and Q'_n of W lanes at distances r, n = 0, 1, ... in turn. Lanes at r >= Rcut (a block's
// padding) get Q = Q' = 0 for every basis.
template <class Basis, int W>
struct RadialBasisLanes {
  double rc[W], gate[W];  // r clamped to min_dist, and 0 where it was (the "_repuls" bases)
  typename Basis::template Polynomials<W> poly;
  double env[W], denv[W];
  KOKKOS_INLINE_FUNCTION const double* clamp(const double* r, double min_dist) {
    if constexpr (Basis::clamp_below_min) {
      for (int l = 0; l < W; ++l) {
        const bool below = r[l] <= min_dist;  // MLIP: derivatives 0 once r is clamped to min_dist
        rc[l] = below ? min_dist : r[l];
        gate[l] = below ? 0.0 : 1.0;
      }
      return rc;
    } else {
      (void)min_dist;
      return r;
    }
  }
  KOKKOS_INLINE_FUNCTION RadialBasisLanes(const double* r, double min_dist, double max_dist, double scaling)
      : poly(clamp(r, min_dist), min_dist, max_dist) {
    const double* x = Basis::clamp_below_min ? rc : r;
    for (int l = 0; l < W; ++l) {
      if constexpr (Basis::smooth_cutoff) {
        const double w = x[l] - max_dist;
        env[l] = w * w * scaling;
        denv[l] = 2.0 * w * scaling;
      } else {
        env[l] = r[l] < max_dist ? scaling : 0.0;
        denv[l] = 0.0;
      }
      if constexpr (Basis::clamp_below_min) denv[l] *= gate[l];
    }
  }
  KOKKOS_INLINE_FUNCTION void next(int n, double* q, double* dq) {
    double pn[W], dpn[W];
    poly.next(n, pn, dpn);
    for (int l = 0; l < W; ++l) {
      q[l] = env[l] * pn[l];
      if constexpr (Basis::clamp_below_min) {
        dq[l] = denv[l] * pn[l] + env[l] * gate[l] * dpn[l];
      } else if constexpr (Basis::smooth_cutoff) {
        dq[l] = denv[l] * pn[l] + env[l] * dpn[l];
      } else {
        dq[l] = env[l] * dpn[l];
      }
    }
  }
};

}  // namespace mlpot::kokkos
