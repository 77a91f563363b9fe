#pragma once
// The scalar functions of MACE, for every Kokkos execution space and both precisions: e3nn's
// real spherical harmonics (component normalisation) with their gradients, the Bessel radial
// basis with MACE's polynomial cutoff envelope, and SiLU.
#include <Kokkos_Core.hpp>

namespace mlpot::kokkos::mace {

// A value with its gradient by the three components of the unit vector (forward mode), so the
// spherical harmonics are written once, exactly as e3nn writes them, and differentiated exactly.
template <class Real>
struct Dual3 {
  Real v, d[3];
  KOKKOS_INLINE_FUNCTION Dual3(Real value = 0) : v(value), d{0, 0, 0} {}
  KOKKOS_INLINE_FUNCTION Dual3(Real value, int axis) : v(value), d{0, 0, 0} { d[axis] = 1; }
};
template <class R>
KOKKOS_INLINE_FUNCTION Dual3<R> operator+(const Dual3<R>& a, const Dual3<R>& b) {
  Dual3<R> r(a.v + b.v);
  for (int k = 0; k < 3; ++k) r.d[k] = a.d[k] + b.d[k];
  return r;
}
template <class R>
KOKKOS_INLINE_FUNCTION Dual3<R> operator-(const Dual3<R>& a, const Dual3<R>& b) {
  Dual3<R> r(a.v - b.v);
  for (int k = 0; k < 3; ++k) r.d[k] = a.d[k] - b.d[k];
  return r;
}
template <class R>
KOKKOS_INLINE_FUNCTION Dual3<R> operator*(const Dual3<R>& a, const Dual3<R>& b) {
  Dual3<R> r(a.v * b.v);
  for (int k = 0; k < 3; ++k) r.d[k] = a.d[k] * b.v + a.v * b.d[k];
  return r;
}
template <class R>
KOKKOS_INLINE_FUNCTION Dual3<R> operator*(R s, const Dual3<R>& a) {
  Dual3<R> r(s * a.v);
  for (int k = 0; k < 3; ++k) r.d[k] = s * a.d[k];
  return r;
}

// Y[l*l + m] for l <= lmax <= 3 of the edge vector v, e3nn's SphericalHarmonics(normalize=True,
// normalization="component") (e3nn.o3._spherical_harmonics, times sqrt(2l+1)), and dY[.][a] =
// dY/dv_a. Returns |v|.
template <class Real>
KOKKOS_INLINE_FUNCTION Real spherical_harmonics(int lmax, const Real v[3], Real* Y, Real (*dY)[3]) {
  using D = Dual3<Real>;
  const Real r = Kokkos::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  // e3nn normalises with torch.nn.functional.normalize: v / max(|v|, 1e-12).
  const Real inv = Real(1) / (r > Real(1e-12) ? r : Real(1e-12));
  const Real u[3] = {v[0] * inv, v[1] * inv, v[2] * inv};
  D out[16];
  const D x(u[0], 0), y(u[1], 1), z(u[2], 2);
  out[0] = D(1);
  if (lmax >= 1) {
    out[1] = x;
    out[2] = y;
    out[3] = z;
  }
  const Real s3 = Kokkos::sqrt(Real(3));
  D sh20, sh24, y2, x2z2;
  if (lmax >= 2) {
    sh20 = s3 * (x * z);
    y2 = y * y;
    x2z2 = x * x + z * z;
    sh24 = (s3 / Real(2)) * (z * z - x * x);
    out[4] = sh20;
    out[5] = s3 * (x * y);
    out[6] = y2 - Real(0.5) * x2z2;
    out[7] = s3 * (y * z);
    out[8] = sh24;
  }
  if (lmax >= 3) {
    const Real a = Kokkos::sqrt(Real(5) / Real(6)), b = Kokkos::sqrt(Real(5)), c = Kokkos::sqrt(Real(3) / Real(8));
    out[9] = a * (sh20 * z + sh24 * x);
    out[10] = b * (sh20 * y);
    out[11] = c * ((Real(4) * y2 - x2z2) * x);
    out[12] = Real(0.5) * (y * (Real(2) * y2 - Real(3) * x2z2));
    out[13] = c * (z * (Real(4) * y2 - x2z2));
    out[14] = b * (sh24 * y);
    out[15] = a * (sh24 * z - sh20 * x);
  }
  // du/dv = (I - u u^T) / |v|
  for (int l = 0; l <= lmax; ++l) {
    const Real norm = Kokkos::sqrt(Real(2 * l + 1));
    for (int k = l * l; k < (l + 1) * (l + 1); ++k) {
      Y[k] = norm * out[k].v;
      const Real gu = out[k].d[0] * u[0] + out[k].d[1] * u[1] + out[k].d[2] * u[2];
      for (int a2 = 0; a2 < 3; ++a2) dY[k][a2] = norm * (out[k].d[a2] - gu * u[a2]) * inv;
    }
  }
  return r;
}

// MACE's PolynomialCutoff envelope of order p at x = r / r_max (zero from r_max on) and d/dr.
template <class Real>
KOKKOS_INLINE_FUNCTION void polynomial_cutoff(Real r, Real r_max, Real p, Real& f, Real& df) {
  if (r >= r_max) {
    f = 0;
    df = 0;
    return;
  }
  const Real x = r / r_max;
  const Real xp = Kokkos::pow(x, p);  // x^p, as torch.pow
  const Real a = (p + 1) * (p + 2) / Real(2), b = p * (p + 2), c = p * (p + 1) / Real(2);
  f = Real(1) - a * xp + b * xp * x - c * xp * x * x;
  // d/dx of x^p, x^(p+1), x^(p+2) without dividing by x (x = 0 is allowed)
  const Real xpm1 = Kokkos::pow(x, p - Real(1));
  df = (-a * p * xpm1 + b * (p + 1) * xp - c * (p + 2) * xp * x) / r_max;
}

// The radial bases MACE offers (mace_native::Model::basis), function n (0-based) at x, with its
// first and second derivatives by x:
//   Bessel:    param sin(w x) / x               (param: the prefactor, w: bessel_weights[n])
//   Gaussian:  exp(param (x - w)^2)             (param: the coefficient, w: the centre)
//   Chebyshev: T_{n+1}(x), the value as torch.special.chebyshev_polynomial_t computes it, and
//              derivatives 0: that torch function has no gradient (its output does not require
//              grad), so mace-torch's forces and virials, and the training forces of such a
//              model, treat the basis as constant in r. Reproduced here, as the LibTorch runner
//              does; those forces are not the energy's derivative (docs/mace.md).
enum RadialBasisKind { kBessel = 0, kGaussian = 1, kChebyshev = 2 };
KOKKOS_INLINE_FUNCTION void radial_basis(int kind, int n, double w, double param, double x, double& b, double& db,
                                         double& ddb) {
  if (kind == kGaussian) {
    const double d = x - w, g = Kokkos::exp(param * d * d), t = 2 * param * d;
    b = g;
    db = t * g;
    ddb = (2 * param + t * t) * g;
  } else if (kind == kChebyshev) {
    // T_k by the recurrence T_{k+1} = 2 x T_k - T_{k-1}, as torch does outside (-1, 1)
    const int order = n + 1;
    double t0 = 1, t1 = x;
    for (int k = 1; k < order; ++k) {
      const double t2 = (x + x) * t1 - t0;
      t0 = t1, t1 = t2;
    }
    b = (order > 6 && Kokkos::abs(x) < 1) ? Kokkos::cos(order * Kokkos::acos(x)) : t1;
    db = 0;
    ddb = 0;
  } else {
    const double s = Kokkos::sin(w * x), c = Kokkos::cos(w * x);
    b = param * (s / x);
    db = param * (w * c / x - s / (x * x));
    ddb = param * (-w * w * s / x - 2 * w * c / (x * x) + 2 * s / (x * x * x));
  }
}

template <class Real>
KOKKOS_INLINE_FUNCTION Real sigmoid(Real z) {
  return Real(1) / (Real(1) + Kokkos::exp(-z));
}

// d/dz of scale * SiLU(z) = scale * z * sigmoid(z), for the readouts' adjoints.
template <class Real>
KOKKOS_INLINE_FUNCTION Real silu_slope(Real z, Real scale) {
  const Real sg = sigmoid(z);
  return scale * sg * (Real(1) + z * (Real(1) - sg));
}

}  // namespace mlpot::kokkos::mace
