#pragma once
// The radial MLP of a MACE interaction as a table over the edge length r.
//
// The MLP (Bessel basis, polynomial envelope, e3nn FullyConnectedNet with SiLU) depends on r
// alone, so the tensor-product weights w(r) (times the envelope when the model applies it to the
// MLP's outputs) are tabulated once per model: at equally spaced knots the exact value, first and
// second derivative, computed here in double precision by second-order forward-mode
// differentiation of the network, and between knots the quintic Hermite interpolant (stored per
// interval as polynomial coefficients, HostRadialTable). That turns
// ~1e5 multiply-adds per edge and layer (the seed architecture) into ~6 per weight.
//
// The knot spacing is chosen per layer: refined until the interpolant's value and derivative,
// measured against the exact network at 1/4, 1/2 and 3/4 of every interval, are within
// `tolerance` of the largest |w| and |dw/dr| over the range (the achieved error is kept in
// `error`). Below `r_lo` (unphysically short bonds) the kernels evaluate the network exactly.
#include <algorithm>
#include <cmath>
#include <vector>

#include "mace_functions.hpp"
#include "mace_model.hpp"

namespace mlpot::kokkos::mace {

// Where the tables start: below a tenth of the cutoff (0.5 A for r_max = 5 A) no bond is physical,
// and sin(kr)/r would need its limit at r = 0.
inline double radial_table_r_lo(double r_max) { return 0.1 * r_max; }

// The edge weights the tensor product uses: w(r) times the envelope when the model applies it to
// the MLP's outputs (apply_cutoff=False), and their derivatives by r, exactly, in double.
class HostRadialNetwork {
 public:
  HostRadialNetwork(const mace_native::Model& m, const mace_native::Layer& layer) : m_(m), layer_(layer) {}

  int n_weights() const { return layer_.n_weights; }

  // w, dw, ddw: [n_weights] each
  void eval(double r, double* w, double* dw, double* ddw) const {
    const int nb = int(m_.bessel_w.size());
    std::vector<double> f(nb), df(nb), ddf(nb);
    double e, de, dde;
    envelope(r, e, de, dde);
    for (int n = 0; n < nb; ++n) {
      double b, db, ddb;
      radial_basis(m_.basis, n, m_.bessel_w[n], m_.basis == kGaussian ? m_.gaussian_coeff : m_.bessel_prefactor, r,
                   b, db, ddb);
      if (m_.cutoff_on_basis) {
        f[n] = b * e;
        df[n] = db * e + b * de;
        ddf[n] = ddb * e + 2 * db * de + b * dde;
      } else {
        f[n] = b, df[n] = db, ddf[n] = ddb;
      }
    }
    for (const auto& L : layer_.radial_mlp) {
      std::vector<double> z(L.n_out, 0.0), dz(L.n_out, 0.0), ddz(L.n_out, 0.0);
      for (int i = 0; i < L.n_in; ++i) {
        const double* row = &L.w[size_t(i) * L.n_out];
        for (int j = 0; j < L.n_out; ++j) {
          z[j] += f[i] * row[j];
          dz[j] += df[i] * row[j];
          ddz[j] += ddf[i] * row[j];
        }
      }
      if (L.act) {
        for (int j = 0; j < L.n_out; ++j) {
          // y = a silu(z): y' = a silu'(z) z', y'' = a (silu''(z) z'^2 + silu'(z) z'')
          const double sg = 1.0 / (1.0 + std::exp(-z[j]));
          const double s1 = sg * (1 + z[j] * (1 - sg)), s2 = sg * (1 - sg) * (2 + z[j] * (1 - 2 * sg));
          const double a = L.act_scale;
          ddz[j] = a * (s2 * dz[j] * dz[j] + s1 * ddz[j]);
          dz[j] = a * s1 * dz[j];
          z[j] = a * z[j] * sg;
        }
      }
      f.swap(z), df.swap(dz), ddf.swap(ddz);
    }
    for (int j = 0; j < layer_.n_weights; ++j) {
      if (m_.cutoff_on_basis) {
        w[j] = f[j], dw[j] = df[j], ddw[j] = ddf[j];
      } else {
        w[j] = f[j] * e;
        dw[j] = df[j] * e + f[j] * de;
        ddw[j] = ddf[j] * e + 2 * df[j] * de + f[j] * dde;
      }
    }
  }

 private:
  const mace_native::Model& m_;
  const mace_native::Layer& layer_;

  // MACE's PolynomialCutoff and its first two derivatives by r (zero from r_max on).
  void envelope(double r, double& e, double& de, double& dde) const {
    const double rm = m_.r_max, p = m_.cutoff_p;
    if (r >= rm) {
      e = de = dde = 0;
      return;
    }
    const double x = r / rm, a = (p + 1) * (p + 2) / 2, b = p * (p + 2), c = p * (p + 1) / 2;
    const double xp = std::pow(x, p);
    e = 1 - a * xp + b * xp * x - c * xp * x * x;
    de = (-a * p * std::pow(x, p - 1) + b * (p + 1) * xp - c * (p + 2) * xp * x) / rm;
    dde = (-a * p * (p - 1) * std::pow(x, p - 2) + b * (p + 1) * p * std::pow(x, p - 1) - c * (p + 2) * (p + 1) * xp) /
          (rm * rm);
  }
};

// A layer's table on the host: knots r_lo + k h, k = 0..n_knots-1 (the last at r_max). Each
// interval holds its quintic Hermite interpolant as a polynomial in s = (r - r_k) / h,
// c0 + c1 s + ... + c5 s^5, [interval][6][n_weights]. The coefficients are formed here in double
// from both knots' value, h * first and h^2 * second derivative, so the kernels evaluate each
// weight and its derivative by Horner's rule without the cancellation that combining the two
// knots' data in float32 would bring (a loss of ~1/(h k) in the derivative).
struct HostRadialTable {
  double r_lo = 0, h = 0;
  int n_knots = 0, n_weights = 0;
  std::vector<double> coeff;  // [n_knots - 1][6][n_weights]
  double error = 0;           // achieved max error relative to the largest |w| (and |dw/dr|)
  bool ok = false;            // within the tolerance (else the kernels evaluate the network)

