#pragma once
// A MACE model as the native engine evaluates it: plain arrays, no LibTorch.
//
// src/torch/mace_native_reader.cpp fills it from the `*-lammps.pt` file users deploy (weights,
// buffers and the coupling tensors, read and probed through LibTorch's module API), and
// mace_kernel.hpp evaluates it. Every linear map of the model is kept in the block form e3nn
// gives it (one matrix per pair of irrep blocks, shared by the 2l+1 components), with e3nn's
// normalisation constants folded in, so the kernels never see e3nn's conventions.
//
// Feature layout (e3nn's "mul_ir"): an irreps vector is a concatenation of blocks `mul x l`;
// component m of channel c of block b sits at blocks[b].offset + c * (2l+1) + m.
#include <array>
#include <string>
#include <vector>

namespace mlpot::mace_native {

struct IrrepBlock {
  int mul = 0, l = 0, parity = 1;  // parity +1 (even) or -1 (odd)
  int offset = 0;                  // first index of the block in the flat vector
  int dim() const { return mul * (2 * l + 1); }
};

struct Irreps {
  std::vector<IrrepBlock> blocks;
  int dim = 0;
  std::string str() const;  // "8x0e+8x1o"
};

// out[b_out][c_out, m] += sum_{c_in} w[c_in * mul_out + c_out] * in[b_in][c_in, m]
struct LinearPath {
  int in_block = 0, out_block = 0;
  std::vector<double> w;  // [mul_in][mul_out], normalisation folded in
};
struct BlockLinear {
  Irreps in, out;
  std::vector<LinearPath> paths;
};

// One path of the channel-wise ("uvu") tensor product of a node's features with an edge's
// spherical harmonics: for each channel c,
//   out[out_block][c, m3] += w_edge[weight_offset + c] * sum cg(m1, m2, m3) in[in_block][c, m1] Y_l2[m2]
struct TpPath {
  int in_block = 0, sh_l = 0, out_block = 0, weight_offset = 0;
  struct Entry {
    int m1, m2, m3;
    double value;
  };
  std::vector<Entry> cg;  // non-zero couplings, e3nn's path normalisation folded in
};

// e3nn FullyConnectedNet: x -> act(x W_0) ... -> x W_last, act(z) = act_scale * silu(z).
struct MlpLayer {
  int n_in = 0, n_out = 0;
  std::vector<double> w;  // [n_in][n_out], 1/sqrt(fan_in) and the variances folded in
  bool act = false;
  double act_scale = 1.0;
};

// The symmetric contraction for one output block (irrep l_out), per channel c of node element e:
//   out[c, m_out] = sum_k coeff[((e * channels + c) * (2 l_out + 1) + m_out) * n_mono + k] * prod x[c, mono[k]]
// over monomials of degree 1..correlation in the channel's components x[c, 0..n_x) (the blocks
// of the input irreps in order, m within; index -1 in mono marks an unused factor).
struct ContractionBlock {
  int l_out = 0;
  std::vector<std::array<int, 3>> mono;
  std::vector<double> coeff;
};

struct Layer {
  bool residual = false;       // RealAgnosticResidualInteractionBlock (skip on the input), else
                               // RealAgnosticInteractionBlock (element-dependent linear on the message)
  double avg_num_neighbors = 1.0;
  // The Density variants of both blocks divide the message by 1 + D_i instead of
  // avg_num_neighbors, D_i = sum over i's edges of tanh(z^2) (times the envelope where it applies
  // to the MLP outputs), z = the radial features times density_w (a one-layer network, no bias).
  bool density = false;
  std::vector<double> density_w;  // [n_bessel], 1/sqrt(fan_in) folded in
  Irreps node_in;              // features entering the layer
  BlockLinear linear_up;       // node_in -> node_in
  std::vector<MlpLayer> radial_mlp;
  int n_weights = 0;           // per-edge tensor-product weights (radial MLP outputs)
  Irreps mid;                  // tensor product outputs
  std::vector<TpPath> tp;
  BlockLinear linear;          // mid -> target
  std::vector<BlockLinear> skip;  // per element: residual: node_in -> hidden; else target -> target
  Irreps target;               // contraction input, mul x (0e, 1o, ...) with one multiplicity
  int correlation = 1;
  std::vector<ContractionBlock> contraction;
  Irreps product_out;          // the contraction's outputs, in block order
  BlockLinear product_linear;  // product_out -> hidden
  Irreps hidden;               // features leaving the layer
  bool use_sc = true;
  // Readout of this layer's features (none: only the last layer has one, use_last_readout_only)
  bool has_readout = false;
  bool readout_nonlinear = false;
  BlockLinear readout_1;  // hidden -> 1x0e (linear) or -> MLP irreps (non-linear); column `head`
  double readout_act_scale = 1.0;
  BlockLinear readout_2;  // MLP irreps -> 1x0e (non-linear only)
  // NonLinearBiasReadoutBlock: act(readout_1 h) -> act(readout_mid . + mid_bias) -> readout_2 . + out_bias
  bool readout_bias = false;
  BlockLinear readout_mid;
  std::vector<double> readout_mid_bias, readout_out_bias;
};

struct Model {
  std::string source;  // file name, for messages
  std::string dtype;   // "float64" or "float32"
  std::vector<int> atomic_numbers;
  double r_max = 0.0;
  int head = 0;                // readout column
  std::vector<double> e0;      // [n_elements], the head's atomic reference energies
  double scale = 1.0, shift = 0.0;
  // Radial embedding: basis function n of x (x = r, or its distance transform), times the
  // polynomial cutoff envelope of order p in r (on the basis when cutoff_on_basis, else on the
  // MLP outputs). basis: 0 Bessel, prefactor sin(bessel_w[n] x) / x; 1 Gaussian,
  // exp(gaussian_coeff (x - bessel_w[n])^2); 2 Chebyshev, T_{n+1}(x) (radial_basis,
  // mace_functions.hpp). bessel_w has one entry per function in every case.
  int basis = 0;
  std::vector<double> bessel_w;
  double bessel_prefactor = 0.0;
  double gaussian_coeff = 0.0;
  double cutoff_p = 6.0;
  bool cutoff_on_basis = true;
  // Agnesi distance transform (agnesi): the basis sees x = 1 / (1 + a s^q / (1 + s^(q - p))),
  // s = r / r0, r0 = (covalent_radius[e_sender] + covalent_radius[e_receiver]) / 2; the envelope
  // still sees r. The radial weights then depend on the element pair as well as on r.
  bool agnesi = false;
  double agnesi_q = 0, agnesi_p = 0, agnesi_a = 0;
  std::vector<double> agnesi_radius;  // per element
  // Soft distance transform (soft): x = p0 + (r - p0) (1 + tanh(alpha' (r - m))) / 2 with
  // r0 = covalent_radius[e_sender] + covalent_radius[e_receiver], p0 = 3/4 r0, p1 = 4/3 r0,
  // m = (p0 + p1) / 2, alpha' = soft_alpha / (p1 - p0).
  bool soft = false;
  double soft_alpha = 0;
  std::vector<double> soft_radius;  // per element
  // ZBL pair repulsion (zbl): per directed edge, to the receiver's energy,
  //   0.5 * 14.3996 Z_u Z_v / r * sum_k c_k exp(-d_k r / a) * envelope_p(r / (R_u + R_v)),
  //   a = a_prefactor * 0.529 / (Z_u^a_exp + Z_v^a_exp), d = (3.2, 0.9423, 0.4028, 0.2016)
  bool zbl = false;
  double zbl_c[4] = {0, 0, 0, 0};
  double zbl_a_exp = 0, zbl_a_prefactor = 0, zbl_p = 6;
  std::vector<double> zbl_radius;  // per element, the covalent radii R
  int sh_lmax = 0;
  std::vector<double> embedding;  // [n_elements][channels of layer 0's input]
  std::vector<Layer> layers;
  int n_elements() const { return static_cast<int>(atomic_numbers.size()); }
};

}  // namespace mlpot::mace_native
