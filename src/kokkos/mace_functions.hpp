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

template <class Real>
KOKKOS_INLINE_FUNCTION Real sigmoid(Real z) {
  return Real(1) / (Real(1) + Kokkos::exp(-z));
}

}  // namespace mlpot::kokkos::mace