  // knot: [n_knots][3][n_weights] values, h * first, h^2 * second derivatives
  void set_from_knots(const std::vector<double>& knot) {
    const size_t nw = size_t(n_weights);
    coeff.assign(size_t(n_knots - 1) * 6 * nw, 0.0);
    for (int k = 0; k + 1 < n_knots; ++k) {
      const double* A = &knot[size_t(k) * 3 * nw];
      const double* B = A + 3 * nw;
      double* c = &coeff[size_t(k) * 6 * nw];
      for (size_t j = 0; j < nw; ++j) {
        const double f0 = A[j], a1 = A[nw + j], a2 = A[2 * nw + j], f1 = B[j], b1 = B[nw + j], b2 = B[2 * nw + j];
        const double d = f1 - f0;
        c[j] = f0;
        c[nw + j] = a1;
        c[2 * nw + j] = 0.5 * a2;
        c[3 * nw + j] = 10 * d - 6 * a1 - 4 * b1 - 1.5 * a2 + 0.5 * b2;
        c[4 * nw + j] = -15 * d + 8 * a1 + 7 * b1 + 1.5 * a2 - b2;
        c[5 * nw + j] = 6 * d - 3 * a1 - 3 * b1 - 0.5 * a2 + 0.5 * b2;
      }
    }
  }

  void interpolate(double r, double* w, double* dw) const {
    const double t = (r - r_lo) / h;
    const int k = std::min(std::max(int(std::floor(t)), 0), n_knots - 2);
    const double s = t - k;
    const size_t nw = size_t(n_weights);
    const double* c = &coeff[size_t(k) * 6 * nw];
    for (size_t j = 0; j < nw; ++j) {
      const double c0 = c[j], c1 = c[nw + j], c2 = c[2 * nw + j], c3 = c[3 * nw + j], c4 = c[4 * nw + j],
                   c5 = c[5 * nw + j];
      w[j] = c0 + s * (c1 + s * (c2 + s * (c3 + s * (c4 + s * c5))));
      dw[j] = (c1 + s * (2 * c2 + s * (3 * c3 + s * (4 * c4 + s * 5 * c5)))) / h;
    }
  }
};

// Builds the table of one layer: from 64 intervals, refined until within `tolerance` (up to
// `max_intervals`), each refinement sized from the measured error, which falls as h^5 (the
// derivative's order), with a margin.
inline HostRadialTable build_radial_table(const mace_native::Model& m, const mace_native::Layer& layer,
                                          double tolerance, int max_intervals = 4096) {
  HostRadialNetwork net(m, layer);
  const int nw = net.n_weights();
  HostRadialTable tab;
  tab.n_weights = nw;
  tab.r_lo = radial_table_r_lo(m.r_max);
  std::vector<double> w(nw), dw(nw), ddw(nw), wi(nw), dwi(nw);
  for (int intervals = 64;;) {
    tab.h = (m.r_max - tab.r_lo) / intervals;
    tab.n_knots = intervals + 1;
    std::vector<double> knot(size_t(tab.n_knots) * 3 * nw, 0.0);
    double wmax = 0, dwmax = 0;
    for (int k = 0; k < tab.n_knots; ++k) {
      net.eval(tab.r_lo + k * tab.h, w.data(), dw.data(), ddw.data());
      double* row = &knot[size_t(k) * 3 * nw];
      for (int j = 0; j < nw; ++j) {
        row[j] = w[j];
        row[nw + j] = tab.h * dw[j];
        row[2 * nw + j] = tab.h * tab.h * ddw[j];
        wmax = std::max(wmax, std::abs(w[j]));
        dwmax = std::max(dwmax, std::abs(dw[j]));
      }
    }
    tab.set_from_knots(knot);
    double err = 0;
    for (int k = 0; k + 1 < tab.n_knots; ++k) {
      for (double s : {0.25, 0.5, 0.75}) {
        const double r = tab.r_lo + (k + s) * tab.h;
        net.eval(r, w.data(), dw.data(), ddw.data());
        tab.interpolate(r, wi.data(), dwi.data());
        for (int j = 0; j < nw; ++j) {
          err = std::max(err, std::abs(wi[j] - w[j]) / std::max(wmax, 1e-300));
          err = std::max(err, std::abs(dwi[j] - dw[j]) / std::max(dwmax, 1e-300));
        }
      }
    }
    tab.error = err;
    tab.ok = err <= tolerance;
    if (tab.ok || intervals >= max_intervals) return tab;
    const double factor = 1.25 * std::pow(err / tolerance, 0.2);
    intervals = std::min(max_intervals, std::max(2 * intervals, int(std::ceil(intervals * factor))));
  }
}

}  // namespace mlpot::kokkos::mace
