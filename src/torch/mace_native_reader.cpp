#include "mace_native_reader.hpp"

#include <cmath>
#include <map>
#include <sstream>

namespace mlpot::mace_native {

std::string Irreps::str() const {
  std::ostringstream s;
  for (size_t i = 0; i < blocks.size(); ++i) {
    s << (i ? "+" : "") << blocks[i].mul << "x" << blocks[i].l << (blocks[i].parity > 0 ? "e" : "o");
  }
  return s.str();
}

namespace {

using torch::jit::Module;

std::string type_name(const Module& m) { return m.type()->name() ? m.type()->name()->name() : "?"; }

struct Reader {
  std::string path;
  torch::Dtype dtype = torch::kFloat64;

  [[noreturn]] void fail(const std::string& what) const { throw Error(path + ": native MACE reader: " + what); }

  Module child(const Module& m, const std::string& name) const {
    if (!m.hasattr(name)) fail("module " + type_name(m) + " has no '" + name + "'");
    auto v = m.attr(name);
    if (!v.isModule()) fail("'" + name + "' of " + type_name(m) + " is not a module");
    return v.toModule();
  }
  torch::Tensor tensor(const Module& m, const std::string& name) const {
    if (!m.hasattr(name)) fail("module " + type_name(m) + " has no '" + name + "'");
    auto v = m.attr(name);
    if (!v.isTensor()) fail("'" + name + "' of " + type_name(m) + " is not a tensor");
    return v.toTensor().detach().to(torch::kCPU);
  }
  std::vector<double> doubles(const torch::Tensor& t) const {
    torch::Tensor c = t.to(torch::kFloat64).contiguous().reshape({-1});
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  }
  double scalar(const Module& m, const std::string& name) const {
    auto v = m.attr(name);
    if (v.isDouble()) return v.toDouble();
    if (v.isInt()) return double(v.toInt());
    if (v.isTensor()) return v.toTensor().to(torch::kFloat64).item<double>();
    fail("'" + name + "' of " + type_name(m) + " is not a number");
  }

  Irreps irreps(const Module& m, const std::string& name) const {
    if (!m.hasattr(name)) fail(type_name(m) + " has no '" + name + "'");
    Irreps out;
    auto v = m.attr(name);
    if (!v.isTuple() && !v.isList()) fail("'" + name + "' of " + type_name(m) + " is not a list of irreps");
    std::vector<c10::IValue> items = v.isTuple() ? v.toTupleRef().elements().vec() : v.toListRef().vec();
    for (const auto& it : items) {
      const auto& mul_ir = it.toTupleRef().elements();
      const auto& ir = mul_ir.at(1).toTupleRef().elements();
      IrrepBlock b;
      b.mul = int(mul_ir.at(0).toInt());
      b.l = int(ir.at(0).toInt());
      b.parity = int(ir.at(1).toInt());
      b.offset = out.dim;
      out.dim += b.dim();
      out.blocks.push_back(b);
    }
    return out;
  }

  // Calls `forward` of m on the given inputs, in the model's dtype; the result in float64.
  torch::Tensor call(const Module& m, std::vector<torch::Tensor> in) const {
    std::vector<c10::IValue> args;
    for (auto& t : in) args.push_back(t.to(dtype));
    try {
      return const_cast<Module&>(m).forward(args).toTensor().detach().to(torch::kFloat64);
    } catch (const c10::Error& e) {
      fail("probing " + type_name(m) + " failed: " + e.what_without_backtrace());
    }
  }

  // The block form of a dense equivariant linear map `dense` [dim_in][dim_out]: one matrix per
  // pair of blocks of equal irrep, checked to be the same for every component m and zero
  // elsewhere (anything else would not be an e3nn linear map read right).
  BlockLinear blocks(const torch::Tensor& dense, const Irreps& in, const Irreps& out, const std::string& what) const {
    BlockLinear L{in, out, {}};
    auto a = dense.accessor<double, 2>();
    double mx = 0;
    for (int i = 0; i < in.dim; ++i)
      for (int o = 0; o < out.dim; ++o) mx = std::max(mx, std::abs(a[i][o]));
    const double tol = 1e-12 * (mx > 0 ? mx : 1.0);
    std::vector<char> covered(size_t(in.dim) * out.dim, 0);
    for (size_t bi = 0; bi < in.blocks.size(); ++bi) {
      for (size_t bo = 0; bo < out.blocks.size(); ++bo) {
        const auto& I = in.blocks[bi];
        const auto& O = out.blocks[bo];
        if (I.l != O.l || I.parity != O.parity) continue;
        const int d = 2 * I.l + 1;
        LinearPath p{int(bi), int(bo), std::vector<double>(size_t(I.mul) * O.mul)};
        bool nonzero = false;
        for (int ci = 0; ci < I.mul; ++ci)
          for (int co = 0; co < O.mul; ++co) {
            const double w = a[I.offset + ci * d][O.offset + co * d];
            p.w[size_t(ci) * O.mul + co] = w;
            nonzero = nonzero || w != 0.0;
            for (int m = 0; m < d; ++m)
              for (int m2 = 0; m2 < d; ++m2) {
                const double want = m == m2 ? w : 0.0;
                const int ri = I.offset + ci * d + m, ro = O.offset + co * d + m2;
                covered[size_t(ri) * out.dim + ro] = 1;
                if (std::abs(a[ri][ro] - want) > tol) fail(what + ": not an equivariant block map");
              }
          }
        if (nonzero) L.paths.push_back(std::move(p));
      }
    }
    for (int i = 0; i < in.dim; ++i)
      for (int o = 0; o < out.dim; ++o)
        if (!covered[size_t(i) * out.dim + o] && std::abs(a[i][o]) > tol) fail(what + ": couples different irreps");
    return L;
  }

