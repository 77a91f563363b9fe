#pragma once
// The MACE forward pass and its hand-written reverse (adjoint) pass, written once for every
// Kokkos execution space and both precisions (Real = float or double; energies, forces and
// virials are accumulated in double).
//
// The graph: nodes (atoms, or atoms and ghosts) and directed edges sender -> receiver with the
// edge vector v = x_receiver - x_sender (+ shift), the convention of MACE's
// get_edge_vectors_and_lengths. Edges are grouped by receiver (CSR); a second index groups them
// by sender. Every sum over neighbours is a gather by the node that owns the result: no per-edge
// message tensor is stored and no atomics are needed.
//
// Per layer t:
//   up      U = linear_up(H_t)
//   message M_i = sum over edges j->i of TP(U_j, Y(v), W(|v|)), gathered by receiver; W the
//           radial MLP (a quintic Hermite table over r for float32 models, mace_radial_table.hpp,
//           else the network evaluated per edge), Y the spherical harmonics
//   product X = skip_e(linear(M) / avg) (first block) or linear(M) / avg (residual block),
//           H_{t+1} = product_linear(contraction_e(X)) + skip_e(H_t) (residual), readout
// The reverse pass runs the layers backwards with the adjoints dE/dH: a node pass for the
// product basis and readouts, then an edge pass gathered by *sender*, which recomputes W, dW/dr,
// Y and dY/dv per edge, sums dE/dU into the sender's own row and writes dE/dv of each edge
// (3 numbers) once; forces and virials are formed from those at the end.
//
// Parallel layout: a team per node; the loops over channels (and over weights) run on the
// team's vector lanes (32 on CUDA, one on the host, where they are plain SIMD loops). Features
// are stored per node as e3nn's blocks in order but m-major within a block ("ir_mul"):
// component m of channel c of a block at offset + m * mul + c, so channel loops are contiguous.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "mace_functions.hpp"
#include "mace_model.hpp"
#include "mace_radial_table.hpp"

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

// A loop over a team's vector lanes.
template <class Member, class F>
KOKKOS_FORCEINLINE_FUNCTION void lanes(const Member& team, int n, const F& f) {
  Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, n), f);
}

// Makes every lane's earlier writes visible to the others (a warp sync on CUDA, where Kokkos ends
// each vector loop with one; nothing on the host).
template <class Member>
KOKKOS_FORCEINLINE_FUNCTION void lane_barrier(const Member& team) {
  Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 0), [](int) {});
}

// A block linear map (mace_native::BlockLinear) on the device, optionally one set of weights
// per element (the element-dependent skip connections). Both products are written as updates
// of contiguous output rows (the transpose keeps its own copy of the weights), so they run on
// vector lanes / SIMD without reductions.
template <class Real, class Space>
struct DeviceLinear {
  // per path: in offset, out offset, mul_in, mul_out, components (2l+1), weight offset
  Kokkos::View<int*, Space> paths;
  Kokkos::View<Real*, Space> w, wt;  // [set][path][mul_in][mul_out] and [set][path][mul_out][mul_in]
  int n_paths = 0, dim_in = 0, dim_out = 0;
  long set_stride = 0;  // weights per element set

  static DeviceLinear make(const std::vector<const mace_native::BlockLinear*>& sets) {
    DeviceLinear d;
    const auto& L = *sets.at(0);
    std::vector<int> p;
    long offset = 0;
    for (const auto& path : L.paths) {
      const auto& bi = L.in.blocks.at(path.in_block);
      const auto& bo = L.out.blocks.at(path.out_block);
      p.insert(p.end(), {bi.offset, bo.offset, bi.mul, bo.mul, 2 * bi.l + 1, int(offset)});
      offset += long(bi.mul) * bo.mul;
    }
    d.set_stride = offset;
    std::vector<double> w, wt;
    for (const auto* s : sets) {
      for (size_t q = 0; q < s->paths.size(); ++q) {
        const auto& path = s->paths[q];
        const int mi = L.in.blocks.at(path.in_block).mul, mo = L.out.blocks.at(path.out_block).mul;
        w.insert(w.end(), path.w.begin(), path.w.end());
        for (int co = 0; co < mo; ++co)
          for (int ci = 0; ci < mi; ++ci) wt.push_back(path.w[size_t(ci) * mo + co]);
      }
    }
    d.n_paths = int(L.paths.size());
    d.dim_in = L.in.dim;
    d.dim_out = L.out.dim;
    d.paths = detail::upload<int, Space>(p, "mace::linear_paths");
    d.w = detail::upload_real<Real, Space>(w, "mace::linear_weights");
    d.wt = detail::upload_real<Real, Space>(wt, "mace::linear_weights_t");
    return d;
  }

