// The native MACE engine's host glue: graphs from every input the MacePotential interface takes,
// forces and virials from the kernels' per-edge gradients. Instantiated for every enabled
// Kokkos backend and both precisions.
#include "mace_native.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <type_traits>

#include "mace_kernel.hpp"
#include "mlpot/error.hpp"

namespace mlpot::mace_native {

namespace {

// Directed edges sender -> receiver with vectors x_receiver - x_sender (+ shift), host side.
struct EdgeList {
  int n_nodes = 0, n_energy = 0;
  std::vector<int> species;
  std::vector<int> receiver, sender;
  std::vector<double> vec;
  void add(int recv, int send, const double v[3], double r_max2) {
    const double r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    if (r2 >= r_max2 || r2 == 0.0) return;
    receiver.push_back(recv);
    sender.push_back(send);
    vec.insert(vec.end(), v, v + 3);
  }
};

// Counting sort of `size` items by key(q) in [0, n): offsets[n + 1] of each key's run and the
// items in key order (stable). Groups edges by receiver and by sender.
template <class Key>
void group_by(long size, int n, const Key& key, std::vector<long>& offsets, std::vector<long>& order) {
  offsets.assign(size_t(n) + 1, 0);
  for (long q = 0; q < size; ++q) ++offsets[key(q) + 1];
  for (int i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
  std::vector<long> slot(offsets.begin(), offsets.end() - 1);
  order.resize(size);
  for (long q = 0; q < size; ++q) order[slot[key(q)]++] = q;
}

template <class ExecSpace, class Real>
class NativeMacePotential final : public MacePotential {
 public:
  using space = typename ExecSpace::memory_space;
  // float32 models tabulate the radial MLPs (mace_radial_table.hpp: within 2e-9 of the network,
  // far below float32's round-off); float64 models evaluate the networks, so they stay within
  // round-off of mace-torch.
  NativeMacePotential(const Model& m, const std::string& device)
      : model_(m), engine_(m, std::is_same_v<Real, float>), device_(device) {
    meta_.r_max = m.r_max;
    meta_.atomic_numbers = m.atomic_numbers;
    meta_.num_interactions = int(m.layers.size());
    meta_.dtype = m.dtype;
    meta_.engine = "native";
    char buf[96];
    for (const auto& [knots, error] : engine_.radial_tables()) {
      if (knots > 0)
        std::snprintf(buf, sizeof buf, "table of %d knots (within %.1e)", knots, error);
      else
        std::snprintf(buf, sizeof buf, m.agnesi ? "network per edge (Agnesi transform: per element pair)"
                                                : "network per edge");
      meta_.radial += (meta_.radial.empty() ? "" : "; ") + std::string(buf);
    }
  }

  int num_species() const override { return model_.n_elements(); }
  std::vector<int> atomic_numbers() const override { return model_.atomic_numbers; }
  double cutoff() const override { return model_.r_max; }
  double ghost_cutoff() const override { return model_.r_max * double(model_.layers.size()); }
  std::string backend() const override { return ExecSpace::name(); }
  // On a GPU build the inputs may live in device memory (LAMMPS-Kokkos, the Thrust builder): they
  // are copied to the host for the graph and the outputs added back where they live.
  bool accepts_device_memory() const override { return !host_space; }
  const MaceMetadata& metadata() const override { return meta_; }
  void set_reason(const std::string& r) { meta_.engine_reason = r; }
  std::string graph_rewrites() const override { return "none (native engine)"; }
  std::unique_ptr<StepProfiler> torch_profiler(bool) const override {
    throw Error("--torch-profile: the native MACE engine runs no LibTorch (use --kernel-times, or --mace-engine torch)");
  }

  Totals compute(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out) override {
    check(atoms.memory, out);
    if (atoms.memory == MemorySpace::Device) return compute_from_device(atoms, nbr, out);
    EdgeList el;
    el.n_nodes = atoms.n_total;
    el.n_energy = atoms.n_local;
    el.species.assign(atoms.species, atoms.species + atoms.n_total);
    const int n_listed = nbr.n_listed < 0 ? atoms.n_local : nbr.n_listed;
    const double r2 = model_.r_max * model_.r_max;
    for (int i = 0; i < n_listed; ++i) {
      const double* xi = atoms.positions + 3 * size_t(i);
      auto visit = [&](int k) {
        k &= nbr.index_mask;
        if (k < 0 || k >= atoms.n_total) throw Error("mace: neighbour index outside [0, n_total)");
        const double* xk = atoms.positions + 3 * size_t(k);
        const double v[3] = {xi[0] - xk[0], xi[1] - xk[1], xi[2] - xk[2]};
        el.add(i, k, v, r2);
      };
      if (nbr.rows) {
        for (int jj = 0; jj < nbr.counts[i]; ++jj) visit(nbr.rows[i][jj]);
      } else if (nbr.offsets) {
        for (std::int64_t jj = nbr.offsets[i]; jj < nbr.offsets[i + 1]; ++jj) visit(nbr.neighbors[jj]);
      } else {
        for (int jj = 0; jj < nbr.counts[i]; ++jj) visit(nbr.neighbors[i * nbr.row_stride + jj * nbr.slot_stride]);
      }
    }
    Result r = run(el, out.atom_virial != nullptr);
    Totals t;
    t.energy = r.energy;
    t.virial = r.virial;
    deliver(r, atoms.n_total, atoms.n_local, out);
    return t;
  }

  Evaluation evaluate_periodic(const Structure& s, bool with_virial, DeviceGraphBuilder*,
                               bool with_atom_virial) override {
    require_species_in_model(s, *this);
    GhostedSystem g = build_neighbor_list(s, cutoff());
    return evaluate_images(g, s.cell, s.pbc, with_virial, with_atom_virial);
  }

  Evaluation evaluate_images(const GhostedSystem& g, const Mat3&, const std::array<bool, 3>&, bool,
                             bool with_atom_virial) override {
    EdgeList el;
    el.n_nodes = g.n_local;
    el.n_energy = g.n_local;
    el.species.assign(g.species.begin(), g.species.begin() + g.n_local);
    const double r2 = model_.r_max * model_.r_max;
    for (int i = 0; i < g.n_local; ++i) {
      const double* xi = &g.positions[3 * size_t(i)];
      for (std::int64_t jj = g.offsets[i]; jj < g.offsets[i + 1]; ++jj) {
        const int k = g.neighbors[jj];
        const double* xk = &g.positions[3 * size_t(k)];
        const double v[3] = {xi[0] - xk[0], xi[1] - xk[1], xi[2] - xk[2]};
        el.add(i, g.owner[k], v, r2);
      }
    }
    Result r = run(el, with_atom_virial);
    Evaluation ev;
    ev.energy = r.energy;
    ev.atom_energy.assign(r.node_energy.begin(), r.node_energy.begin() + g.n_local);
    ev.forces = r.forces;
    ev.virial = r.virial;
    if (with_atom_virial) ev.atom_virial = r.atom_virial;
    return ev;
  }

  Totals compute_periodic(const CellAtoms& atoms, DeviceGraphBuilder& builder, const OutputsRef& out) override {
    check(atoms.memory, out);
    builder.build(atoms, cutoff());
    const DeviceEdgeView& e = builder.mace_edges(cutoff(), num_species());
    DeviceGraphBuilder::HostEdges h = builder.edges_to_host();
    std::vector<double> pos(3 * size_t(e.n_nodes));
    if (e.memory == MemorySpace::Host) {
      std::copy(e.positions, e.positions + pos.size(), pos.begin());
    } else {
      builder.copy_to_host(e.positions, pos.size(), pos.data());
    }
    EdgeList el;
    el.n_nodes = e.n_nodes;
    el.n_energy = e.n_nodes;
    el.species.resize(e.n_nodes);
    for (int i = 0; i < e.n_nodes; ++i) {
      int sp = 0;
      for (int k = 0; k < e.n_species; ++k)
        if (h.node_attrs[size_t(i) * e.n_species + k] > 0.5) sp = k;
      el.species[i] = sp;
    }
    const double r2 = model_.r_max * model_.r_max;
    for (std::int64_t q = 0; q < e.n_edges; ++q) {
      const int s = int(h.senders[q]), rcv = int(h.receivers[q]);
      double v[3];
      for (int a = 0; a < 3; ++a) v[a] = pos[3 * size_t(rcv) + a] - pos[3 * size_t(s) + a] + h.shifts[3 * q + a];
      el.add(rcv, s, v, r2);
    }
    Result r = run(el, out.atom_virial != nullptr);
    deliver(r, atoms.n, atoms.n, out, atoms.memory);
    Totals t;
    t.energy = r.energy;
    t.virial = r.virial;
    return t;
  }

 private:
  struct Result {
    double energy = 0;
    std::vector<double> node_energy, forces, atom_virial;
    std::array<double, 6> virial{};
  };

  Model model_;
  kokkos::mace::MaceEngine<ExecSpace, Real> engine_;
  std::string device_;
  MaceMetadata meta_;
  kokkos::mace::DeviceGraph<space> graph_;
  Kokkos::View<double*, space> node_energy_;
  Kokkos::View<double* [3], space> edge_grad_;

  static constexpr bool host_space = std::is_same_v<space, Kokkos::HostSpace>;

  void check(MemorySpace memory, const OutputsRef& out) const {
    if (memory == MemorySpace::Device && host_space)
      throw Error("mace (native engine): device pointers, but this engine runs on the host (" +
                  std::string(ExecSpace::name()) + ")");
    if (out.atom_centroid_virial) throw Error("mace: per-atom virials in the centroid form are not available");
    if (out.site_virial) throw Error("mace: site virials are not available (MACE's energy has no site terms)");
  }

  template <class T>
  using Unmanaged = Kokkos::View<T*, space, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  template <class T>
  using HostUnmanaged = Kokkos::View<T*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

  // n values at a pointer in this engine's memory space, on the host.
  template <class T>
  std::vector<T> to_host(const T* p, size_t n) const {
    std::vector<T> h(n);
    if (n) Kokkos::deep_copy(HostUnmanaged<T>(h.data(), n), Unmanaged<const T>(p, n));
    return h;
  }
  // dst[k] += src[k] (add) or dst[k] = src[k], dst in `memory`.
  void store(double* dst, const double* src, size_t n, MemorySpace memory, bool add) const {
    if (!dst || !n) return;
    if (memory == MemorySpace::Host || host_space) {
      for (size_t k = 0; k < n; ++k) dst[k] = add ? dst[k] + src[k] : src[k];
      return;
    }
    std::vector<double> h = add ? to_host<double>(dst, n) : std::vector<double>(n, 0.0);
    for (size_t k = 0; k < n; ++k) h[k] += src[k];
    Kokkos::deep_copy(Unmanaged<double>(dst, n), HostUnmanaged<const double>(h.data(), n));
  }

  void deliver(const Result& r, int n_forces, int n_local, const OutputsRef& out,
               MemorySpace memory = MemorySpace::Host) const {
    store(out.forces, r.forces.data(), 3 * size_t(n_forces), memory, true);
    store(out.atom_energy, r.node_energy.data(), size_t(n_local), memory, false);
    if (out.atom_virial) store(out.atom_virial, r.atom_virial.data(), 6 * size_t(n_forces), memory, true);
  }

  // compute() on inputs in device memory: positions, species and lists to the host (the graph
  // is built there), outputs added back in device memory.
  Totals compute_from_device(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out) {
    const int nt = atoms.n_total, n_listed = nbr.n_listed < 0 ? atoms.n_local : nbr.n_listed;
    const std::vector<double> pos = to_host(atoms.positions, 3 * size_t(nt));
    const std::vector<int> species = to_host(atoms.species, size_t(nt));
    if (nbr.rows) throw Error("mace (native engine): per-row neighbour lists in device memory are not taken");
    NeighborsRef h = nbr;
    std::vector<std::int64_t> offsets;
    std::vector<int> counts, neighbors;
    if (nbr.offsets) {
      offsets = to_host(nbr.offsets, size_t(n_listed) + 1);
      neighbors = to_host(nbr.neighbors, size_t(offsets.back()));
      h.offsets = offsets.data();
    } else {
      counts = to_host(nbr.counts, size_t(n_listed));
      std::int64_t extent = 0;  // the padded array's entries up to the last one used
      for (int i = 0; i < n_listed; ++i)
        if (counts[i] > 0) extent = std::max(extent, i * nbr.row_stride + (counts[i] - 1) * nbr.slot_stride + 1);
      neighbors = to_host(nbr.neighbors, size_t(extent));
      h.counts = counts.data();
    }
    h.neighbors = neighbors.data();
    AtomsRef ha = atoms;
    ha.positions = pos.data();
    ha.species = species.data();
    ha.memory = MemorySpace::Host;
    std::vector<double> forces(out.forces ? 3 * size_t(nt) : 0), energy(out.atom_energy ? atoms.n_local : 0),
        virial(out.atom_virial ? 6 * size_t(nt) : 0);
    OutputsRef ho = out;
    ho.forces = out.forces ? forces.data() : nullptr;
    ho.atom_energy = out.atom_energy ? energy.data() : nullptr;
    ho.atom_virial = out.atom_virial ? virial.data() : nullptr;
    const Totals t = compute(ha, h, ho);
    store(out.forces, forces.data(), forces.size(), MemorySpace::Device, true);
    store(out.atom_energy, energy.data(), energy.size(), MemorySpace::Device, false);
    store(out.atom_virial, virial.data(), virial.size(), MemorySpace::Device, true);
    return t;
  }

  // Runs the engine on the edge list (grouped by receiver here), forms forces and virials.
  Result run(const EdgeList& el, bool with_atom_virial) {
    const int n = el.n_nodes;
    const long E = long(el.receiver.size());
    for (int i = 0; i < n; ++i)
      if (el.species[i] < 0 || el.species[i] >= model_.n_elements())
        throw Error("mace: atom " + std::to_string(i) + " has species " + std::to_string(el.species[i]) +
                    ", outside the model's " + std::to_string(model_.n_elements()));
    std::vector<long> offsets, order, sender_offsets, by_sender;
    group_by(E, n, [&](long q) { return el.receiver[q]; }, offsets, order);
    // the same edges, in receiver order, grouped by sender (the reverse pass's gather)
    group_by(E, n, [&](long k) { return el.sender[order[k]]; }, sender_offsets, by_sender);

    if (long(graph_.sender.extent(0)) < E || int(graph_.species.extent(0)) < n) {
      const long ecap = std::max<long>(E, 1) * 11 / 10 + 16;
      const int ncap = n * 11 / 10 + 16;
      graph_.species = Kokkos::View<int*, space>("mace::species", ncap);
      graph_.offsets = Kokkos::View<long*, space>("mace::offsets", ncap + 1);
      graph_.sender = Kokkos::View<int*, space>("mace::sender", ecap);
      graph_.receiver = Kokkos::View<int*, space>("mace::receiver", ecap);
      graph_.sender_offsets = Kokkos::View<long*, space>("mace::sender_offsets", ncap + 1);
      graph_.by_sender = Kokkos::View<long*, space>("mace::by_sender", ecap);
      graph_.vec = Kokkos::View<double* [3], space>("mace::vec", ecap);
      node_energy_ = Kokkos::View<double*, space>("mace::node_energy", ncap);
      edge_grad_ = Kokkos::View<double* [3], space>("mace::edge_grad", ecap);
    }
    graph_.n_nodes = n;
    graph_.n_energy = el.n_energy;
    graph_.n_edges = E;
    {
      auto hs = Kokkos::create_mirror_view(graph_.species);
      auto ho = Kokkos::create_mirror_view(graph_.offsets);
      auto hsend = Kokkos::create_mirror_view(graph_.sender);
      auto hrecv = Kokkos::create_mirror_view(graph_.receiver);
      auto hv = Kokkos::create_mirror_view(graph_.vec);
      auto hso = Kokkos::create_mirror_view(graph_.sender_offsets);
      auto hbs = Kokkos::create_mirror_view(graph_.by_sender);
      for (int i = 0; i < n; ++i) hs(i) = el.species[i];
      for (int i = 0; i <= n; ++i) ho(i) = offsets[i], hso(i) = sender_offsets[i];
      for (long k = 0; k < E; ++k) {
        const long q = order[k];
        hsend(k) = el.sender[q];
        hrecv(k) = el.receiver[q];
        hbs(k) = by_sender[k];
        for (int a = 0; a < 3; ++a) hv(k, a) = el.vec[3 * q + a];
      }
      Kokkos::deep_copy(graph_.species, hs);
      Kokkos::deep_copy(graph_.offsets, ho);
      Kokkos::deep_copy(graph_.sender, hsend);
      Kokkos::deep_copy(graph_.receiver, hrecv);
      Kokkos::deep_copy(graph_.vec, hv);
      Kokkos::deep_copy(graph_.sender_offsets, hso);
      Kokkos::deep_copy(graph_.by_sender, hbs);
    }
    Result res;
    res.energy = engine_.run(graph_, node_energy_, edge_grad_);
    auto he = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), node_energy_);
    auto hg = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), edge_grad_);
    auto hsend = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), graph_.sender);
    auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), graph_.vec);
    res.node_energy.assign(he.data(), he.data() + n);
    res.forces.assign(3 * size_t(n), 0.0);
    if (with_atom_virial) res.atom_virial.assign(6 * size_t(n), 0.0);
    for (int i = 0; i < n; ++i) {
      for (long k = offsets[i]; k < offsets[i + 1]; ++k) {
        const int j = hsend(k);
        const double g[3] = {hg(k, 0), hg(k, 1), hg(k, 2)};
        const double v[3] = {hv(k, 0), hv(k, 1), hv(k, 2)};
        for (int a = 0; a < 3; ++a) {
          res.forces[3 * size_t(i) + a] -= g[a];
          res.forces[3 * size_t(j) + a] += g[a];
        }
        // -dE/dv (x) v, symmetrised: xx yy zz xy xz yz
        const double w[6] = {-g[0] * v[0], -g[1] * v[1], -g[2] * v[2], -0.5 * (g[0] * v[1] + g[1] * v[0]),
                             -0.5 * (g[0] * v[2] + g[2] * v[0]), -0.5 * (g[1] * v[2] + g[2] * v[1])};
        for (int c = 0; c < 6; ++c) res.virial[c] += w[c];
        if (with_atom_virial)
          for (int c = 0; c < 6; ++c) {
            res.atom_virial[6 * size_t(i) + c] += 0.5 * w[c];
            res.atom_virial[6 * size_t(j) + c] += 0.5 * w[c];
          }
      }
    }
    return res;
  }
};