  // The engine stores features m-major within each block (mace_kernel.hpp), so a vector's block
  // structure must be the one its producer writes: `in_as` / `out_as` decompose a map against
  // the producer's (or consumer's) irreps where the module's own are grouped differently (older
  // mace-torch exports: a linear reading 8x1o+8x1o+8x1o as 24x1o; the same in e3nn's
  // channel-major layout, not in ours).
  Irreps as(const Irreps& own, const Irreps* want, const std::string& what) const {
    if (!want) return own;
    if (want->dim != own.dim) fail(what + ": " + own.str() + " where " + want->str() + " was expected");
    return *want;
  }

  BlockLinear linear(const Module& m, const std::string& what, const Irreps* in_as = nullptr,
                     const Irreps* out_as = nullptr) const {
    if (type_name(m) != "Linear") throw Unsupported(what + " of type " + type_name(m));
    Irreps in = as(irreps(m, "irreps_in"), in_as, what), out = as(irreps(m, "irreps_out"), out_as, what);
    torch::Tensor dense = call(m, {torch::eye(in.dim, torch::kFloat64)});
    return blocks(dense, in, out, what);
  }

  // An e3nn Linear with biases: the map, and the biases (its output at zero input).
  BlockLinear linear_bias(const Module& m, const std::string& what, std::vector<double>& bias,
                          const Irreps* in_as = nullptr) const {
    if (type_name(m) != "Linear") throw Unsupported(what + " of type " + type_name(m));
    Irreps in = as(irreps(m, "irreps_in"), in_as, what), out = irreps(m, "irreps_out");
    torch::Tensor b = call(m, {torch::zeros({1, in.dim}, torch::kFloat64)});
    torch::Tensor dense = call(m, {torch::eye(in.dim, torch::kFloat64)}) - b;
    bias = doubles(b);
    return blocks(dense, in, out, what);
  }

  // A FullyConnectedTensorProduct with the one-hot element attributes: one linear map per element.
  std::vector<BlockLinear> element_linear(const Module& m, int n_elem, const std::string& what,
                                         const Irreps* in_as = nullptr, const Irreps* out_as = nullptr) const {
    if (type_name(m) != "FullyConnectedTensorProduct") throw Unsupported(what + " of type " + type_name(m));
    Irreps in = as(irreps(m, "irreps_in1"), in_as, what), attrs = irreps(m, "irreps_in2"),
           out = as(irreps(m, "irreps_out"), out_as, what);
    if (attrs.dim != n_elem) fail(what + ": expected " + std::to_string(n_elem) + " element attributes");
    std::vector<BlockLinear> sets;
    for (int e = 0; e < n_elem; ++e) {
      torch::Tensor y = torch::zeros({in.dim, n_elem}, torch::kFloat64);
      y.select(1, e).fill_(1.0);
      sets.push_back(blocks(call(m, {torch::eye(in.dim, torch::kFloat64), y}), in, out, what));
    }
    // One structure for all elements (the kernels share the path list).
    for (auto& s : sets) {
      if (s.paths.size() != sets[0].paths.size()) {
        // pad with zero paths so every element has the union of paths
        fail(what + ": element-dependent path structure");
      }
    }
    return sets;
  }

  // The constant c of an activation module that computes c * silu(x) (e3nn's normalize2mom
  // around SiLU), read by evaluating it; any other function is refused.
  double silu_scale(const Module& act, const std::string& what) const {
    torch::Tensor x = torch::tensor({-2.5, -0.5, 0.75, 1.0, 3.0}, torch::kFloat64);
    torch::Tensor y = call(act, {x});
    const double tol = dtype == torch::kFloat32 ? 1e-5 : 1e-12;
    const double c = y[3].item<double>() * (1.0 + std::exp(-1.0));
    for (int k = 0; k < 5; ++k) {
      const double xv = x[k].item<double>(), silu = xv / (1.0 + std::exp(-xv));
      if (std::abs(y[k].item<double>() - c * silu) > tol * std::abs(c) * (1 + std::abs(silu)))
        throw Unsupported(what + " with an activation other than SiLU");
    }
    return c;
  }

