#pragma once
// The MACE forward pass and its hand-written reverse (adjoint) pass, written once for every
// Kokkos execution space and both precisions (Real = float or double; energies, forces and
// virials are accumulated in double).
//
// The graph: nodes (atoms, or atoms and ghosts) and directed edges sender -> receiver with the
// edge vector v = x_receiver - x_sender (+ shift), the convention of MACE's
// get_edge_vectors_and_lengths. Edges are grouped by receiver (CSR), so every sum over
// neighbours is a gather by the receiving node: no per-edge message tensor is ever stored.
//
// Per layer t (one parallel pass over nodes each, a node per thread on the host):
//   up      U = linear_up(H_t)
//   message M_i = sum over edges j->i of TP(U_j, Y(v), W(|v|)), W the radial MLP of the Bessel
//           basis (recomputed per edge, never stored), Y the spherical harmonics
//   product X = skip_e(linear(M) / avg) (first block) or linear(M) / avg (residual block),
//           H_{t+1} = product_linear(contraction_e(X)) + skip_e(H_t) (residual), readout
// The reverse pass runs the layers backwards with the adjoints dE/dH; per edge it recomputes
// W, dW/dr, Y and dY/dv, scatters dE/dU to the sender (atomics) and accumulates dE/dv per edge
// (3 numbers), from which forces and virials are formed at the end.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <vector>

#include "mace_functions.hpp"
#include "mace_model.hpp"

namespace mlpot::kokkos::mace {

namespace detail {
template <class T, class Space>
Kokkos::View<T*, Space> upload(const std::vector<T>& v, const char* label) {
  Kokkos::View<T*, Space> d(std::string(label), v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(d, h);
  return d;
}
template <class Real, class Space>
Kokkos::View<Real*, Space> upload_real(const std::vector<double>& v, const char* label) {
  std::vector<Real> r(v.begin(), v.end());
  return upload<Real, Space>(r, label);
}
}  // namespace detail

// A block linear map (mace_native::BlockLinear) on the device, optionally one set of weights
// per element (the element-dependent skip connections).
template <class Real, class Space>
struct DeviceLinear {
  // per path: in offset, out offset, mul_in, mul_out, components (2l+1), weight offset
  Kokkos::View<int*, Space> paths;
  Kokkos::View<Real*, Space> w;
  int n_paths = 0, dim_in = 0, dim_out = 0;
  long set_stride = 0;  // weights per element set

  static DeviceLinear make(const std::vector<const mace_native::BlockLinear*>& sets) {
    DeviceLinear d;
    const auto& L = *sets.at(0);
    std::vector<int> p;
    std::vector<double> w;
    long offset = 0;
    for (const auto& path : L.paths) {
      const auto& bi = L.in.blocks.at(path.in_block);
      const auto& bo = L.out.blocks.at(path.out_block);
      p.insert(p.end(), {bi.offset, bo.offset, bi.mul, bo.mul, 2 * bi.l + 1, int(offset)});
      offset += long(bi.mul) * bo.mul;
    }
    d.set_stride = offset;
    for (const auto* s : sets) {
      for (const auto& path : s->paths) w.insert(w.end(), path.w.begin(), path.w.end());
    }
    d.n_paths = int(L.paths.size());
    d.dim_in = L.in.dim;
    d.dim_out = L.out.dim;
    d.paths = detail::upload<int, Space>(p, "mace::linear_paths");
    d.w = detail::upload_real<Real, Space>(w, "mace::linear_weights");
    return d;
  }

