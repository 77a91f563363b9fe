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
//         "B" bases and RBTaylor (as in MLIP, they do not vanish at the cutoff);
//         (Rmin / r)^2 ((Rcut - r) / (Rcut - Rmin))^2 for RBShapeev.
//   P_n:  Chebyshev T_n(xi), xi = (2r - (Rmin + Rcut)) / (Rcut - Rmin); r^n (RBTaylor);
//         c_n P_n^(5,1)(xi), the Jacobi polynomial, c_n = sqrt((2n + 7)(n + 6) / (8 (n + 1)^3))
//         (RBShapeev).
// RBShapeev: MLIP-3 (basis.cpp) evaluates its functions as sums of powers r^-2 .. r^n with
// closed-form coefficients for n < 12. Those sums are exactly the functions above (checked
// symbolically for every n), which are orthogonal on [Rmin, Rcut] with the weight
// r^4 (r - Rmin)(Rcut - r); their polynomial parts q_n = c_n P_n^(5,1) have
// int_0^1 q_n^2 t (1 - t)^5 dt = 1 / (8 (n + 1)^2), t = (r - Rmin) / (Rcut - Rmin). Evaluated here by
// the Jacobi recurrence, they are free of the cancellation in MLIP's sums of large powers
// (which costs MLIP about 1e-10 of a function's value at n = 7 on [1, 5] A): the two agree to
// MLIP's round-off, not bit for bit.
#include <Kokkos_Core.hpp>