  std::vector<MlpLayer> radial_mlp(const Module& net, const std::string& what) const {
    if (type_name(net) != "FullyConnectedNet") throw Unsupported(what + " of type " + type_name(net));
    std::vector<MlpLayer> layers;
    for (int k = 0;; ++k) {
      const std::string name = "layer" + std::to_string(k);
      if (!net.hasattr(name)) break;
      Module layer = child(net, name);
      torch::Tensor w = tensor(layer, "weight").to(torch::kFloat64);
      MlpLayer L;
      L.n_in = int(w.size(0));
      L.n_out = int(w.size(1));
      const double h_in = scalar(layer, "h_in"), var_in = scalar(layer, "var_in"), var_out = scalar(layer, "var_out");
      auto act = layer.attr("act");
      L.act = act.isModule();
      double factor;
      if (L.act) {
        Module a = act.toModule();
        // normalize2mom(silu): c0 * silu(x), c0 a constant of the compiled code: read by evaluating.
        L.act_scale = silu_scale(a, what) * std::sqrt(var_out);
        factor = 1.0 / std::sqrt(h_in * var_in);
      } else {
        factor = 1.0 / std::sqrt(h_in * var_in / var_out);
      }
      L.w = doubles(w * factor);
      layers.push_back(std::move(L));
    }
    if (layers.empty()) fail(what + ": no layers");
    return layers;
  }

  // The channel-wise tensor product's paths, by evaluating it on unit inputs per instruction.
  std::vector<TpPath> tensor_product(const Module& m, const Irreps& in1, const Irreps& in2, const Irreps& out,
                                     int& n_weights, const std::string& what) const {
    if (type_name(m) != "TensorProduct") throw Unsupported(what + " of type " + type_name(m));
    auto ins = m.attr("instructions").toListRef();
    n_weights = int(m.attr("weight_numel").toInt());
    std::vector<TpPath> paths;
    int offset = 0;
    for (const auto& iv : ins) {
      const auto& t = iv.toTupleRef().elements();
      TpPath p;
      p.in_block = int(t.at(0).toInt());
      const int i2 = int(t.at(1).toInt());
      p.out_block = int(t.at(2).toInt());
      const std::string mode = t.at(3).toStringRef();
      const bool has_weight = t.at(4).toBool();
      if (mode != "uvu" || !has_weight) throw Unsupported(what + " with '" + mode + "' paths");
      int size = 1;
      for (const auto& d : t.at(6).toTupleRef().elements()) size *= int(d.toInt());
      const auto& b1 = in1.blocks.at(p.in_block);
      const auto& b2 = in2.blocks.at(i2);
      const auto& b3 = out.blocks.at(p.out_block);
      if (b2.mul != 1 || b2.offset != b2.l * b2.l) throw Unsupported(what + " on edge attributes " + in2.str());
      if (size != b1.mul || b3.mul != b1.mul) fail(what + ": unexpected path shape");
      p.sh_l = b2.l;
      p.weight_offset = offset;
      offset += size;
      paths.push_back(std::move(p));
    }
    if (offset != n_weights) fail(what + ": weights do not add up");
    // Probe each path: channel-uniform unit input in block in_block, component m1; unit
    // spherical harmonic m2; unit weights on the path.
    int rows = 0;
    for (const auto& p : paths) rows += (2 * in1.blocks[p.in_block].l + 1) * (2 * p.sh_l + 1);
    torch::Tensor x = torch::zeros({rows, in1.dim}, torch::kFloat64), y = torch::zeros({rows, in2.dim}, torch::kFloat64),
                  w = torch::zeros({rows, n_weights}, torch::kFloat64);
    int r = 0;
    for (const auto& p : paths) {
      const auto& b1 = in1.blocks[p.in_block];
      const int d1 = 2 * b1.l + 1, d2 = 2 * p.sh_l + 1;
      for (int m1 = 0; m1 < d1; ++m1)
        for (int m2 = 0; m2 < d2; ++m2, ++r) {
          for (int c = 0; c < b1.mul; ++c) x[r][b1.offset + c * d1 + m1] = 1.0;
          y[r][p.sh_l * p.sh_l + m2] = 1.0;
          w.select(0, r).slice(0, p.weight_offset, p.weight_offset + b1.mul).fill_(1.0);
        }
    }
    torch::Tensor res = call(m, {x, y, w});
    auto a = res.accessor<double, 2>();
    double mx = 0;
    for (int i = 0; i < rows; ++i)
      for (int o = 0; o < out.dim; ++o) mx = std::max(mx, std::abs(a[i][o]));
    const double tol = 1e-12 * (mx > 0 ? mx : 1.0);
    r = 0;
    for (auto& p : paths) {
      const auto& b1 = in1.blocks[p.in_block];
      const auto& b3 = out.blocks[p.out_block];
      const int d1 = 2 * b1.l + 1, d2 = 2 * p.sh_l + 1, d3 = 2 * b3.l + 1;
      for (int m1 = 0; m1 < d1; ++m1)
        for (int m2 = 0; m2 < d2; ++m2, ++r) {
          for (int o = 0; o < out.dim; ++o) {
            const bool in_block = o >= b3.offset && o < b3.offset + b3.dim();
            if (!in_block) {
              if (std::abs(a[r][o]) > tol) fail(what + ": a path writes outside its block");
              continue;
            }
            const int c = (o - b3.offset) / d3, m3 = (o - b3.offset) % d3;
            const double v0 = a[r][b3.offset + m3];
            if (std::abs(a[r][o] - v0) > tol) fail(what + ": not channel-wise");
            if (c == 0 && std::abs(v0) > tol) p.cg.push_back({m1, m2, m3, v0});
          }
        }
    }
    return paths;
  }