  // out += A in (out not cleared)
  KOKKOS_INLINE_FUNCTION void apply(const Real* in, Real* out, int set = 0, Real factor = 1) const {
    for (int p = 0; p < n_paths; ++p) {
      const int io = paths(6 * p), oo = paths(6 * p + 1), mi = paths(6 * p + 2), mo = paths(6 * p + 3),
                nc = paths(6 * p + 4);
      const Real* W = &w(set * set_stride + paths(6 * p + 5));
      for (int ci = 0; ci < mi; ++ci) {
        for (int m = 0; m < nc; ++m) {
          const Real x = factor * in[io + ci * nc + m];
          const Real* row = W + ci * mo;
          for (int co = 0; co < mo; ++co) out[oo + co * nc + m] += row[co] * x;
        }
      }
    }
  }
  // din += A^T dout
  KOKKOS_INLINE_FUNCTION void apply_transpose(const Real* dout, Real* din, int set = 0, Real factor = 1) const {
    for (int p = 0; p < n_paths; ++p) {
      const int io = paths(6 * p), oo = paths(6 * p + 1), mi = paths(6 * p + 2), mo = paths(6 * p + 3),
                nc = paths(6 * p + 4);
      const Real* W = &w(set * set_stride + paths(6 * p + 5));
      for (int ci = 0; ci < mi; ++ci) {
        const Real* row = W + ci * mo;
        for (int m = 0; m < nc; ++m) {
          Real s = 0;
          for (int co = 0; co < mo; ++co) s += row[co] * dout[oo + co * nc + m];
          din[io + ci * nc + m] += factor * s;
        }
      }
    }
  }
};

template <class Real, class Space>
struct DeviceLayer {
  int residual = 0, use_sc = 1, has_readout = 0, readout_nonlinear = 0, head = 0;
  Real inv_avg = 1;
  int dim_in = 0, dim_mid = 0, dim_target = 0, dim_prod = 0, dim_hidden = 0, dim_mlp = 0, dim_heads = 0;
  DeviceLinear<Real, Space> linear_up, linear, skip, product_linear, readout_1, readout_2;
  Real readout_act_scale = 1;
  // radial MLP: per layer n_in, n_out, weight offset, act; the activations' scales
  int n_mlp = 0, n_weights = 0, mlp_width = 0;
  Kokkos::View<int*, Space> mlp;
  Kokkos::View<Real*, Space> mlp_w, mlp_scale;
  // tensor product: per path in offset, d1, sh offset, out offset, d3, weight offset, first
  // entry, end entry (channels: `channels_in`); entries m1, m2, m3 and values
  int n_tp = 0, channels_in = 0;
  Kokkos::View<int*, Space> tp, tp_m;
  Kokkos::View<Real*, Space> tp_v;
  // contraction: component d of channel c at x_base(d) + c * x_stride(d); monomial k =
  // mono_parent(k) * x[mono_factor(k)] (parent -1: the factor alone); term t adds
  // coeff[(e * channels + c) * n_terms + t] * monomial term_mono(t) to output
  // term_out(t) + c * term_stride(t)
  int channels = 0, n_x = 0, n_mono = 0, n_terms = 0;
  Kokkos::View<int*, Space> x_base, x_stride, mono_parent, mono_factor, term_out, term_stride, term_mono;
  Kokkos::View<Real*, Space> coeff;
};

// What every layer's edge loop needs: the radial basis and the spherical harmonics.
template <class Real, class Space>
struct DeviceRadial {
  Kokkos::View<Real*, Space> bessel_w;
  int n_bessel = 0, sh_lmax = 0, sh_dim = 1, cutoff_on_basis = 1;
  Real r_max = 0, prefactor = 0, p = 6;

