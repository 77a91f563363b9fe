#pragma once
// MaceEngine's host glue and kernels (included by mace_kernel.hpp).
#include <algorithm>
#include <functional>
#include <map>

namespace mlpot::kokkos::mace {

template <class ExecSpace, class Real>
MaceEngine<ExecSpace, Real>::MaceEngine(const mace_native::Model& m, bool radial_table, double table_tolerance) {
  using detail::upload;
  using detail::upload_real;
  radial_.bessel_w = upload_real<double, space>(m.bessel_w, "mace::bessel_w");
  radial_.n_bessel = int(m.bessel_w.size());
  radial_.basis = m.basis;
  radial_.param = m.basis == kGaussian ? m.gaussian_coeff : m.bessel_prefactor;
  radial_.sh_lmax = m.sh_lmax;
  radial_.sh_dim = (m.sh_lmax + 1) * (m.sh_lmax + 1);
  radial_.cutoff_on_basis = m.cutoff_on_basis;
  radial_.r_max = Real(m.r_max);
  radial_.p = Real(m.cutoff_p);
  radial_.transform = m.agnesi ? 1 : m.soft ? 2 : 0;
  if (radial_.transform) {
    radial_.agnesi_q = m.agnesi_q;
    radial_.agnesi_p = m.agnesi_p;
    radial_.agnesi_a = m.agnesi_a;
    radial_.soft_alpha = m.soft_alpha;
    std::vector<double> share;
    for (double x : m.agnesi ? m.agnesi_radius : m.soft_radius) share.push_back(m.agnesi ? 0.5 * x : x);
    radial_.radius_share = upload_real<Real, space>(share, "mace::radius_share");
  }
  zbl_ = m.zbl;
  if (m.zbl) {
    for (int k = 0; k < 4; ++k) zbl_c_[k] = m.zbl_c[k];
    zbl_a_prefactor_ = m.zbl_a_prefactor;
    zbl_p_ = m.zbl_p;
    const int n_elem = m.n_elements();
    zbl_element_ = Kokkos::View<double* [2], space>("mace::zbl_element", n_elem);
    zbl_pair_ = Kokkos::View<double**, Kokkos::LayoutRight, space>("mace::zbl_pair", n_elem, n_elem);
    auto h = Kokkos::create_mirror_view(zbl_element_);
    auto hp = Kokkos::create_mirror_view(zbl_pair_);
    for (int e = 0; e < n_elem; ++e) {
      h(e, 0) = std::pow(double(m.atomic_numbers[size_t(e)]), m.zbl_a_exp);
      h(e, 1) = m.zbl_radius.at(size_t(e));
      // mace-torch's `14.3996 * Z_u * Z_v` multiplies integer tensors by a Python float: LibTorch
      // does that in its default dtype, float32 in the LAMMPS plugin, in the TorchScript export
      // and in mace-torch's own evaluation unless the default is changed. The same float32
      // products here (in double they differ by up to ~6e-8 of the repulsion).
      for (int u = 0; u < n_elem; ++u) {
        const float zu = float(m.atomic_numbers[size_t(u)]), zv = float(m.atomic_numbers[size_t(e)]);
        const float k = (14.3996f * zu) * zv;
        hp(u, e) = double(k);
      }
    }
    Kokkos::deep_copy(zbl_element_, h);
    Kokkos::deep_copy(zbl_pair_, hp);
  }
  embedding_ = upload_real<Real, space>(m.embedding, "mace::embedding");
  e0_ = upload_real<Real, space>(m.e0, "mace::e0");
  channels0_ = m.layers.at(0).node_in.dim;
  scale_ = Real(m.scale);
  shift_ = Real(m.shift);
  const int n_elem = m.n_elements();
  for (const auto& src : m.layers) {
    Layer L;
    L.residual = src.residual;
    L.use_sc = src.use_sc;
    L.has_readout = src.has_readout;
    L.readout_nonlinear = src.readout_nonlinear;
    L.head = m.head;
    L.inv_avg = Real(1.0 / src.avg_num_neighbors);
    L.density = src.density;
    if (src.density) L.density_w = upload_real<double, space>(src.density_w, "mace::density_w");
    L.dim_in = src.node_in.dim;
    L.dim_mid = src.mid.dim;
    L.dim_target = src.target.dim;
    L.dim_prod = src.product_out.dim;
    L.dim_hidden = src.hidden.dim;
    L.linear_up = DeviceLinear<Real, space>::make({&src.linear_up});
    L.linear = DeviceLinear<Real, space>::make({&src.linear});
    std::vector<const mace_native::BlockLinear*> skips;
    for (const auto& s : src.skip) skips.push_back(&s);
    if (!skips.empty()) L.skip = DeviceLinear<Real, space>::make(skips);
    L.product_linear = DeviceLinear<Real, space>::make({&src.product_linear});
    if (src.has_readout) {
      L.readout_1 = DeviceLinear<Real, space>::make({&src.readout_1});
      L.readout_act_scale = Real(src.readout_act_scale);
      if (src.readout_nonlinear) {
        L.readout_2 = DeviceLinear<Real, space>::make({&src.readout_2});
        L.readout_bias = src.readout_bias;
        if (src.readout_bias) {
          L.readout_mid = DeviceLinear<Real, space>::make({&src.readout_mid});
          L.readout_mid_bias = upload_real<Real, space>(src.readout_mid_bias, "mace::readout_mid_bias");
          L.readout_out_bias = upload_real<Real, space>(src.readout_out_bias, "mace::readout_out_bias");
        }
        L.dim_mlp = src.readout_1.out.dim;
        L.dim_heads = src.readout_2.out.dim;
      } else {
        L.dim_heads = src.readout_1.out.dim;
      }
    }
    // radial MLP
    std::vector<int> mlp;
    std::vector<double> w, sc;
    int width = 0;
    for (const auto& layer : src.radial_mlp) {
      mlp.insert(mlp.end(), {layer.n_in, layer.n_out, int(w.size()), layer.act ? 1 : 0});
      w.insert(w.end(), layer.w.begin(), layer.w.end());
      sc.push_back(layer.act_scale);
      width = std::max({width, layer.n_in, layer.n_out});
    }
    L.n_mlp = int(src.radial_mlp.size());
    L.n_weights = src.n_weights;
    L.mlp_width = width;
    L.mlp = upload<int, space>(mlp, "mace::mlp");
    L.mlp_w = upload_real<double, space>(w, "mace::mlp_w");
    L.mlp_scale = upload_real<double, space>(sc, "mace::mlp_scale");
    tables_.emplace_back(0, 0.0);
    // With a distance transform the weights depend on the element pair too: no table over r.
    if (radial_table && !m.agnesi && !m.soft) {
      HostRadialTable tab = build_radial_table(m, src, table_tolerance);
      if (tab.ok) {
        L.use_table = 1;
        L.table_knots = tab.n_knots;
        L.table_r_lo = Real(tab.r_lo);
        L.table_inv_h = Real(1.0 / tab.h);
        L.table = upload_real<Real, space>(tab.coeff, "mace::radial_table");
        tables_.back() = {tab.n_knots, tab.error};
      }
    }
    // tensor product
    std::vector<int> tp, tpm;
    std::vector<double> tpv;
    for (const auto& p : src.tp) {
      const auto& b1 = src.node_in.blocks.at(p.in_block);
      const auto& b3 = src.mid.blocks.at(p.out_block);
      const int first = int(tpv.size());
      for (const auto& e : p.cg) {
        tpm.insert(tpm.end(), {e.m1, e.m2, e.m3});
        tpv.push_back(e.value);
      }
      tp.insert(tp.end(), {b1.offset, 2 * b1.l + 1, p.sh_l * p.sh_l, b3.offset, 2 * b3.l + 1, p.weight_offset, first,
                           int(tpv.size())});
      L.channels_in = b1.mul;
    }
    L.n_tp = int(src.tp.size());
    L.tp = upload<int, space>(tp, "mace::tp");
    L.tp_m = upload<int, space>(tpm, "mace::tp_m");
    L.tp_v = upload_real<Real, space>(tpv, "mace::tp_v");
    // contraction: components of a channel, monomials as a tree, terms
    std::vector<int> xb;
    for (const auto& b : src.target.blocks) {
      for (int mm = 0; mm < 2 * b.l + 1; ++mm) xb.push_back(b.offset + mm * b.mul);
      L.channels = b.mul;
    }
    L.n_x = int(xb.size());
    std::map<std::array<int, 3>, int> index;  // sorted factors (-1 padded at the end) -> k
    std::vector<int> parent, factor;
    std::function<int(std::array<int, 3>)> mono_id = [&](std::array<int, 3> f) -> int {
      auto it = index.find(f);
      if (it != index.end()) return it->second;
      int deg = 0;
      while (deg < 3 && f[deg] >= 0) ++deg;
      int par = -1;
      if (deg > 1) {
        std::array<int, 3> pf = f;
        pf[deg - 1] = -1;
        par = mono_id(pf);
      }
      const int k = int(parent.size());
      parent.push_back(par);
      factor.push_back(f[deg - 1]);
      index[f] = k;
      return k;
    };
    std::vector<int> t_out, t_mono;
    std::vector<std::vector<double>> t_coeff;  // per term: [element][channel]
    for (size_t b = 0; b < src.contraction.size(); ++b) {
      const auto& cb = src.contraction[b];
      const auto& ob = src.product_out.blocks.at(b);
      const int n_m = 2 * cb.l_out + 1, n_k = int(cb.mono.size());
      const int C = ob.mul;
      for (int mo = 0; mo < n_m; ++mo) {
        for (int k = 0; k < n_k; ++k) {
          std::vector<double> cf(size_t(n_elem) * C);
          bool any = false;
          for (int e = 0; e < n_elem; ++e)
            for (int c = 0; c < C; ++c) {
              const double v = cb.coeff[((size_t(e) * C + c) * n_m + mo) * n_k + k];
              cf[size_t(e) * C + c] = v;
              any = any || v != 0.0;
            }
          if (!any) continue;
          t_out.push_back(ob.offset + mo * C);
          t_mono.push_back(mono_id(cb.mono[k]));
          t_coeff.push_back(std::move(cf));
        }
      }
    }
    L.n_mono = int(parent.size());
    L.n_terms = int(t_out.size());
    std::vector<double> coeff(size_t(n_elem) * L.n_terms * L.channels);
    for (int t = 0; t < L.n_terms; ++t)
      for (int e = 0; e < n_elem; ++e)
        for (int c = 0; c < L.channels; ++c)
          coeff[(size_t(e) * L.n_terms + t) * L.channels + c] = t_coeff[t][size_t(e) * L.channels + c];
    L.x_base = upload<int, space>(xb, "mace::x_base");
    L.mono_parent = upload<int, space>(parent, "mace::mono_parent");
    L.mono_factor = upload<int, space>(factor, "mace::mono_factor");
    L.term_out = upload<int, space>(t_out, "mace::term_out");
    L.term_mono = upload<int, space>(t_mono, "mace::term_mono");
    L.coeff = upload_real<Real, space>(coeff, "mace::coeff");
    layers_.push_back(L);
  }
}

template <class ExecSpace, class Real>
void MaceEngine<ExecSpace, Real>::reserve(int n) {
  if (n <= capacity_ && !H_.empty()) return;
  const int cap = std::max(n, int(capacity_ * 1.1) + 1);
  H_.clear();  // a failed allocation below leaves no half-sized set behind
  capacity_ = 0;
  reserve_buffers(cap);
}

template <class ExecSpace, class Real>
double MaceEngine<ExecSpace, Real>::node_buffer_bytes(long n) const {
  size_t per_node = 0;
  int w_mid = 1, w_in = 1;
  for (const Layer& L : layers_) {
    per_node += 2 * size_t(L.dim_in) + L.dim_target + (L.density ? 2 + (L.residual ? 0 : L.dim_target) : 0);
    w_mid = std::max(w_mid, L.dim_mid);
    w_in = std::max({w_in, L.dim_in, L.dim_hidden});
  }
  per_node += layers_.back().dim_hidden + 2 * size_t(w_mid) + 3 * size_t(w_in);
  return double(per_node) * sizeof(Real) * double(n);
}

template <class ExecSpace, class Real>
void MaceEngine<ExecSpace, Real>::reserve_buffers(int cap) {
  const int T = int(layers_.size());
  H_.assign(T + 1, Nodes());
  U_.assign(T, Nodes());
  X_.assign(T, Nodes());
  int w_mid = 1, w_in = 1;
  for (int t = 0; t < T; ++t) {
    const Layer& L = layers_[t];
    H_[t] = Nodes("mace::H", cap, L.dim_in);
    U_[t] = Nodes("mace::U", cap, L.dim_in);
    X_[t] = Nodes("mace::X", cap, L.dim_target);
    w_mid = std::max(w_mid, L.dim_mid);
    w_in = std::max({w_in, L.dim_in, L.dim_hidden});
  }
  H_[T] = Nodes("mace::H", cap, layers_.back().dim_hidden);
  D_.assign(T, Kokkos::View<Real*, space>());
  A_.assign(T, Nodes());
  for (int t = 0; t < T; ++t) {
    if (!layers_[t].density) continue;
    D_[t] = Kokkos::View<Real*, space>("mace::D", cap);
    if (!layers_[t].residual) A_[t] = Nodes("mace::A", cap, layers_[t].dim_target);
    dD_ = Kokkos::View<Real*, space>("mace::dD", cap);
  }
  M_ = Nodes("mace::M", cap, w_mid);
  dM_ = Nodes("mace::dM", cap, w_mid);
  dU_ = Nodes("mace::dU", cap, w_in);
  G_[0] = Nodes("mace::G0", cap, w_in);
  G_[1] = Nodes("mace::G1", cap, w_in);
  capacity_ = cap;
}

template <class ExecSpace, class Real>
double MaceEngine<ExecSpace, Real>::run(const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy,
                                        Kokkos::View<double* [3], space> edge_grad, const Halo* halo) {
  if (!halo && g.n_computed != g.n_nodes)
    throw std::logic_error("MaceEngine::run: a graph with ghosts set from their owners needs a Halo");
  reserve(g.n_nodes);
  embed(g, node_energy);
  const int T = int(layers_.size());
  for (int t = 0; t < T; ++t) forward_layer(t, g, node_energy, halo);
  clear_adjoints(g, edge_grad);
  for (int t = T - 1; t >= 0; --t) backward_layer(t, g, edge_grad, halo);
  if (zbl_) pair_repulsion(g, node_energy, edge_grad);
  double total = 0;
  Kokkos::parallel_reduce(
      "mace::energy", Kokkos::RangePolicy<ExecSpace>(0, g.n_nodes),
      KOKKOS_LAMBDA(int i, double& s) { s += node_energy(i); }, total);
  return total;
}

template <class ExecSpace, class Real>
int MaceEngine<ExecSpace, Real>::halo_width() const {
  int w = 0;
  for (size_t t = 1; t < layers_.size(); ++t) w = std::max(w, layers_[t].dim_in);
  return w;
}

template <class ExecSpace, class Real>
void MaceEngine<ExecSpace, Real>::exchange_rows(Nodes v, int w, int n, int n_out, int in_begin, int in_end,
                                                const std::function<void(double*, int)>& exchange) {
  if (long(halo_rows_.extent(0)) < long(n) * w)
    halo_rows_ = Kokkos::View<double*, space>("mace::halo_rows", (long(n) * w) * 11 / 10 + 16);
  auto rows = halo_rows_;
  Kokkos::parallel_for(
      "mace::halo_out", Kokkos::RangePolicy<ExecSpace>(0, long(n_out) * w),
      KOKKOS_LAMBDA(long q) { rows(q) = double(v(q / w, q % w)); });
  ExecSpace().fence();
  exchange(rows.data(), w);
  Kokkos::parallel_for(
      "mace::halo_in", Kokkos::RangePolicy<ExecSpace>(long(in_begin) * w, long(in_end) * w),
      KOKKOS_LAMBDA(long q) { v(q / w, q % w) = Real(rows(q)); });
}

template <class ExecSpace, class Real>
void MaceEngine<ExecSpace, Real>::embed(const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy) {
  // Embedding and the reference energies.
  auto H0 = H_[0];
  auto emb = embedding_;
  auto e0 = e0_;
  auto species = g.species;
  const int C = channels0_, n_energy = g.n_energy;
  const Real shift = shift_;
  Kokkos::parallel_for(
      "mace::embedding", Kokkos::RangePolicy<ExecSpace>(0, g.n_nodes), KOKKOS_LAMBDA(int i) {
        const int e = species(i);
        for (int c = 0; c < C; ++c) H0(i, c) = emb(e * C + c);
        node_energy(i) = i < n_energy ? double(e0(e)) + double(shift) : 0.0;
      });
}

template <class ExecSpace, class Real>
void MaceEngine<ExecSpace, Real>::clear_adjoints(const DeviceGraph<space>& g,
                                                 Kokkos::View<double* [3], space> edge_grad) {
  Kokkos::deep_copy(Kokkos::subview(edge_grad, std::make_pair(long(0), g.n_edges), Kokkos::ALL), 0.0);
  Kokkos::deep_copy(G_[int(layers_.size()) % 2], Real(0));
}

template <class ExecSpace, class Real>
void MaceEngine<ExecSpace, Real>::forward_layer(int t, const DeviceGraph<space>& g,
                                                Kokkos::View<double*, space> node_energy, const Halo* halo) {
  const Layer L = layers_[t];
  const DeviceRadial<Real, space> R = radial_;
  const int n = g.n_nodes, n_energy = g.n_energy;
  Nodes H = H_[t], U = U_[t], X = X_[t], Hn = H_[t + 1], M = M_, A = A_[t];
  auto D = D_[t];
  auto species = g.species;
  auto offsets = g.offsets;
  auto sender = g.sender;
  auto sender_offsets = g.sender_offsets;
  auto vec = g.vec;
  const Real scale = scale_;

  // U is read for senders only. With a Halo after the first layer the locals' U are all formed
  // (a local that sends nothing may have a ghost image that does) and the ghosts' come from
  // their owners; otherwise every sender forms its own.
  const bool from_owners = halo && t > 0;
  Kokkos::parallel_for(
      "mace::linear_up", policy(from_owners ? g.n_computed : n, 0), KOKKOS_LAMBDA(const member& team) {
        const int i = team.league_rank();
        if (!from_owners && sender_offsets(i + 1) == sender_offsets(i)) return;
        Real* u = &U(i, 0);
        lanes(team, L.dim_in, [&](int k) { u[k] = 0; });
        L.linear_up.apply(team, &H(i, 0), u);
      });
  // The locals' rows out (only those are read: a ghost LAMMPS sends on in a later swap is written
  // before it is sent), the ghosts' rows back.
  if (from_owners) exchange_rows(U, L.dim_in, n, g.n_computed, g.n_computed, n, halo->forward);

  // message: gathered over the receiver's edges
  const int C = L.channels_in;
  const int n_edge_scratch = edge_scratch(L);
  const size_t bytes = ScratchReal::shmem_size(n_edge_scratch);
  const int level = level_for(bytes);
  Kokkos::parallel_for(
      "mace::message", policy(g.n_computed, bytes), KOKKOS_LAMBDA(const member& team) {
        const int i = team.league_rank();
        ScratchReal s(team.team_scratch(level), n_edge_scratch);
        Real* w = s.data();
        Real* dw = w + L.n_weights;
        Real* buf = dw + L.n_weights;
        Real* m = &M(i, 0);
        lanes(team, L.dim_mid, [&](int k) { m[k] = 0; });
        Real density = 0;
        for (long e = offsets(i); e < offsets(i + 1); ++e) {
          const Real v[3] = {Real(vec(e, 0)), Real(vec(e, 1)), Real(vec(e, 2))};
          Real Y[16], dY[16][3];
          const Real r = spherical_harmonics(R.sh_lmax, v, Y, dY);
          const int j = sender(e);
          Real d, dd;
          // no derivatives forward
          edge_weights(team, L, R, r, R.pair_radius(species(j), species(i)), w, static_cast<Real*>(nullptr), buf, d, dd);
          density += d;
          const Real* u = &U(j, 0);
          for (int p = 0; p < L.n_tp; ++p) {
            const int io = L.tp(8 * p), sho = L.tp(8 * p + 2), oo = L.tp(8 * p + 3), wo = L.tp(8 * p + 5),
                      b = L.tp(8 * p + 6), end = L.tp(8 * p + 7);
            const Real* wp = w + wo;
            for (int q = b; q < end; ++q) {
              const Real cy = L.tp_v(q) * Y[sho + L.tp_m(3 * q + 1)];
              const Real* uq = u + io + L.tp_m(3 * q) * C;
              Real* mq = m + oo + L.tp_m(3 * q + 2) * C;
              lanes(team, C, [&](int c) { mq[c] += wp[c] * cy * uq[c]; });
            }
          }
        }
        if (L.density) Kokkos::single(Kokkos::PerThread(team), [&]() { D(i) = density; });
      });

  // product basis, skip connection, readout
  const int CC = L.channels;
  const int n_prod = L.dim_target + L.dim_prod + L.n_mono * CC + 2 * L.dim_mlp + L.dim_heads;
  const size_t pbytes = ScratchReal::shmem_size(n_prod);
  const int plevel = level_for(pbytes);
  Kokkos::parallel_for(
      "mace::product", policy(g.n_computed, pbytes), KOKKOS_LAMBDA(const member& team) {
        const int i = team.league_rank();
        const int el = species(i);
        ScratchReal s(team.team_scratch(plevel), n_prod);
        Real* a = s.data();
        Real* B = a + L.dim_target;
        Real* mono = B + L.dim_prod;
        Real* z = mono + L.n_mono * CC;
        Real* z2 = z + L.dim_mlp;
        Real* o = z2 + L.dim_mlp;
        Real* Xi = &X(i, 0);
        lanes(team, L.dim_target, [&](int k) { a[k] = 0; });
        L.linear.apply(team, &M(i, 0), a, 0, L.density ? Real(1) / (Real(1) + D(i)) : L.inv_avg);
        if (L.residual) {
          lanes(team, L.dim_target, [&](int k) { Xi[k] = a[k]; });
        } else {
          if (L.density) lanes(team, L.dim_target, [&](int k) { A(i, k) = a[k]; });
          lanes(team, L.dim_target, [&](int k) { Xi[k] = 0; });
          L.skip.apply(team, a, Xi, el);
        }
        for (int k = 0; k < L.n_mono; ++k) {
          const int p = L.mono_parent(k);
          const Real* xf = Xi + L.x_base(L.mono_factor(k));
          Real* mk = mono + k * CC;
          if (p < 0) {
            lanes(team, CC, [&](int c) { mk[c] = xf[c]; });
          } else {
            const Real* mp = mono + p * CC;
            lanes(team, CC, [&](int c) { mk[c] = mp[c] * xf[c]; });
          }
        }
        lanes(team, L.dim_prod, [&](int k) { B[k] = 0; });
        const Real* cf = &L.coeff(long(el) * L.n_terms * CC);
        for (int q = 0; q < L.n_terms; ++q) {
          const Real* cq = cf + q * CC;
          const Real* mq = mono + L.term_mono(q) * CC;
          Real* bq = B + L.term_out(q);
          lanes(team, CC, [&](int c) { bq[c] += cq[c] * mq[c]; });
        }
        Real* h = &Hn(i, 0);
        lanes(team, L.dim_hidden, [&](int k) { h[k] = 0; });
        L.product_linear.apply(team, B, h);
        if (L.residual && L.use_sc) L.skip.apply(team, &H(i, 0), h, el);
        if (L.has_readout && i < n_energy) {
          if (L.readout_nonlinear) {
            lanes(team, L.dim_mlp, [&](int k) { z[k] = 0; });
            L.readout_1.apply(team, h, z);
            lanes(team, L.dim_mlp, [&](int k) { z[k] = L.readout_act_scale * z[k] * sigmoid(z[k]); });
            const Real* zl = z;
            if (L.readout_bias) {
              lanes(team, L.dim_mlp, [&](int k) { z2[k] = L.readout_mid_bias(k); });
              L.readout_mid.apply(team, z, z2);
              lanes(team, L.dim_mlp, [&](int k) { z2[k] = L.readout_act_scale * z2[k] * sigmoid(z2[k]); });
              zl = z2;
            }
            lanes(team, L.dim_heads, [&](int k) { o[k] = L.readout_bias ? L.readout_out_bias(k) : Real(0); });
            L.readout_2.apply(team, zl, o);
          } else {
            lanes(team, L.dim_heads, [&](int k) { o[k] = 0; });
            L.readout_1.apply(team, h, o);
          }
          Kokkos::single(Kokkos::PerThread(team), [&]() { node_energy(i) += double(scale) * double(o[L.head]); });
        }
      });
}

template <class ExecSpace, class Real>
void MaceEngine<ExecSpace, Real>::backward_layer(int t, const DeviceGraph<space>& g,
                                                 Kokkos::View<double* [3], space> edge_grad, const Halo* halo) {
  const Layer L = layers_[t];
  const DeviceRadial<Real, space> R = radial_;
  const int n = g.n_nodes, n_energy = g.n_energy;
  // G_[(t + 1) % 2] holds dE/dH_{t+1} from the layer above (zero for the last), G_[t % 2] gets dE/dH_t.
  Nodes H = H_[t], U = U_[t], X = X_[t], Hn = H_[t + 1], dM = dM_, dU = dU_, A = A_[t];
  auto D = D_[t];
  auto dD = dD_;
  Nodes Gout = G_[(t + 1) % 2], Gin = G_[t % 2];
  auto species = g.species;
  auto receiver = g.receiver;
  auto sender_offsets = g.sender_offsets;
  auto by_sender = g.by_sender;
  auto vec = g.vec;
  const Real scale = scale_;

  const int CC = L.channels;
  const int n_prod = L.dim_hidden + L.dim_prod + 2 * L.dim_target + 2 * L.n_mono * CC + 5 * L.dim_mlp + L.dim_heads;
  const size_t pbytes = ScratchReal::shmem_size(n_prod);
  const int plevel = level_for(pbytes);
  // Ghosts (message passing) have no product to pass back through, and their rows of dE/dH_t
  // are never read: zeroed, so that the buffer holds no stale numbers.
  if (g.n_computed < n)
    Kokkos::deep_copy(Kokkos::subview(Gin, std::make_pair(g.n_computed, n), Kokkos::ALL), Real(0));
  Kokkos::parallel_for(
      "mace::product_adjoint", policy(g.n_computed, pbytes), KOKKOS_LAMBDA(const member& team) {
        const int i = team.league_rank();
        const int el = species(i);
        ScratchReal s(team.team_scratch(plevel), n_prod);
        Real* gh = s.data();
        Real* dB = gh + L.dim_hidden;
        Real* dX = dB + L.dim_prod;
        Real* dA = dX + L.dim_target;
        Real* mono = dA + L.dim_target;
        Real* dmono = mono + L.n_mono * CC;
        Real* z = dmono + L.n_mono * CC;
        Real* dz = z + L.dim_mlp;
        Real* z1 = dz + L.dim_mlp;   // bias readout: act(z), the middle layer's input
        Real* z2 = z1 + L.dim_mlp;   // its pre-activation
        Real* dz2 = z2 + L.dim_mlp;  // and adjoint
        Real* o = dz2 + L.dim_mlp;
        const Real* h = &Hn(i, 0);
        lanes(team, L.dim_hidden, [&](int k) { gh[k] = Gout(i, k); });
        if (L.has_readout && i < n_energy) {
          lanes(team, L.dim_heads, [&](int k) { o[k] = k == L.head ? scale : Real(0); });
          if (L.readout_nonlinear) {
            lanes(team, L.dim_mlp, [&](int k) { z[k] = 0, dz[k] = 0; });
            L.readout_1.apply(team, h, z);
            if (L.readout_bias) {
              lanes(team, L.dim_mlp, [&](int k) {
                z1[k] = L.readout_act_scale * z[k] * sigmoid(z[k]);
                z2[k] = L.readout_mid_bias(k);
                dz2[k] = 0;
              });
              L.readout_mid.apply(team, z1, z2);
              L.readout_2.apply_transpose(team, o, dz2);
              lanes(team, L.dim_mlp, [&](int k) { dz2[k] *= silu_slope(z2[k], L.readout_act_scale); });
              L.readout_mid.apply_transpose(team, dz2, dz);
            } else {
              L.readout_2.apply_transpose(team, o, dz);
            }
            lanes(team, L.dim_mlp, [&](int k) { dz[k] *= silu_slope(z[k], L.readout_act_scale); });
            L.readout_1.apply_transpose(team, dz, gh);
          } else {
            L.readout_1.apply_transpose(team, o, gh);
          }
        }
        lanes(team, L.dim_prod, [&](int k) { dB[k] = 0; });
        L.product_linear.apply_transpose(team, gh, dB);
        Real* gin = &Gin(i, 0);
        lanes(team, L.dim_in, [&](int k) { gin[k] = 0; });
        if (L.residual && L.use_sc) L.skip.apply_transpose(team, gh, gin, el);
        // the contraction's adjoint: monomials again, then back through the monomial tree
        const Real* Xi = &X(i, 0);
        for (int k = 0; k < L.n_mono; ++k) {
          const int p = L.mono_parent(k);
          const Real* xf = Xi + L.x_base(L.mono_factor(k));
          Real* mk = mono + k * CC;
          Real* dk = dmono + k * CC;
          if (p < 0) {
            lanes(team, CC, [&](int c) { mk[c] = xf[c], dk[c] = 0; });
          } else {
            const Real* mp = mono + p * CC;
            lanes(team, CC, [&](int c) { mk[c] = mp[c] * xf[c], dk[c] = 0; });
          }
        }
        const Real* cf = &L.coeff(long(el) * L.n_terms * CC);
        for (int q = 0; q < L.n_terms; ++q) {
          const Real* cq = cf + q * CC;
          Real* dq = dmono + L.term_mono(q) * CC;
          const Real* bq = dB + L.term_out(q);
          lanes(team, CC, [&](int c) { dq[c] += cq[c] * bq[c]; });
        }
        lanes(team, L.dim_target, [&](int k) { dX[k] = 0; });
        for (int k = L.n_mono - 1; k >= 0; --k) {
          const int p = L.mono_parent(k), xo = L.x_base(L.mono_factor(k));
          const Real* dk = dmono + k * CC;
          Real* dxf = dX + xo;
          if (p < 0) {
            lanes(team, CC, [&](int c) { dxf[c] += dk[c]; });
          } else {
            const Real* xf = Xi + xo;
            const Real* mp = mono + p * CC;
            Real* dp = dmono + p * CC;
            lanes(team, CC, [&](int c) {
              dp[c] += dk[c] * xf[c];
              dxf[c] += dk[c] * mp[c];
            });
          }
        }
        if (L.residual) {
          lanes(team, L.dim_target, [&](int k) { dA[k] = dX[k]; });
        } else {
          lanes(team, L.dim_target, [&](int k) { dA[k] = 0; });
          L.skip.apply_transpose(team, dX, dA, el);
        }
        Real factor = L.inv_avg;
        if (L.density) {
          // a = linear(M) / (1 + D_i): dE/dD_i = -(dE/da . a) / (1 + D_i)
          factor = Real(1) / (Real(1) + D(i));
          const Real* a = L.residual ? Xi : &A(i, 0);
          Real dot = 0;
          Kokkos::parallel_reduce(
              Kokkos::ThreadVectorRange(team, L.dim_target), [&](int k, Real& acc) { acc += dA[k] * a[k]; }, dot);
          Kokkos::single(Kokkos::PerThread(team), [&]() { dD(i) = -dot * factor; });
        }
        Real* dm = &dM(i, 0);
        lanes(team, L.dim_mid, [&](int k) { dm[k] = 0; });
        L.linear.apply_transpose(team, dA, dm, 0, factor);
      });

  // edges, gathered by sender j: dE/dU_j over j's outgoing edges, dE/dv of each edge; with a
  // Halo after the first layer dE/dU_j stays in dU until the ghosts' have reached their owners
  const bool to_owners = halo && t > 0;
  const int C = L.channels_in;
  const int n_edge_scratch = edge_scratch(L);
  const size_t bytes = ScratchReal::shmem_size(n_edge_scratch);
  const int level = level_for(bytes);
  Kokkos::parallel_for(
      "mace::message_adjoint", policy(n, bytes), KOKKOS_LAMBDA(const member& team) {
        const int j = team.league_rank();
        ScratchReal s(team.team_scratch(level), n_edge_scratch);
        Real* w = s.data();
        Real* dw = w + L.n_weights;
        Real* buf = dw + L.n_weights;
        Real* du = &dU(j, 0);
        const Real* u = &U(j, 0);
        lanes(team, L.dim_in, [&](int k) { du[k] = 0; });
        if (sender_offsets(j + 1) == sender_offsets(j)) return;  // no edges: nothing to add to dE/dH_j
        for (long k = sender_offsets(j); k < sender_offsets(j + 1); ++k) {
          const long e = by_sender(k);
          const int i = receiver(e);
          const Real v[3] = {Real(vec(e, 0)), Real(vec(e, 1)), Real(vec(e, 2))};
          Real Y[16], dY[16][3];
          const Real r = spherical_harmonics(R.sh_lmax, v, Y, dY);
          Real d, dd;
          edge_weights(team, L, R, r, R.pair_radius(species(j), species(i)), w, dw, buf, d, dd);
          const Real* lam = &dM(i, 0);
          Real gY[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
          Real gr = L.density ? dD(i) * dd : Real(0);
          for (int p = 0; p < L.n_tp; ++p) {
            const int io = L.tp(8 * p), sho = L.tp(8 * p + 2), oo = L.tp(8 * p + 3), wo = L.tp(8 * p + 5),
                      b = L.tp(8 * p + 6), end = L.tp(8 * p + 7);
            const Real* wp = w + wo;
            const Real* dwp = dw + wo;
            for (int q = b; q < end; ++q) {
              const int m2 = L.tp_m(3 * q + 1);
              const Real cv = L.tp_v(q), cy = cv * Y[sho + m2];
              const Real* uq = u + io + L.tp_m(3 * q) * C;
              const Real* lq = lam + oo + L.tp_m(3 * q + 2) * C;
              Real* duq = du + io + L.tp_m(3 * q) * C;
              // sum_c w_c u_c lambda_c (-> dE/dY) and sum_c dw_c u_c lambda_c (-> dE/dr)
              Kokkos::complex<Real> sums(0, 0);
              Kokkos::parallel_reduce(
                  Kokkos::ThreadVectorRange(team, C),
                  [&](int c, Kokkos::complex<Real>& acc) {
                    const Real ul = uq[c] * lq[c];
                    acc += Kokkos::complex<Real>(wp[c] * ul, dwp[c] * ul);
                    duq[c] += wp[c] * cy * lq[c];
                  },
                  sums);
              gY[sho + m2] += cv * sums.real();
              gr += cy * sums.imag();
            }
          }
          Real g3[3];
          for (int a = 0; a < 3; ++a) {
            Real ga = gr * v[a] / r;
            for (int q = 0; q < R.sh_dim; ++q) ga += gY[q] * dY[q][a];
            g3[a] = ga;
          }
          Kokkos::single(Kokkos::PerThread(team), [&]() {
            for (int a = 0; a < 3; ++a) edge_grad(e, a) += double(g3[a]);
          });
        }
        lane_barrier(team);  // du was written lane by lane inside the reductions
        if (!to_owners) L.linear_up.apply_transpose(team, du, &Gin(j, 0));
      });
  if (to_owners) {
    // The ghosts' dE/dU to their owners, then each local's through linear_up.
    exchange_rows(dU, L.dim_in, n, n, 0, g.n_computed, halo->reverse);
    Kokkos::parallel_for(
        "mace::linear_up_adjoint", policy(g.n_computed, 0), KOKKOS_LAMBDA(const member& team) {
          const int i = team.league_rank();
          L.linear_up.apply_transpose(team, &dU(i, 0), &Gin(i, 0));
        });
  }
}

template <class ExecSpace, class Real>
void MaceEngine<ExecSpace, Real>::pair_repulsion(const DeviceGraph<space>& g, Kokkos::View<double*, space> node_energy,
                                                 Kokkos::View<double* [3], space> edge_grad) {
  // In double whatever Real is: a few exponentials per edge, and the repulsion is steep.
  auto element = zbl_element_;
  auto pair = zbl_pair_;
  auto species = g.species;
  auto offsets = g.offsets;
  auto sender = g.sender;
  auto vec = g.vec;
  const double c0 = zbl_c_[0], c1 = zbl_c_[1], c2 = zbl_c_[2], c3 = zbl_c_[3];
  const double a_prefactor = zbl_a_prefactor_, p = zbl_p_;
  Kokkos::parallel_for(
      "mace::pair_repulsion", Kokkos::RangePolicy<ExecSpace>(0, g.n_energy), KOKKOS_LAMBDA(int i) {
        const int ei = species(i);
        double energy = 0;
        for (long e = offsets(i); e < offsets(i + 1); ++e) {
          const int ej = species(sender(e));
          const double v[3] = {vec(e, 0), vec(e, 1), vec(e, 2)};
          const double r = Kokkos::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
          const double r_cut = element(ej, 1) + element(ei, 1);
          if (r >= r_cut) continue;
          const double ia = (element(ej, 0) + element(ei, 0)) / (a_prefactor * 0.529);  // 1 / a
          const double x0 = Kokkos::exp(-3.2 * r * ia), x1 = Kokkos::exp(-0.9423 * r * ia),
                       x2 = Kokkos::exp(-0.4028 * r * ia), x3 = Kokkos::exp(-0.2016 * r * ia);
          const double phi = c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3;
          const double dphi = -ia * (3.2 * c0 * x0 + 0.9423 * c1 * x1 + 0.4028 * c2 * x2 + 0.2016 * c3 * x3);
          const double k = 0.5 * pair(ej, ei);
          const double V = k * phi / r, dV = k * (dphi / r - phi / (r * r));
          const double s = r / r_cut, sp = Kokkos::pow(s, p);
          const double env = 1.0 - (p + 1.0) * (p + 2.0) / 2.0 * sp + p * (p + 2.0) * sp * s -
                             p * (p + 1.0) / 2.0 * sp * s * s;
          const double denv = (-(p + 1.0) * (p + 2.0) / 2.0 * p * sp / s + p * (p + 2.0) * (p + 1.0) * sp -
                               p * (p + 1.0) / 2.0 * (p + 2.0) * sp * s) / r_cut;
          energy += V * env;
          const double gr = (dV * env + V * denv) / r;
          for (int a = 0; a < 3; ++a) edge_grad(e, a) += gr * v[a];
        }
        node_energy(i) += energy;
      });
}

}  // namespace mlpot::kokkos::mace