template <class ExecSpace>
std::unique_ptr<MacePotential> make_for(const Model& m, const std::string& device) {
  if (m.dtype == "float32") return std::make_unique<NativeMacePotential<ExecSpace, float>>(m, device);
  return std::make_unique<NativeMacePotential<ExecSpace, double>>(m, device);
}

}  // namespace

std::unique_ptr<MacePotential> make_native_mace(const Model& model, const std::string& device,
                                                const std::string& backend) {
  if (!Kokkos::is_initialized()) throw Error("Kokkos is not initialised (create an mlpot::KokkosRuntime first)");
  std::string b = backend;
  std::transform(b.begin(), b.end(), b.begin(), ::tolower);
  const bool cuda = device.rfind("cuda", 0) == 0;
  if (b == "default") {
#if defined(KOKKOS_ENABLE_CUDA)
    if (cuda) b = "cuda";
#endif
    if (b == "default") {
#if defined(KOKKOS_ENABLE_OPENMP)
      b = "openmp";
#else
      b = "serial";
#endif
    }
  }
  if (cuda && b != "cuda") throw Error("mace (native engine): device " + device + " needs the Cuda backend");
#if defined(KOKKOS_ENABLE_SERIAL)
  if (b == "serial") return make_for<Kokkos::Serial>(model, device);
#endif
#if defined(KOKKOS_ENABLE_OPENMP)
  if (b == "openmp") return make_for<Kokkos::OpenMP>(model, device);
#endif
#if defined(KOKKOS_ENABLE_CUDA)
  if (b == "cuda") return make_for<Kokkos::Cuda>(model, device);
#endif
  throw Error("mace (native engine): backend '" + backend + "' is not available in this build");
}

}  // namespace mlpot::mace_native