  // out += factor A in (out not cleared)
  template <class Member>
  KOKKOS_INLINE_FUNCTION void apply(const Member& team, const Real* in, Real* out, int set = 0,
                                    Real factor = 1) const {
    accumulate(team, in, out, w, false, set, factor);
  }
  // din += factor A^T dout
  template <class Member>
  KOKKOS_INLINE_FUNCTION void apply_transpose(const Member& team, const Real* dout, Real* din, int set = 0,
                                              Real factor = 1) const {
    accumulate(team, dout, din, wt, true, set, factor);
  }

  // y += factor M x path by path, M the path's weights stored row by row of x's channels
  // (w forward, wt transposed): for each component m and each channel a of x, a contiguous
  // update of y's channels.
  template <class Member>
  KOKKOS_INLINE_FUNCTION void accumulate(const Member& team, const Real* x, Real* y,
                                         const Kokkos::View<Real*, Space>& weights, bool transpose, int set,
                                         Real factor) const {
    for (int p = 0; p < n_paths; ++p) {
      const int io = paths(6 * p), oo = paths(6 * p + 1), mi = paths(6 * p + 2), mo = paths(6 * p + 3),
                nc = paths(6 * p + 4);
      const int xo = transpose ? oo : io, yo = transpose ? io : oo, mx = transpose ? mo : mi,
                my = transpose ? mi : mo;
      const Real* M = &weights(set * set_stride + paths(6 * p + 5));
      for (int m = 0; m < nc; ++m) {
        Real* yr = y + yo + m * my;
        for (int a = 0; a < mx; ++a) {
          const Real xv = factor * x[xo + m * mx + a];
          const Real* row = M + a * my;
          lanes(team, my, [&](int b) { yr[b] += row[b] * xv; });
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
  DeviceLinear<Real, Space> linear_up, linear, skip, product_linear, readout_1, readout_2, readout_mid;
  Real readout_act_scale = 1;
  int readout_bias = 0;  // NonLinearBiasReadoutBlock (mace_native::Layer)
  Kokkos::View<Real*, Space> readout_mid_bias, readout_out_bias;
  // radial MLP: per layer n_in, n_out, weight offset, act; the activations' scales
  int n_mlp = 0, n_weights = 0, mlp_width = 0;
  Kokkos::View<int*, Space> mlp;
  Kokkos::View<double*, Space> mlp_w, mlp_scale;  // double: the network runs in double (edge_weights)
  // the radial table (use_table): knots r_lo + k h, per interval the coefficients of its
  // polynomial in s = (r - r_k) / h, [interval][c0..c5][n_weights] (mace_radial_table.hpp)
  int use_table = 0, table_knots = 0;
  // density-normalised block (Density variants): z = sum_n f[n] density_w[n], D_i = sum tanh(z^2) cut
  int density = 0;
  Kokkos::View<double*, Space> density_w;
  Real table_r_lo = 0, table_inv_h = 0;
  Kokkos::View<Real*, Space> table;
  // tensor product: per path in offset, d1, sh offset, out offset, d3, weight offset, first
  // entry, end entry (channels: `channels_in`); entries m1, m2, m3 and values
  int n_tp = 0, channels_in = 0;
  Kokkos::View<int*, Space> tp, tp_m;
  Kokkos::View<Real*, Space> tp_v;
  // contraction: component d of a channel at x_base(d) + c; monomial k = mono_parent(k) *
  // x[mono_factor(k)] (parent -1: the factor alone); term t adds
  // coeff[((e * n_terms) + t) * channels + c] * monomial term_mono(t) to output term_out(t) + c
  int channels = 0, n_x = 0, n_mono = 0, n_terms = 0;
  Kokkos::View<int*, Space> x_base, mono_parent, mono_factor, term_out, term_mono;
  Kokkos::View<Real*, Space> coeff;
};

// What every layer's edge loop needs: the radial basis and the spherical harmonics.
template <class Real, class Space>
struct DeviceRadial {
  Kokkos::View<double*, Space> bessel_w;
  int n_bessel = 0, sh_lmax = 0, sh_dim = 1, cutoff_on_basis = 1, basis = kBessel;
  Real r_max = 0, p = 6;
  double param = 0;  // the Bessel prefactor or the Gaussian coefficient (radial_basis)
  // Distance transform (mace_native::Model): 0 none, 1 Agnesi, 2 Soft; per element the share of
  // the pair radius r0 (half the covalent radius for Agnesi, all of it for Soft)
  int transform = 0;
  double agnesi_q = 0, agnesi_p = 0, agnesi_a = 0, soft_alpha = 0;
  Kokkos::View<Real*, Space> radius_share;

  // The pair radius r0 of the distance transform for an edge between elements a and b (unused
  // without one).
  KOKKOS_INLINE_FUNCTION Real pair_radius(int a, int b) const {
    return transform ? radius_share(a) + radius_share(b) : Real(0);
  }

  // f[n] and df[n] = d/dr of the MLP's input; cut, dcut: the envelope when it applies to the
  // MLP's outputs (1, 0 when it is on the basis); r0 the pair radius (pair_radius). In double
  // whatever Real is (edge_weights).
  template <class Member>
  KOKKOS_INLINE_FUNCTION void features(const Member& team, double r, double r0, double* f, double* df, double& cut,
                                       double& dcut) const {
    double e, de;
    polynomial_cutoff(r, double(r_max), double(p), e, de);
    const int on_basis = cutoff_on_basis;
    // the basis' argument x(r) and dx/dr: r itself, or its distance transform
    double x = r, dx = 1;
    if (transform == 1) {  // Agnesi, of s = r / r0
      const double q = agnesi_q, pp = agnesi_p;
      const double s = r / r0, sq = Kokkos::pow(s, q), sqp = Kokkos::pow(s, q - pp);
      const double g = agnesi_a * sq / (1 + sqp);
      const double dg = g / s * (q - (q - pp) * sqp / (1 + sqp));
      x = 1 / (1 + g);
      dx = -x * x * dg / r0;
    } else if (transform == 2) {  // Soft
      const double p0 = 0.75 * r0, p1 = (4.0 / 3.0) * r0, m = 0.5 * (p0 + p1), a = soft_alpha / (p1 - p0);
      const double th = Kokkos::tanh(a * (r - m)), sx = 0.5 * (1 + th);
      x = p0 + (r - p0) * sx;
      dx = sx + (r - p0) * 0.5 * a * (1 - th * th);
    }
    const int kind = basis;
    const double par = param;
    lanes(team, n_bessel, [&](int n) {
      double b, db, ddb;
      radial_basis(kind, n, bessel_w(n), par, x, b, db, ddb);
      db *= dx;
      if (on_basis) {
        f[n] = b * e;
        df[n] = db * e + b * de;
      } else {
        f[n] = b;
        df[n] = db;
      }
    });
    cut = on_basis ? 1.0 : e;
    dcut = on_basis ? 0.0 : de;
  }
};

template <class Space>
struct DeviceGraph {
  int n_nodes = 0, n_energy = 0;
  // Nodes whose features the layers compute: all of them, or (message passing, MaceEngine::Halo)
  // the first n_energy, the local atoms; the others are ghosts whose features are set from their
  // owners between layers, and which are no edge's receiver.
  int n_computed = 0;
  long n_edges = 0;
  Kokkos::View<int*, Space> species;
  Kokkos::View<long*, Space> offsets;    // [n_nodes + 1], edges grouped by receiver
  Kokkos::View<int*, Space> sender;      // [n_edges]
  Kokkos::View<int*, Space> receiver;    // [n_edges]
  Kokkos::View<double* [3], Space> vec;  // x_receiver - x_sender (+ shift)
  Kokkos::View<long*, Space> sender_offsets;  // [n_nodes + 1]: edges by_sender[..] of each sender
  Kokkos::View<long*, Space> by_sender;       // [n_edges]: edge indices grouped by sender
};

// The edge's term of a Density block's D_i and its derivative by r, from the radial features f,
// df and the envelope cut, dcut (DeviceRadial::features); every lane gets the same numbers.
template <class Real, class Space>
KOKKOS_INLINE_FUNCTION void edge_density(const DeviceLayer<Real, Space>& L, int n_bessel, const double* f,
                                         const double* df, double cut, double dcut, Real& d, Real& dd) {
  double z = 0, dz = 0;
  for (int n = 0; n < n_bessel; ++n) {
    z += f[n] * L.density_w(n);
    dz += df[n] * L.density_w(n);
  }
  const double t = Kokkos::tanh(z * z);
  d = Real(t * cut);
  dd = Real((1 - t * t) * 2 * z * dz * cut + t * dcut);
}

// Reals of scratch edge_weights needs beside w and dw: the network's features and activations,
// in double (radial_scratch doubles, rounded up to whole Reals).
template <class Real, class Space>
KOKKOS_INLINE_FUNCTION int radial_scratch(const DeviceLayer<Real, Space>& L, int n_bessel) {
  return int((2 * n_bessel + 4 * L.mlp_width) * sizeof(double) / sizeof(Real));
}

// The tensor-product weights of one edge, w[n_weights] = W(r) (times the envelope where it
// applies to the MLP outputs) and, unless dw is null (the forward pass), dw = dW/dr, from the
// table or the network; r0 the pair radius (DeviceRadial::pair_radius). In a Density block also
// the edge's density term and its derivative (edge_density; else 0). buf: radial_scratch Reals,
// 8-byte aligned.
//
// The network runs in double for float32 models too (rounded once at the end): where no table
// over r applies (r below the table's start, or the Agnesi transform, whose weights depend on
// the element pair) float32 activations would put the weights ~1e-6 from the file's function,
// which the model amplifies (the variant test model: 1.2e-5 of the forces, against 8e-7 with
// the table); in double they are as close as the table's.
template <class Member, class Real, class Space>
KOKKOS_INLINE_FUNCTION void edge_weights(const Member& team, const DeviceLayer<Real, Space>& L,
                                         const DeviceRadial<Real, Space>& R, Real r, Real r0, Real* w, Real* dw,
                                         Real* buf, Real& dens, Real& ddens) {
  const int nw = L.n_weights;
  const bool with_d = dw != nullptr;
  double* f = reinterpret_cast<double*>(buf);
  double* df = f + R.n_bessel;
  double* work = df + R.n_bessel;
  dens = 0;
  ddens = 0;
  if (L.use_table && r >= L.table_r_lo) {
    if (L.density) {
      double cut, dcut;
      R.features(team, r, r0, f, df, cut, dcut);
      edge_density(L, R.n_bessel, f, df, cut, dcut, dens, ddens);
    }
    const Real t = (r - L.table_r_lo) * L.table_inv_h;
    int k = int(t);
    if (k > L.table_knots - 2) k = L.table_knots - 2;
    const Real s = t - Real(k), ih = L.table_inv_h;
    const Real* c = &L.table(long(k) * 6 * nw);
    lanes(team, nw, [&](int j) {
      const Real c1 = c[nw + j], c2 = c[2 * nw + j], c3 = c[3 * nw + j], c4 = c[4 * nw + j], c5 = c[5 * nw + j];
      w[j] = c[j] + s * (c1 + s * (c2 + s * (c3 + s * (c4 + s * c5))));
      if (with_d) dw[j] = (c1 + s * (2 * c2 + s * (3 * c3 + s * (4 * c4 + s * 5 * c5)))) * ih;
    });
    return;
  }
  // The network, with its derivative by forward-mode differentiation where asked for.
  const int W = L.mlp_width;
  double cut, dcut;
  R.features(team, r, r0, f, df, cut, dcut);
  if (L.density) edge_density(L, R.n_bessel, f, df, cut, dcut, dens, ddens);
  const double* in = f;
  const double* din = df;
  for (int l = 0; l < L.n_mlp; ++l) {
    const int n_in = L.mlp(4 * l), n_out = L.mlp(4 * l + 1), off = L.mlp(4 * l + 2), act = L.mlp(4 * l + 3);
    double* out = work + (l % 2) * 2 * W;
    double* dout = out + W;
    lanes(team, n_out, [&](int j) {
      out[j] = 0;
      if (with_d) dout[j] = 0;
    });
    for (int i = 0; i < n_in; ++i) {
      const double* row = &L.mlp_w(off + i * n_out);
      const double x = in[i];
      if (with_d) {
        const double dx = din[i];
        lanes(team, n_out, [&](int j) {
          out[j] += x * row[j];
          dout[j] += dx * row[j];
        });
      } else {
        lanes(team, n_out, [&](int j) { out[j] += x * row[j]; });
      }
    }
    if (act) {
      const double sc = L.mlp_scale(l);
      lanes(team, n_out, [&](int j) {
        const double z = out[j], sg = sigmoid(z);
        out[j] = sc * z * sg;
        if (with_d) dout[j] *= sc * sg * (1 + z * (1 - sg));
      });
    }
    in = out;
    din = dout;
  }
  lanes(team, nw, [&](int j) {
    w[j] = Real(in[j] * cut);
    if (with_d) dw[j] = Real(din[j] * cut + in[j] * dcut);
  });
}

template <class ExecSpace, class Real>
class MaceEngine {
 public:
  using space = typename ExecSpace::memory_space;
  // Dynamic: nodes differ in cost (a local atom with its whole neighbourhood, a ghost sending to a
  // few locals), and with static chunks one host thread would get the locals and wait the longest.
  using team_policy = Kokkos::TeamPolicy<ExecSpace, Kokkos::Schedule<Kokkos::Dynamic>>;
  using member = typename team_policy::member_type;
  using scratch_space = typename ExecSpace::scratch_memory_space;
  using ScratchReal = Kokkos::View<Real*, scratch_space, Kokkos::MemoryUnmanaged>;
  using Layer = DeviceLayer<Real, space>;
  using Nodes = Kokkos::View<Real**, Kokkos::LayoutRight, space>;

  // radial_table: tabulate the radial MLPs (to table_tolerance, relative; a layer whose table
  // does not reach it evaluates its network).
  MaceEngine(const mace_native::Model& m, bool radial_table, double table_tolerance = 2e-9);

  // Node energies [n_nodes] (zero beyond n_energy), and dE/dv per edge [n_edges][3] (overwritten).
  // Returns the sum of the node energies.
  //
  // With `halo` (message passing, g.n_computed < g.n_nodes): in each layer after the first the
  // ghosts' rows of U = linear_up(H) are set from their owners by halo->forward (U is linear in
  // H per node, so the owner's U is the ghost's), and in its reverse pass the ghosts' dE/dU are
  // added into their owners' rows by halo->reverse; `rows` is [n_nodes][width] doubles in this
  // space, every node's row.
  struct Halo {
    std::function<void(double* rows, int width)> forward, reverse;
  };
  double run(const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy,
             Kokkos::View<double* [3], space> edge_grad, const Halo* halo = nullptr);
  // The widest row a Halo exchanges (doubles per node).
  int halo_width() const;
  // Buffers for graphs of up to n_nodes nodes (run() calls it).
  void reserve(int n_nodes);
  // What those buffers take for n nodes, in bytes (for out-of-memory messages).
  double node_buffer_bytes(long n) const;

  // Per layer: knots of its radial table (0: the network is evaluated) and the table's measured
  // error relative to the largest weight (and derivative).
  std::vector<std::pair<int, double>> radial_tables() const { return tables_; }
  // A layer's and the radial basis' device data (for the kernel tests).
  const Layer& layer(int t) const { return layers_.at(t); }
  const DeviceRadial<Real, space>& radial() const { return radial_; }

  // run() in its stages, for the kernel tests (tests/kokkos/test_mace_kernels.cpp) and because
  // nvcc refuses extended __host__ __device__ lambdas inside private or protected member
  // functions: embed, forward_layer for t = 0..T-1, clear_adjoints, backward_layer for
  // t = T-1..0, pair_repulsion where the model has one.
  void embed(const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy);
  void clear_adjoints(const DeviceGraph<space>& g, Kokkos::View<double* [3], space> edge_grad);
  int n_layers() const { return int(layers_.size()); }
  bool has_pair_repulsion() const { return zbl_ != 0; }
  // What layer t's kernels leave behind: its input and output features H_t, H_{t+1}, U, X and
  // (the last forward_layer's) message M; the adjoints dE/dH of its output and input, dM and dU
  // after backward_layer(t); Density blocks' D and dE/dD.
  struct LayerBuffers {
    Nodes H_in, H_out, U, X, M, G_out, G_in, dM, dU;
    Kokkos::View<Real*, space> D, dD;
  };
  LayerBuffers buffers(int t) const {
    return {H_.at(t), H_.at(t + 1), U_.at(t), X_.at(t), M_, G_[(t + 1) % 2], G_[t % 2], dM_, dU_, D_.at(t), dD_};
  }
  // With a Halo (message passing, layers after the first): the ghosts' U come from their owners
  // after the locals' linear_up, and backwards the ghosts' dE/dU go to their owners before the
  // locals' linear_up adjoint, so ghosts do no per-node work at all.
  void forward_layer(int t, const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy,
                     const Halo* halo = nullptr);
  void backward_layer(int t, const DeviceGraph<space>& g, Kokkos::View<double* [3], space> edge_grad,
                      const Halo* halo = nullptr);
  // Message passing (forward_layer, backward_layer with a Halo): the first w columns of v's
  // rows [0, n_out) out to `exchange` (Halo::forward or reverse) as [n][w] doubles, and rows
  // [in_begin, in_end) back.
  void exchange_rows(Nodes v, int w, int n, int n_out, int in_begin, int in_end,
                     const std::function<void(double*, int)>& exchange);
  // The ZBL pair repulsion: adds each receiver's energy (below n_energy) and its edges' dE/dv.
  void pair_repulsion(const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy,
                      Kokkos::View<double* [3], space> edge_grad);

 private:
  std::vector<Layer> layers_;
  std::vector<std::pair<int, double>> tables_;
  DeviceRadial<Real, space> radial_;
  Kokkos::View<Real*, space> embedding_, e0_;
  int channels0_ = 0;
  Real scale_ = 1, shift_ = 0;
  std::vector<Nodes> H_, U_, X_;
  Nodes M_, dU_, dM_, G_[2];  // G_: adjoints dE/dH of a layer's output and input
  // Density blocks: per layer D_i and (first block) linear(M) / (1 + D_i) before the skip; the
  // adjoint dE/dD_i of the layer being reversed
  std::vector<Kokkos::View<Real*, space>> D_;
  std::vector<Nodes> A_;
  Kokkos::View<Real*, space> dD_;
  // ZBL pair repulsion (mace_native::Model): per element Z^a_exp and the covalent radius; per
  // (sender, receiver) element pair the prefactor 14.3996 Z_u Z_v
  int zbl_ = 0;
  double zbl_c_[4] = {0, 0, 0, 0}, zbl_a_prefactor_ = 0, zbl_p_ = 6;
  Kokkos::View<double* [2], space> zbl_element_;
  Kokkos::View<double**, Kokkos::LayoutRight, space> zbl_pair_;
  int capacity_ = 0;
  Kokkos::View<double*, space> halo_rows_;  // [n_nodes][width] rows a Halo exchanges

  void reserve_buffers(int capacity);
  static int level_for(size_t bytes) { return bytes <= 16384 ? 0 : 1; }
  // Reals of team scratch an edge loop needs: the weights and their derivatives, and the
  // network's features and activations where it is evaluated per edge (edge_weights).
  int edge_scratch(const Layer& L) const { return 2 * L.n_weights + radial_scratch(L, radial_.n_bessel); }
  static team_policy policy(int n, size_t bytes) {
    // 32 vector lanes (a warp per node) where the backend has them; one on the host.
    constexpr bool host = std::is_same_v<typename ExecSpace::memory_space, Kokkos::HostSpace>;
    team_policy p(n, 1, host ? 1 : 32);
    return p.set_scratch_size(level_for(bytes), Kokkos::PerTeam(bytes));
  }
};

}  // namespace mlpot::kokkos::mace

#include "mace_kernel_impl.hpp"