  // Whether a contraction's weights of one order are switched off (mace-torch >= 0.3.14 marks them;
  // older exports have no such flags and use every order).
  bool zeroed(const Module& c, const std::string& flag) const {
    return c.hasattr(flag) && tensor(c, flag).item<bool>();
  }

  // Symmetric contraction of one product block into ContractionBlocks (coefficients of the
  // monomials of each channel's components, per element), from its U matrices and weights.
  std::vector<ContractionBlock> contraction(const Module& sc, const Irreps& target, int n_elem, int& correlation,
                                            const std::string& what) const {
    if (type_name(sc) != "SymmetricContraction") throw Unsupported(what + " of type " + type_name(sc));
    Module list = child(sc, "contractions");
    std::vector<ContractionBlock> out;
    const int n_x = target.dim / std::max(1, target.blocks.at(0).mul);
    for (int b = 0;; ++b) {
      if (!list.hasattr(std::to_string(b))) break;
      Module c = child(list, std::to_string(b));
      const int corr = int(c.attr("correlation").toInt());
      correlation = std::max(correlation, corr);
      if (corr > 3) throw Unsupported(what + " of correlation order " + std::to_string(corr));
      const int C = int(c.attr("num_features").toInt());
      ContractionBlock cb;
      std::map<std::array<int, 3>, size_t> mono_index;
      // coefficient accumulators per monomial: [element][channel][m_out]
      std::vector<std::vector<double>> acc;
      int n_m = -1;
      for (int nu = 1; nu <= corr; ++nu) {
        torch::Tensor U = tensor(c, "U_matrix_" + std::to_string(nu)).to(torch::kFloat64);
        // U: [(2l+1),] n_x^nu, K  (the leading dimension is dropped for l_out = 0). Its shape
        // gives the output's l even where the weights are zeroed (an output the inputs' parities
        // cannot reach, as 1o from even features in the SO(3) variant: the block stays zero).
        const bool scalar_out = U.dim() == nu + 1;
        if (scalar_out) U = U.unsqueeze(0);
        U = U.contiguous();
        const int m_out = int(U.size(0)), K = int(U.size(-1));
        if (n_m < 0) n_m = m_out;
        torch::Tensor W;
        if (nu == corr) {
          if (zeroed(c, "weights_max_zeroed")) continue;
          W = tensor(c, "weights_max");
        } else {
          const int idx = corr - 1 - nu;
          if (zeroed(c, "weights_" + std::to_string(idx) + "_zeroed")) continue;
          W = tensor(child(c, "weights"), std::to_string(idx));
        }
        W = W.to(torch::kFloat64).contiguous();  // [n_elem, K, C]
        if (m_out != n_m || W.size(0) != n_elem || W.size(1) != K || W.size(2) != C) fail(what + ": shapes");
        for (int d = 1; d <= nu; ++d)
          if (U.size(d) != n_x) fail(what + ": U matrix does not match the features");
        auto u = U.reshape({m_out, -1, K});
        auto ua = u.accessor<double, 3>();
        auto wa = W.accessor<double, 3>();
        double umax = U.abs().max().item<double>();
        const long n_tuples = u.size(1);
        for (long tup = 0; tup < n_tuples; ++tup) {
          std::array<int, 3> f{-1, -1, -1};
          long rest = tup;
          for (int d = nu - 1; d >= 0; --d) {
            f[d] = int(rest % n_x);
            rest /= n_x;
          }
          for (int a = 1; a < nu; ++a)  // sort the (at most 3) factors
            for (int b = a; b > 0 && f[b] < f[b - 1]; --b) std::swap(f[b], f[b - 1]);
          for (int mo = 0; mo < m_out; ++mo) {
            bool any = false;
            for (int k = 0; k < K; ++k) any = any || std::abs(ua[mo][tup][k]) > 1e-14 * umax;
            if (!any) continue;
            auto it = mono_index.find(f);
            size_t idx;
            if (it == mono_index.end()) {
              idx = acc.size();
              mono_index[f] = idx;
              acc.emplace_back(size_t(n_elem) * C * n_m, 0.0);
              cb.mono.push_back(f);
            } else {
              idx = it->second;
            }
            auto& A = acc[idx];
            for (int e = 0; e < n_elem; ++e)
              for (int ch = 0; ch < C; ++ch) {
                double s = 0;
                for (int k = 0; k < K; ++k) s += ua[mo][tup][k] * wa[e][k][ch];
                A[(size_t(e) * C + ch) * n_m + mo] += s;
              }
          }
        }
      }
      if (n_m < 0) n_m = 1;
      cb.l_out = (n_m - 1) / 2;
      const size_t n_k = cb.mono.size();
      cb.coeff.assign(size_t(n_elem) * C * n_m * n_k, 0.0);
      for (size_t k = 0; k < n_k; ++k)
        for (int e = 0; e < n_elem; ++e)
          for (int ch = 0; ch < C; ++ch)
            for (int mo = 0; mo < n_m; ++mo)
              cb.coeff[((size_t(e) * C + ch) * n_m + mo) * n_k + k] = acc[k][(size_t(e) * C + ch) * n_m + mo];
      out.push_back(std::move(cb));
    }
    return out;
  }
};

}  // namespace

Model read_model(const std::string& path, const torch::jit::Module& root) {
  Reader rd{path};
  if (!root.hasattr("model")) throw Unsupported("a TorchScript file without the LAMMPS_MACE wrapper's 'model'");
  Module model = rd.child(root, "model");
  const std::string arch = type_name(model);
  if (arch != "ScaleShiftMACE" && arch != "MACE") throw Unsupported("model class " + arch);
  Model M;
  M.source = path;
  Module emb = rd.child(rd.child(model, "node_embedding"), "linear");
  torch::Tensor w_emb = rd.tensor(emb, "weight");
  rd.dtype = w_emb.scalar_type();
  M.dtype = rd.dtype == torch::kFloat32 ? "float32" : "float64";
  for (const char* opt : {"joint_embedding", "embedding_readout", "lammps_mliap"}) {
    if (model.hasattr(opt) && model.attr(opt).isModule()) throw Unsupported(std::string("'") + opt + "'");
  }
  {
    torch::Tensor z = rd.tensor(model, "atomic_numbers").to(torch::kLong);
    for (int i = 0; i < z.numel(); ++i) M.atomic_numbers.push_back(int(z[i].item<int64_t>()));
  }
  const int n_elem = M.n_elements();
  M.r_max = rd.tensor(model, "r_max").to(torch::kFloat64).item<double>();
  M.head = root.hasattr("head") ? int(rd.tensor(root, "head").reshape({-1})[0].item<int64_t>()) : 0;
  if (M.head < 0) rd.fail("negative head index");
  // A module's covalent radii (ase.data.covalent_radii, indexed by Z) of the model's elements.
  auto radii = [&](const Module& m) {
    const std::vector<double> all = rd.doubles(rd.tensor(m, "covalent_radii"));
    std::vector<double> out;
    for (int z : M.atomic_numbers) {
      if (z < 0 || z >= int(all.size())) rd.fail(type_name(m) + ": no covalent radius for Z = " + std::to_string(z));
      out.push_back(all[size_t(z)]);
    }
    return out;
  };

  // ZBL pair repulsion
  if (model.hasattr("pair_repulsion_fn") && model.attr("pair_repulsion_fn").isModule()) {
    Module zbl = rd.child(model, "pair_repulsion_fn");
    if (type_name(zbl) != "ZBLBasis") throw Unsupported("the pair repulsion " + type_name(zbl));
    const std::vector<double> c = rd.doubles(rd.tensor(zbl, "c"));
    if (c.size() != 4) rd.fail("ZBLBasis: " + std::to_string(c.size()) + " coefficients c where 4 were expected");
    M.zbl = true;
    for (int k = 0; k < 4; ++k) M.zbl_c[k] = c[size_t(k)];
    M.zbl_a_exp = rd.scalar(zbl, "a_exp");
    M.zbl_a_prefactor = rd.scalar(zbl, "a_prefactor");
    M.zbl_p = rd.scalar(zbl, "p");
    M.zbl_radius = radii(zbl);
  }

  // Radial embedding
  Module radial = rd.child(model, "radial_embedding");
  if (radial.hasattr("distance_transform") && radial.attr("distance_transform").isModule()) {
    Module tr = rd.child(radial, "distance_transform");
    if (type_name(tr) == "AgnesiTransform") {
      M.agnesi = true;
      M.agnesi_q = rd.scalar(tr, "q");
      M.agnesi_p = rd.scalar(tr, "p");
      M.agnesi_a = rd.scalar(tr, "a");
      M.agnesi_radius = radii(tr);
    } else if (type_name(tr) == "SoftTransform") {
      M.soft = true;
      M.soft_alpha = rd.scalar(tr, "alpha");
      M.soft_radius = radii(tr);
    } else {
      throw Unsupported("the distance transform " + type_name(tr));
    }
  }
  Module bessel = rd.child(radial, "bessel_fn");
  const std::string basis = type_name(bessel);
  if (basis == "BesselBasis") {
    M.bessel_w = rd.doubles(rd.tensor(bessel, "bessel_weights"));
    M.bessel_prefactor = rd.tensor(bessel, "prefactor").to(torch::kFloat64).item<double>();
  } else if (basis == "GaussianBasis") {
    M.basis = 1;
    M.bessel_w = rd.doubles(rd.tensor(bessel, "gaussian_weights"));
    M.gaussian_coeff = rd.scalar(bessel, "coeff");
  } else if (basis == "ChebychevBasis") {
    M.basis = 2;
    const std::vector<double> n = rd.doubles(rd.tensor(bessel, "n"));
    for (size_t k = 0; k < n.size(); ++k)
      if (n[k] != double(k + 1)) rd.fail("ChebychevBasis: orders other than 1, 2, ..., N");
    M.bessel_w.assign(n.size(), 0.0);
  } else {
    throw Unsupported("the radial basis " + basis);
  }
  Module cutoff = rd.child(radial, "cutoff_fn");
  if (type_name(cutoff) != "PolynomialCutoff") throw Unsupported("the cutoff " + type_name(cutoff));
  M.cutoff_p = rd.tensor(cutoff, "p").to(torch::kFloat64).item<double>();
  if (std::abs(rd.tensor(cutoff, "r_max").to(torch::kFloat64).item<double>() - M.r_max) > 1e-12 * M.r_max)
    rd.fail("cutoff r_max differs from the model's r_max");
  M.cutoff_on_basis = !(radial.hasattr("apply_cutoff") && !radial.attr("apply_cutoff").toBool());

  // Spherical harmonics
  Module sh = rd.child(model, "spherical_harmonics");
  M.sh_lmax = int(sh.attr("_lmax").toInt());
  if (!sh.attr("normalize").toBool() || sh.attr("normalization").toStringRef() != "component" ||
      !sh.attr("_is_range_lmax").toBool()) {
    throw Unsupported("spherical harmonics other than normalised, component-normalised 0..lmax");
  }
  if (M.sh_lmax > 3) throw Unsupported("spherical harmonics of max_ell " + std::to_string(M.sh_lmax) + " (above 3)");
  Irreps sh_irreps = rd.irreps(sh, "irreps_out");

  // Embedding: element e -> channels
  {
    Irreps in = rd.irreps(emb, "irreps_in"), out = rd.irreps(emb, "irreps_out");
    if (in.dim != n_elem || out.blocks.size() != 1 || out.blocks[0].l != 0) rd.fail("unexpected node embedding");
    torch::Tensor dense = rd.call(emb, {torch::eye(n_elem, torch::kFloat64)});
    M.embedding = rd.doubles(dense);
  }

  // Reference energies and scale/shift of the head
  {
    torch::Tensor e0 = rd.tensor(rd.child(model, "atomic_energies_fn"), "atomic_energies").to(torch::kFloat64);
    if (e0.dim() == 2) {
      if (M.head >= e0.size(0))
        rd.fail("head " + std::to_string(M.head) + " of a model with " + std::to_string(e0.size(0)) + " heads");
      e0 = e0[M.head];
    } else if (M.head != 0) {
      rd.fail("head " + std::to_string(M.head) + " of a model with one head");
    }
    M.e0 = rd.doubles(e0);
    if (int(M.e0.size()) != n_elem) rd.fail("atomic energies do not match the elements");
    if (arch == "ScaleShiftMACE") {
      Module ss = rd.child(model, "scale_shift");
      torch::Tensor s = rd.tensor(ss, "scale").reshape({-1}), h = rd.tensor(ss, "shift").reshape({-1});
      M.scale = s[s.numel() > 1 ? M.head : 0].to(torch::kFloat64).item<double>();
      M.shift = h[h.numel() > 1 ? M.head : 0].to(torch::kFloat64).item<double>();
    }
  }

  // Layers
  Module interactions = rd.child(model, "interactions"), products = rd.child(model, "products"),
         readouts = rd.child(model, "readouts");
  const int T = int(rd.tensor(model, "num_interactions").item<int64_t>());
  int n_readouts = 0;
  while (readouts.hasattr(std::to_string(n_readouts))) ++n_readouts;
  if (n_readouts != T && n_readouts != 1) rd.fail("readouts do not match the interactions");
  for (int t = 0; t < T; ++t) {
    const std::string tag = "interaction " + std::to_string(t);
    Module I = rd.child(interactions, std::to_string(t));
    const std::string kind = type_name(I);
    Layer L;
    if (kind == "RealAgnosticResidualInteractionBlock" || kind == "RealAgnosticDensityResidualInteractionBlock") {
      L.residual = true;
    } else if (kind == "RealAgnosticInteractionBlock" || kind == "RealAgnosticDensityInteractionBlock") {
      L.residual = false;
    } else {
      throw Unsupported("interaction block " + kind);
    }
    L.density = kind.find("Density") != std::string::npos;
    if (I.hasattr("conv_fusion")) throw Unsupported("fused convolutions (conv_fusion)");
    L.avg_num_neighbors = rd.scalar(I, "avg_num_neighbors");
    Module up = rd.child(I, "linear_up");
    // Each feature vector keeps the block structure of the module that writes it: H_t that of
    // the previous layer's product linear, U the tensor product's input, M its output.
    L.node_in = t == 0 ? rd.irreps(up, "irreps_in") : rd.as(rd.irreps(up, "irreps_in"), &M.layers[t - 1].hidden, tag);
    Module tp = rd.child(I, "conv_tp");
    const Irreps tp_in = rd.irreps(tp, "irreps_in1");
    L.linear_up = rd.linear(up, tag + " linear_up", &L.node_in, &tp_in);
    if (L.linear_up.out.dim != L.node_in.dim) throw Unsupported(tag + " with edge_irreps different from its input");
    L.radial_mlp = rd.radial_mlp(rd.child(I, "conv_tp_weights"), tag + " radial MLP");
    if (L.radial_mlp.front().n_in != int(M.bessel_w.size())) rd.fail(tag + ": radial MLP input");
    L.mid = rd.irreps(tp, "irreps_out");
    Irreps in2 = rd.irreps(tp, "irreps_in2");
    if (in2.dim != sh_irreps.dim) rd.fail(tag + ": edge attributes do not match the spherical harmonics");
    L.tp = rd.tensor_product(tp, L.linear_up.out, in2, L.mid, L.n_weights, tag + " conv_tp");
    if (L.radial_mlp.back().n_out != L.n_weights) rd.fail(tag + ": radial MLP output");
    if (L.density) {
      std::vector<MlpLayer> dn = rd.radial_mlp(rd.child(I, "density_fn"), tag + " density_fn");
      if (dn.size() != 1 || dn[0].act || dn[0].n_out != 1 || dn[0].n_in != int(M.bessel_w.size()))
        rd.fail(tag + ": density_fn is not one linear layer from the radial features to one number");
      L.density_w = dn[0].w;
    }
    L.linear = rd.linear(rd.child(I, "linear"), tag + " linear", &L.mid);
    L.target = L.linear.out;
    if (!L.residual) L.skip = rd.element_linear(rd.child(I, "skip_tp"), n_elem, tag + " skip_tp", &L.target, &L.target);
    for (const auto& b : L.target.blocks)
      if (b.mul != L.target.blocks[0].mul) throw Unsupported(tag + " with unequal multiplicities " + L.target.str());

    Module P = rd.child(products, std::to_string(t));
    if (type_name(P) != "EquivariantProductBasisBlock") throw Unsupported("product block " + type_name(P));
    // use_agnostic_product: one set of contraction weights, used for every element.
    const bool agnostic = P.hasattr("use_agnostic_product") && P.attr("use_agnostic_product").toBool();
    L.use_sc = P.attr("use_sc").toBool();
    Module prod_linear = rd.child(P, "linear");
    L.product_out = rd.irreps(prod_linear, "irreps_in");
    L.contraction = rd.contraction(rd.child(P, "symmetric_contractions"), L.target, agnostic ? 1 : n_elem,
                                   L.correlation, tag + " symmetric contraction");
    if (agnostic) {
      for (auto& cb : L.contraction) {
        const std::vector<double> one = cb.coeff;
        cb.coeff.clear();
        for (int e = 0; e < n_elem; ++e) cb.coeff.insert(cb.coeff.end(), one.begin(), one.end());
      }
    }
    if (L.contraction.size() != L.product_out.blocks.size()) rd.fail(tag + ": contraction outputs");
    for (size_t b = 0; b < L.contraction.size(); ++b)
      if (L.contraction[b].l_out != L.product_out.blocks[b].l) rd.fail(tag + ": contraction output order");
    L.product_linear = rd.linear(prod_linear, tag + " product linear");
    L.hidden = L.product_linear.out;
    if (L.residual) L.skip = rd.element_linear(rd.child(I, "skip_tp"), n_elem, tag + " skip_tp", &L.node_in, &L.hidden);
    if (L.residual && L.use_sc) {
      if (L.skip.at(0).out.dim != L.hidden.dim || L.skip.at(0).in.dim != L.node_in.dim) rd.fail(tag + ": skip shapes");
    }

    const bool readout_here = n_readouts == T || t == T - 1;
    if (readout_here) {
      Module R = rd.child(readouts, std::to_string(n_readouts == T ? t : 0));
      const std::string rk = type_name(R);
      L.has_readout = true;
      if (rk == "LinearReadoutBlock") {
        L.readout_1 = rd.linear(rd.child(R, "linear"), tag + " readout", &L.hidden);
      } else if (rk == "NonLinearReadoutBlock" || rk == "NonLinearBiasReadoutBlock") {
        L.readout_nonlinear = true;
        L.readout_bias = rk == "NonLinearBiasReadoutBlock";
        L.readout_1 = rd.linear(rd.child(R, "linear_1"), tag + " readout", &L.hidden);
        if (L.readout_bias) {
          L.readout_mid = rd.linear_bias(rd.child(R, "linear_mid"), tag + " readout", L.readout_mid_bias);
          L.readout_2 = rd.linear_bias(rd.child(R, "linear_2"), tag + " readout", L.readout_out_bias);
          if (L.readout_mid.out.dim != L.readout_1.out.dim || L.readout_mid.in.dim != L.readout_1.out.dim)
            rd.fail(tag + ": readout linear_mid shapes");
        } else {
          L.readout_2 = rd.linear(rd.child(R, "linear_2"), tag + " readout");
        }
        Module act = rd.child(R, "non_linearity");
        Module acts = rd.child(act, "acts");
        Module a0 = rd.child(acts, "0");
        if (acts.hasattr("1")) throw Unsupported("readouts with several activations");
        if (type_name(a0) != "normalize2mom") throw Unsupported("readout activation " + type_name(a0));
        L.readout_act_scale = rd.silu_scale(a0, tag + " readout activation");
        for (const auto& b : L.readout_1.out.blocks)
          if (b.l != 0) throw Unsupported("non-scalar readout MLP irreps");
      } else {
        throw Unsupported("readout block " + rk);
      }
      // Several heads: one output column per head (the head's is taken); a non-linear readout's
      // hidden units are grouped by head, and mace-torch's mask_head zeroes the other heads'
      // groups before linear_2, which is the same as dropping their rows of linear_2.
      const Irreps& heads = (L.readout_nonlinear ? L.readout_2 : L.readout_1).out;
      for (const auto& b : heads.blocks)
        if (b.l != 0) rd.fail(tag + ": readout outputs " + heads.str());
      if (M.head >= heads.dim)
        rd.fail(tag + ": head " + std::to_string(M.head) + " of a readout with " + std::to_string(heads.dim) + " outputs");
      const int num_heads = R.hasattr("num_heads") ? int(rd.scalar(R, "num_heads")) : 1;
      if (L.readout_nonlinear && num_heads > 1) {
        const int units = L.readout_1.out.dim;
        if (units % num_heads != 0) rd.fail(tag + ": readout units not divisible by the heads");
        const int per_head = units / num_heads;
        // (The bias readout masks after both activations: rows of linear_mid and of linear_2.)
        for (BlockLinear* lin : {&L.readout_2, L.readout_bias ? &L.readout_mid : nullptr}) {
          if (!lin) continue;
          for (auto& path : lin->paths) {
            const auto& bi = lin->in.blocks.at(path.in_block);
            const int mo = lin->out.blocks.at(path.out_block).mul;
            for (int ci = 0; ci < bi.mul; ++ci)
              if ((bi.offset + ci) / per_head != M.head)
                for (int co = 0; co < mo; ++co) path.w[size_t(ci) * mo + co] = 0.0;
          }
        }
      }
    }
    M.layers.push_back(std::move(L));
  }
  if (M.layers.empty()) rd.fail("no interactions");
  if (M.layers[0].node_in.dim * n_elem != int(M.embedding.size())) rd.fail("embedding does not feed the first layer");
  return M;
}

}  // namespace mlpot::mace_native