  // f[n] and df[n] = d/dr of the MLP's input; cut, dcut: the envelope (1, 0 when it is on f)
  KOKKOS_INLINE_FUNCTION void features(Real r, Real* f, Real* df, Real& cut, Real& dcut) const {
    Real e, de;
    polynomial_cutoff(r, r_max, p, e, de);
    for (int n = 0; n < n_bessel; ++n) {
      const Real k = bessel_w(n);
      const Real s = Kokkos::sin(k * r), c = Kokkos::cos(k * r);
      const Real b = prefactor * (s / r), db = prefactor * (k * c / r - s / (r * r));
      if (cutoff_on_basis) {
        f[n] = b * e;
        df[n] = db * e + b * de;
      } else {
        f[n] = b;
        df[n] = db;
      }
    }
    if (cutoff_on_basis) {
      cut = 1;
      dcut = 0;
    } else {
      cut = e;
      dcut = de;
    }
  }
};

template <class Space>
struct DeviceGraph {
  int n_nodes = 0, n_energy = 0;
  long n_edges = 0;
  Kokkos::View<int*, Space> species;
  Kokkos::View<long*, Space> offsets;  // [n_nodes + 1], edges grouped by receiver
  Kokkos::View<int*, Space> sender;    // [n_edges]
  Kokkos::View<double* [3], Space> vec;  // x_receiver - x_sender (+ shift)
};

// The radial MLP of one edge: w[n_weights] and, with dw, dw/dr by forward-mode differentiation
// (the tangent df of the features). buf: 4 * mlp_width.
template <class Real, class Space>
KOKKOS_INLINE_FUNCTION void radial_mlp(const DeviceLayer<Real, Space>& L, const Real* f, const Real* df, Real* w,
                                       Real* dw, Real* buf) {
  const int W = L.mlp_width;
  const Real* in = f;
  const Real* din = df;
  for (int l = 0; l < L.n_mlp; ++l) {
    const int n_in = L.mlp(4 * l), n_out = L.mlp(4 * l + 1), off = L.mlp(4 * l + 2), act = L.mlp(4 * l + 3);
    const bool last = l == L.n_mlp - 1;
    Real* out = last ? w : buf + (l % 2) * 2 * W;
    Real* dout = last ? dw : buf + (l % 2) * 2 * W + W;
    for (int j = 0; j < n_out; ++j) out[j] = 0;
    if (dw)
      for (int j = 0; j < n_out; ++j) dout[j] = 0;
    for (int i = 0; i < n_in; ++i) {
      const Real* row = &L.mlp_w(off + i * n_out);
      const Real x = in[i];
      for (int j = 0; j < n_out; ++j) out[j] += x * row[j];
      if (dw) {
        const Real dx = din[i];
        for (int j = 0; j < n_out; ++j) dout[j] += dx * row[j];
      }
    }
    if (act) {
      const Real s = L.mlp_scale(l);
      for (int j = 0; j < n_out; ++j) {
        const Real z = out[j], sg = sigmoid(z);
        out[j] = s * z * sg;
        if (dw) dout[j] *= s * sg * (Real(1) + z * (Real(1) - sg));
      }
    }
    in = out;
    din = dout;
  }
}

// Per-channel monomials of the contraction input: mono[k] for channel c of row x.
template <class Real, class Space>
KOKKOS_INLINE_FUNCTION void contraction_monomials(const DeviceLayer<Real, Space>& L, const Real* X, int c, Real* x,
                                                  Real* mono) {
  for (int d = 0; d < L.n_x; ++d) x[d] = X[L.x_base(d) + c * L.x_stride(d)];
  for (int k = 0; k < L.n_mono; ++k) {
    const int p = L.mono_parent(k);
    const Real xf = x[L.mono_factor(k)];
    mono[k] = p < 0 ? xf : mono[p] * xf;
  }
}

template <class ExecSpace, class Real>
class MaceEngine {
 public:
  using space = typename ExecSpace::memory_space;
  using team_policy = Kokkos::TeamPolicy<ExecSpace>;
  using member = typename team_policy::member_type;
  using scratch_space = typename ExecSpace::scratch_memory_space;
  using ScratchReal = Kokkos::View<Real*, scratch_space, Kokkos::MemoryUnmanaged>;
  using Layer = DeviceLayer<Real, space>;
  using Nodes = Kokkos::View<Real**, Kokkos::LayoutRight, space>;

  explicit MaceEngine(const mace_native::Model& m);

  // Node energies [n_nodes] (zero beyond n_energy), and dE/dv per edge [n_edges][3] (overwritten).
  // Returns the sum of the node energies.
  double run(const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy,
             Kokkos::View<double* [3], space> edge_grad);

 private:
  std::vector<Layer> layers_;
  DeviceRadial<Real, space> radial_;
  Kokkos::View<Real*, space> embedding_, e0_;
  int channels0_ = 0;
  Real scale_ = 1, shift_ = 0;
  std::vector<Nodes> H_, U_, X_;
  Nodes M_, dU_, dM_, G_[2];  // G_: adjoints dE/dH of a layer's output and input
  int capacity_ = 0;

  void reserve(int n_nodes);
  void forward_layer(int t, const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy);
  void backward_layer(int t, const DeviceGraph<space>& g, Kokkos::View<double* [3], space> edge_grad);
  static int level_for(size_t bytes) { return bytes <= 16384 ? 0 : 1; }
};

}  // namespace mlpot::kokkos::mace

#include "mace_kernel_impl.hpp"