namespace mlpot::kokkos {

// T_n(xi) and dT_n/dr for W lanes, n = 0, 1, 2, ... in turn (lanes innermost: SIMD over them),
// in the arithmetic of T (double, or float in the mixed-precision kernel; the interval's
// constants are formed in double and rounded once).
template <int W, class T = double>
struct ChebyshevRecursion {
  T xi[W], t_prev[W], t_cur[W], dt_prev[W], dt_cur[W], dxi;
  KOKKOS_INLINE_FUNCTION ChebyshevRecursion(const T* r, double min_dist, double max_dist) {
    const T inv_width = T(1.0 / (max_dist - min_dist));
    const T mid = T(min_dist + max_dist);
    dxi = T(2.0 * (1.0 / (max_dist - min_dist)));
    for (int l = 0; l < W; ++l) {
      xi[l] = (T(2) * r[l] - mid) * inv_width;
      t_prev[l] = T(1);
      t_cur[l] = xi[l];
      dt_prev[l] = T(0);
      dt_cur[l] = T(1);
    }
  }
  // P_n and dP_n/dr.
  KOKKOS_INLINE_FUNCTION void next(int n, T* tn, T* dtn) {
    for (int l = 0; l < W; ++l) {
      if (n == 0) {
        tn[l] = T(1); dtn[l] = T(0);
      } else if (n == 1) {
        tn[l] = xi[l]; dtn[l] = dxi;
      } else {
        const T t = T(2) * xi[l] * t_cur[l] - t_prev[l];
        const T dt = T(2) * t_cur[l] + T(2) * xi[l] * dt_cur[l] - dt_prev[l];
        t_prev[l] = t_cur[l]; t_cur[l] = t; dt_prev[l] = dt_cur[l]; dt_cur[l] = dt;
        tn[l] = t; dtn[l] = dt * dxi;
      }
    }
  }
};

// r^n and n r^(n-1) for W lanes.
template <int W, class T = double>
struct PowerRecursion {
  T r[W], p_prev[W];
  KOKKOS_INLINE_FUNCTION PowerRecursion(const T* x, double, double) {
    for (int l = 0; l < W; ++l) {
      r[l] = x[l];
      p_prev[l] = T(1);
    }
  }
  KOKKOS_INLINE_FUNCTION void next(int n, T* pn, T* dpn) {
    for (int l = 0; l < W; ++l) {
      if (n == 0) {
        pn[l] = T(1); dpn[l] = T(0);
      } else {
        dpn[l] = T(n) * p_prev[l];
        pn[l] = p_prev[l] * r[l];
        p_prev[l] = pn[l];
      }
    }
  }
};

// c_n P_n^(5,1)(xi) and its derivative in r for W lanes (RBShapeev), by the three-term
// recurrence of Jacobi polynomials (alpha = 5, beta = 1): with k = n - 1,
//   2(k+1)(k+7)(2k+6) P_{k+1} = (2k+7)((2k+8)(2k+6) xi + 24) P_k - 2(k+5)(k+1)(2k+8) P_{k-1}.
template <int W, class T = double>
struct ShapeevJacobiRecursion {
  T xi[W], p_prev[W], p_cur[W], dp_prev[W], dp_cur[W], dxi;
  KOKKOS_INLINE_FUNCTION ShapeevJacobiRecursion(const T* r, double min_dist, double max_dist) {
    const T inv_width = T(1.0 / (max_dist - min_dist));
    const T mid = T(min_dist + max_dist);
    dxi = T(2.0 * (1.0 / (max_dist - min_dist)));
    for (int l = 0; l < W; ++l) {
      xi[l] = (T(2) * r[l] - mid) * inv_width;
      p_prev[l] = T(0);  // P_-1
      p_cur[l] = T(1);   // P_0
      dp_prev[l] = dp_cur[l] = T(0);
    }
  }
  KOKKOS_INLINE_FUNCTION void next(int n, T* pn, T* dpn) {
    // The recurrence's constants in double, rounded once to T.
    const T c = T(Kokkos::sqrt((2.0 * n + 7.0) * (n + 6.0) / (8.0 * (n + 1.0) * (n + 1.0) * (n + 1.0))));
    if (n > 0) {
      const double k = n - 1.0;
      const double inv = 1.0 / (2.0 * (k + 1.0) * (k + 7.0) * (2.0 * k + 6.0));
      const T a = T((2.0 * k + 7.0) * (2.0 * k + 8.0) * (2.0 * k + 6.0) * inv), b = T((2.0 * k + 7.0) * 24.0 * inv);
      const T d = T(2.0 * (k + 5.0) * (k + 1.0) * (2.0 * k + 8.0) * inv);
      for (int l = 0; l < W; ++l) {
        const T p = (a * xi[l] + b) * p_cur[l] - d * p_prev[l];
        const T dp = a * p_cur[l] + (a * xi[l] + b) * dp_cur[l] - d * dp_prev[l];
        p_prev[l] = p_cur[l]; p_cur[l] = p; dp_prev[l] = dp_cur[l]; dp_cur[l] = dp;
      }
    }
    for (int l = 0; l < W; ++l) {
      pn[l] = c * p_cur[l];
      dpn[l] = c * dp_cur[l] * dxi;
    }
  }
};

// What multiplies the polynomials (see the top of this file).
enum class Envelope { CutoffSquare, Step, Shapeev };

// MLIP-3's RBChebyshev_repuls (and only that basis) also adds a pair term to each site energy for
// every neighbour closer than min_dist (mtpr.cpp, CalcSiteEnergyDers, "repulsive term"):
//   phi(r) = 1e4 (exp(-10 (r - 1)) - exp(-10 (min_dist - 1))),  r in A,
// 0 at min_dist and steep below it, so atoms are pushed apart where the basis is frozen. It does
// not depend on the fitted coefficients (no part of the extrapolation grade).
struct MlipRepulsion {
  KOKKOS_INLINE_FUNCTION static void eval(double r, double min_dist, double& phi, double& dphi) {
    if (r < min_dist) {
      const double x = 1e4 * Kokkos::exp(-10.0 * (r - 1.0));
      phi = x - 1e4 * Kokkos::exp(-10.0 * (min_dist - 1.0));
      dphi = -10.0 * x;
    } else {
      phi = dphi = 0.0;
    }
  }
};

// The bases: a name (as in the .mtp file), the envelope, whether r is clamped to min_dist, whether
// MLIP's pair repulsion is added, and the polynomial family.
struct BasisRBChebyshev {
  static constexpr const char* name = "RBChebyshev";
  static constexpr Envelope envelope = Envelope::CutoffSquare;
  static constexpr bool clamp_below_min = false, pair_repulsion = false;
  template <int W, class T> using Polynomials = ChebyshevRecursion<W, T>;
};
struct BasisRBChebyshevRepuls {
  static constexpr const char* name = "RBChebyshev_repuls";
  static constexpr Envelope envelope = Envelope::CutoffSquare;
  static constexpr bool clamp_below_min = true, pair_repulsion = true;
  template <int W, class T> using Polynomials = ChebyshevRecursion<W, T>;
};
struct BasisBChebyshev {
  static constexpr const char* name = "BChebyshev";
  static constexpr Envelope envelope = Envelope::Step;
  static constexpr bool clamp_below_min = false, pair_repulsion = false;
  template <int W, class T> using Polynomials = ChebyshevRecursion<W, T>;
};
struct BasisBChebyshevRepuls {
  static constexpr const char* name = "BChebyshev_repuls";
  static constexpr Envelope envelope = Envelope::Step;
  static constexpr bool clamp_below_min = true, pair_repulsion = false;
  template <int W, class T> using Polynomials = ChebyshevRecursion<W, T>;
};
struct BasisRBShapeev {
  static constexpr const char* name = "RBShapeev";
  static constexpr Envelope envelope = Envelope::Shapeev;
  static constexpr bool clamp_below_min = false, pair_repulsion = false;
  template <int W, class T> using Polynomials = ShapeevJacobiRecursion<W, T>;
};
struct BasisRBTaylor {
  static constexpr const char* name = "RBTaylor";
  static constexpr Envelope envelope = Envelope::Step;
  static constexpr bool clamp_below_min = false, pair_repulsion = false;
  template <int W, class T> using Polynomials = PowerRecursion<W, T>;
};

template <class... B>
struct BasisList {};
using RadialBases = BasisList<BasisRBChebyshev, BasisRBChebyshevRepuls, BasisBChebyshev, BasisBChebyshevRepuls,
                              BasisRBShapeev, BasisRBTaylor>;

// Q_n and Q'_n of W lanes at distances r, n = 0, 1, ... in turn, in the arithmetic of T. Lanes at
// r >= Rcut (a block's padding) get Q = Q' = 0 for every basis.
template <class Basis, int W, class T = double>
struct RadialBasisLanes {
  T rc[W], gate[W];  // r clamped to min_dist, and 0 where it was (the "_repuls" bases)
  typename Basis::template Polynomials<W, T> poly;
  T env[W], denv[W];
  KOKKOS_INLINE_FUNCTION const T* clamp(const T* r, double min_dist) {
    if constexpr (Basis::clamp_below_min) {
      for (int l = 0; l < W; ++l) {
        const bool below = r[l] <= T(min_dist);  // MLIP: derivatives 0 once r is clamped to min_dist
        rc[l] = below ? T(min_dist) : r[l];
        gate[l] = below ? T(0) : T(1);
      }
      return rc;
    } else {
      (void)min_dist;
      return r;
    }
  }
  KOKKOS_INLINE_FUNCTION RadialBasisLanes(const T* r, double min_dist, double max_dist, double scaling)
      : poly(clamp(r, min_dist), min_dist, max_dist) {
    const T* x = Basis::clamp_below_min ? rc : r;
    const T rcut = T(max_dist), s = T(scaling);
    for (int l = 0; l < W; ++l) {
      if constexpr (Basis::envelope == Envelope::CutoffSquare) {
        const T w = x[l] - rcut;
        env[l] = w * w * s;
        denv[l] = T(2) * w * s;
      } else if constexpr (Basis::envelope == Envelope::Shapeev) {
        // e = s (m/r)^2 (M-r)^2 / (M-m)^2, e' = -2 s m^2 M (M-r) / ((M-m)^2 r^3); 0 beyond the cutoff.
        const T inside = r[l] < rcut ? s : T(0);
        const T inv_r = T(1) / x[l], w = rcut - x[l];
        const T k = T(min_dist) * inv_r / T(max_dist - min_dist);
        env[l] = inside * k * k * w * w;
        denv[l] = T(-2) * inside * k * k * inv_r * rcut * w;
      } else {
        env[l] = r[l] < rcut ? s : T(0);
        denv[l] = T(0);
      }
      if constexpr (Basis::clamp_below_min) denv[l] *= gate[l];
    }
  }
  KOKKOS_INLINE_FUNCTION void next(int n, T* q, T* dq) {
    T pn[W], dpn[W];
    poly.next(n, pn, dpn);
    for (int l = 0; l < W; ++l) {
      q[l] = env[l] * pn[l];
      if constexpr (Basis::clamp_below_min) {
        dq[l] = denv[l] * pn[l] + env[l] * gate[l] * dpn[l];
      } else if constexpr (Basis::envelope != Envelope::Step) {
        dq[l] = denv[l] * pn[l] + env[l] * dpn[l];
      } else {
        dq[l] = env[l] * dpn[l];
      }
    }
  }
};

}  // namespace mlpot::kokkos
