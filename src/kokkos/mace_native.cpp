// The native MACE engine's host glue: every input the MacePotential interface takes handed to the
// graph builder (mace_graph.hpp) where the kernels run, in place when it is already there.
// Instantiated for every enabled Kokkos backend and both precisions.
#include "mace_native.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <type_traits>

#include "mace_graph.hpp"
#include "mace_kernel.hpp"
#include "mlpot/error.hpp"

namespace mlpot::mace_native {

namespace {

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
    // Per layer, or once when every layer is evaluated the same way.
    std::vector<std::string> per_layer;
    for (const auto& [knots, error] : engine_.radial_tables()) {
      char buf[96];
      if (knots > 0)
        std::snprintf(buf, sizeof buf, "table of %d knots (within %.1e)", knots, error);
      else
        std::snprintf(buf, sizeof buf, m.agnesi || m.soft ? "network per edge (distance transform: per element pair)"
                                                          : "network per edge");
      per_layer.push_back(buf);
    }
    const bool same = std::all_of(per_layer.begin(), per_layer.end(), [&](const std::string& x) { return x == per_layer[0]; });
    if (same && per_layer.size() > 1) {
      meta_.radial = per_layer[0] + ", all " + std::to_string(per_layer.size()) + " layers";
    } else {
      for (const auto& x : per_layer) meta_.radial += (meta_.radial.empty() ? "" : "; ") + x;
    }
  }

  int num_species() const override { return model_.n_elements(); }
  std::vector<int> atomic_numbers() const override { return model_.atomic_numbers; }
  double cutoff() const override { return model_.r_max; }
  double ghost_cutoff() const override { return model_.r_max * double(model_.layers.size()); }
  std::string backend() const override { return ExecSpace::name(); }
  // Inputs in device memory (LAMMPS-Kokkos views, the Thrust builder) are read where they are on
  // a GPU backend, and the outputs written there.
  bool accepts_device_memory() const override { return !host_space; }
  const MaceMetadata& metadata() const override { return meta_; }
  void set_reason(const std::string& r) { meta_.engine_reason = r; }
  std::string graph_rewrites() const override { return "none (native engine)"; }
  std::unique_ptr<StepProfiler> torch_profiler(bool) const override {
    throw Error("--torch-profile: the native MACE engine runs no LibTorch (use --kernel-times, or --mace-engine torch)");
  }

  Totals compute(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out) override {
    check(atoms.memory, out);
    return guard_memory(atoms.n_total, [&] { return compute_lists(atoms, nbr, out); });
  }

  Totals compute_lists(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out) {
    graph_from_lists(atoms, nbr);
    const double energy = run();
    Totals t;
    t.energy = energy;
    t.virial = write(out.forces, out.atom_energy, out.atom_virial, out.virial, atoms.n_total, atoms.memory);
    return t;
  }

  int exchange_width() const override { return engine_.halo_width(); }

  Totals compute_exchanging(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out,
                            GhostExchange& exchange) override {
    check(atoms.memory, out);
    const int n_listed = nbr.n_listed < 0 ? atoms.n_local : nbr.n_listed;
    if (n_listed != atoms.n_local)
      throw Error("mace (native engine): message passing lists the local atoms only, got lists for " +
                  std::to_string(n_listed) + " of " + std::to_string(atoms.n_local));
    return guard_memory(atoms.n_total, [&] { return compute_lists_exchanging(atoms, nbr, out, exchange); });
  }

  Totals compute_lists_exchanging(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out,
                                  GhostExchange& exchange) {
    graph_from_lists(atoms, nbr);
    graph_.set_ghosts_from_owners();
    typename kokkos::mace::MaceEngine<ExecSpace, Real>::Halo halo;
    // The rows where the caller's atoms are: through a host copy for host atoms on a GPU backend.
    const bool in_place = readable(atoms.memory);
    const size_t n_rows = size_t(atoms.n_total);
    auto in_callers_memory = [&](double* rows, int width, bool reverse) {
      if (in_place) return reverse ? exchange.reverse(rows, width) : exchange.forward(rows, width);
      Kokkos::View<double*, space, Kokkos::MemoryUnmanaged> d(rows, n_rows * width);
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), d);
      reverse ? exchange.reverse(h.data(), width) : exchange.forward(h.data(), width);
      Kokkos::deep_copy(d, h);
    };
    halo.forward = [&](double* rows, int width) { in_callers_memory(rows, width, false); };
    halo.reverse = [&](double* rows, int width) { in_callers_memory(rows, width, true); };
    const double energy = run(&halo);
    Totals t;
    t.energy = energy;
    t.virial = write(out.forces, out.atom_energy, out.atom_virial, out.virial, atoms.n_total, atoms.memory);
    return t;
  }

  // The graph of LAMMPS-style neighbour lists (the first n_listed atoms' rows), read in place
  // where the kernels can, else copied over once.
  void graph_from_lists(const AtomsRef& atoms, const NeighborsRef& nbr) {
    const int nt = atoms.n_total, n_listed = nbr.n_listed < 0 ? atoms.n_local : nbr.n_listed;
    kokkos::mace::ListShape list;
    list.index_mask = nbr.index_mask;
    list.row_stride = nbr.row_stride;
    list.slot_stride = nbr.slot_stride;
    const double* positions = atoms.positions;
    const int* species = atoms.species;
    if (readable(atoms.memory) && !nbr.rows) {
      list.offsets = nbr.offsets;
      list.counts = nbr.counts;
      list.neighbors = nbr.neighbors;
    } else {
      // Host memory on a GPU backend, or LAMMPS' per-row host lists: a CSR copy where the kernels run.
      std::vector<std::int64_t> offsets(size_t(n_listed) + 1, 0);
      std::vector<int> neighbors;
      for (int i = 0; i < n_listed; ++i) {
        if (nbr.rows) {
          neighbors.insert(neighbors.end(), nbr.rows[i], nbr.rows[i] + nbr.counts[i]);
        } else if (nbr.offsets) {
          neighbors.insert(neighbors.end(), nbr.neighbors + nbr.offsets[i], nbr.neighbors + nbr.offsets[i + 1]);
        } else {
          for (int jj = 0; jj < nbr.counts[i]; ++jj)
            neighbors.push_back(nbr.neighbors[i * nbr.row_stride + jj * nbr.slot_stride]);
        }
        offsets[i + 1] = std::int64_t(neighbors.size());
      }
      list_offsets_ = upload(offsets, list_offsets_);
      list_neighbors_ = upload(neighbors, list_neighbors_);
      list.offsets = list_offsets_.data();
      list.counts = nullptr;
      list.neighbors = list_neighbors_.data();
      if (!readable(atoms.memory)) {
        positions_ = upload(std::vector<double>(atoms.positions, atoms.positions + 3 * size_t(nt)), positions_);
        species_ = upload(std::vector<int>(atoms.species, atoms.species + nt), species_);
        positions = positions_.data();
        species = species_.data();
      }
    }
    graph_.from_lists(nt, atoms.n_local, n_listed, positions, species, list, model_.r_max);
  }

  Evaluation evaluate_periodic(const Structure& s, bool with_virial, DeviceGraphBuilder*,
                               bool with_atom_virial) override {
    require_species_in_model(s, *this);
    GhostedSystem g = build_neighbor_list(s, cutoff());
    return evaluate_images(g, s.cell, s.pbc, with_virial, with_atom_virial);
  }

  // The periodic graph of the local atoms: each image's edge goes to the image's owner.
  Evaluation evaluate_images(const GhostedSystem& g, const Mat3& cell, const std::array<bool, 3>& pbc,
                             bool with_virial, bool with_atom_virial) override {
    return guard_memory(g.n_local, [&] { return images(g, cell, pbc, with_virial, with_atom_virial); });
  }

  Evaluation images(const GhostedSystem& g, const Mat3&, const std::array<bool, 3>&, bool, bool with_atom_virial) {
    std::vector<int> receiver, sender;
    std::vector<double> vec;
    for (int i = 0; i < g.n_local; ++i) {
      const double* xi = &g.positions[3 * size_t(i)];
      for (std::int64_t jj = g.offsets[i]; jj < g.offsets[i + 1]; ++jj) {
        const int k = g.neighbors[jj];
        const double* xk = &g.positions[3 * size_t(k)];
        receiver.push_back(i);
        sender.push_back(g.owner[k]);
        vec.insert(vec.end(), {xi[0] - xk[0], xi[1] - xk[1], xi[2] - xk[2]});
      }
    }
    edge_receiver_ = upload(receiver, edge_receiver_);
    edge_sender_ = upload(sender, edge_sender_);
    edge_vec_ = upload(vec, edge_vec_);
    species_ = upload(std::vector<int>(g.species.begin(), g.species.begin() + g.n_local), species_);
    graph_.from_edges(g.n_local, g.n_local, long(receiver.size()), species_.data(),
                      ListedEdges{edge_receiver_.data(), edge_sender_.data(), edge_vec_.data(), r2max()});
    Evaluation ev;
    ev.energy = run();
    ev.forces.assign(3 * size_t(g.n_local), 0.0);
    ev.atom_energy.assign(size_t(g.n_local), 0.0);
    if (with_atom_virial) ev.atom_virial.assign(6 * size_t(g.n_local), 0.0);
    const auto w = write(ev.forces.data(), ev.atom_energy.data(), with_atom_virial ? ev.atom_virial.data() : nullptr,
                         true, g.n_local, MemorySpace::Host);
    ev.virial = w;
    return ev;
  }

  // The Thrust builder's periodic graph, read in place where it lives in this engine's memory.
  Totals compute_periodic(const CellAtoms& atoms, DeviceGraphBuilder& builder, const OutputsRef& out) override {
    check(atoms.memory, out);
    return guard_memory(atoms.n, [&] { return periodic(atoms, builder, out); });
  }

  Totals periodic(const CellAtoms& atoms, DeviceGraphBuilder& builder, const OutputsRef& out) {
    builder.build(atoms, cutoff());
    const DeviceEdgeView& e = builder.mace_edges(cutoff(), num_species());
    ThrustEdges src{e.receivers, e.senders, e.shifts, e.positions, r2max()};
    const double* node_attrs = e.node_attrs;
    if (!readable(e.memory)) {
      const DeviceGraphBuilder::HostEdges h = builder.edges_to_host();
      std::vector<double> pos(3 * size_t(e.n_nodes));
      builder.copy_to_host(e.positions, pos.size(), pos.data());
      std::vector<int> recv(h.receivers.begin(), h.receivers.end()), send(h.senders.begin(), h.senders.end());
      std::vector<double> vec(3 * size_t(e.n_edges));
      for (std::int64_t q = 0; q < e.n_edges; ++q)
        for (int a = 0; a < 3; ++a)
          vec[3 * q + a] = pos[3 * size_t(recv[q]) + a] - pos[3 * size_t(send[q]) + a] + h.shifts[3 * q + a];
      edge_receiver_ = upload(recv, edge_receiver_);
      edge_sender_ = upload(send, edge_sender_);
      edge_vec_ = upload(vec, edge_vec_);
      attrs_ = upload(h.node_attrs, attrs_);
      node_attrs = attrs_.data();
    }
    // species from the one-hot attributes
    if (long(species_.extent(0)) < e.n_nodes) species_ = Kokkos::View<int*, space>("mace::species_in", e.n_nodes);
    {
      auto sp = species_;
      const int ns = e.n_species;
      Kokkos::parallel_for(
          "mace::species_from_attrs", Kokkos::RangePolicy<ExecSpace>(0, e.n_nodes), KOKKOS_LAMBDA(int i) {
            int k = 0;
            for (int c = 0; c < ns; ++c)
              if (node_attrs[long(i) * ns + c] > 0.5) k = c;
            sp(i) = k;
          });
    }
    if (readable(e.memory)) {
      graph_.from_edges(e.n_nodes, e.n_nodes, long(e.n_edges), species_.data(), src);
    } else {
      graph_.from_edges(e.n_nodes, e.n_nodes, long(e.n_edges), species_.data(),
                        ListedEdges{edge_receiver_.data(), edge_sender_.data(), edge_vec_.data(), r2max()});
    }
    const double energy = run();
    Totals t;
    t.energy = energy;
    t.virial = write(out.forces, out.atom_energy, out.atom_virial, out.virial, atoms.n, atoms.memory);
    return t;
  }

  // Flat edges (receiver, sender, vector) in this engine's memory.
  struct ListedEdges {
    const int* receiver;
    const int* sender;
    const double* vec;
    double r2max;
    KOKKOS_INLINE_FUNCTION bool operator()(long q, int& r, int& s, double v[3]) const {
      r = receiver[q];
      s = sender[q];
      for (int a = 0; a < 3; ++a) v[a] = vec[3 * q + a];
      const double r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
      return kokkos::mace::in_graph(r2, r2max);
    }
  };
  // The Thrust builder's edges: vector x_receiver - x_sender + shift.
  struct ThrustEdges {
    const std::int64_t* receivers;
    const std::int64_t* senders;
    const double* shifts;
    const double* positions;
    double r2max;
    KOKKOS_INLINE_FUNCTION bool operator()(long q, int& r, int& s, double v[3]) const {
      r = int(receivers[q]);
      s = int(senders[q]);
      for (int a = 0; a < 3; ++a) v[a] = positions[3 * long(r) + a] - positions[3 * long(s) + a] + shifts[3 * q + a];
      const double r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
      return kokkos::mace::in_graph(r2, r2max);
    }
  };

 private:
  Model model_;
  kokkos::mace::MaceEngine<ExecSpace, Real> engine_;
  std::string device_;
  MaceMetadata meta_;
  kokkos::mace::GraphBuilder<ExecSpace> graph_;
  Kokkos::View<double*, space> node_energy_;
  Kokkos::View<double* [3], space> edge_grad_;
  // copies of inputs that are not where the kernels run (reused)
  Kokkos::View<double*, space> positions_, edge_vec_, attrs_;
  Kokkos::View<int*, space> species_, edge_receiver_, edge_sender_, list_neighbors_;
  Kokkos::View<std::int64_t*, space> list_offsets_;

  static constexpr bool host_space = std::is_same_v<space, Kokkos::HostSpace>;

  double r2max() const { return model_.r_max * model_.r_max; }
  // Whether the kernels can read pointers in `memory`.
  static bool readable(MemorySpace memory) { return (memory == MemorySpace::Device) != host_space; }

  void check(MemorySpace memory, const OutputsRef& out) const {
    if (memory == MemorySpace::Device && host_space)
      throw Error("mace (native engine): device pointers, but this engine runs on the host (" +
                  std::string(ExecSpace::name()) + ")");
    if (out.atom_centroid_virial) throw Error("mace: per-atom virials in the centroid form are not available");
    if (out.site_virial) throw Error("mace: site virials are not available (MACE's energy has no site terms)");
  }

  // `f()`, with a failed allocation (Kokkos' message names the buffer and its size) said as what
  // it is: the system did not fit, with what the engine's node buffers alone need for it.
  template <class F>
  auto guard_memory(long n_atoms, const F& f) -> decltype(f()) {
    try {
      return f();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      const std::string what = e.what();
      if (what.find("failed to allocate") == std::string::npos && what.find("bad_alloc") == std::string::npos) throw;
      char head[200];
      std::snprintf(head, sizeof head,
                    "mace (native engine): out of %s memory for %ld atoms (graph nodes; the node buffers alone need "
                    "%.2f GiB): ",
                    host_space ? "host" : "device", n_atoms, engine_.node_buffer_bytes(n_atoms) / double(1 << 30));
      throw Error(head + what);
    }
  }

  // A host array in this engine's memory, in `view` if it is large enough.
  template <class T>
  static Kokkos::View<T*, space> upload(const std::vector<T>& h, Kokkos::View<T*, space> view) {
    if (view.extent(0) < h.size()) view = Kokkos::View<T*, space>("mace::input", h.size() * 11 / 10 + 16);
    if (!h.empty())
      Kokkos::deep_copy(Kokkos::subview(view, std::make_pair(size_t(0), h.size())),
                        Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(h.data(), h.size()));
    return view;
  }

  // The engine on the graph just built; the total energy.
  double run(const typename kokkos::mace::MaceEngine<ExecSpace, Real>::Halo* halo = nullptr) {
    const auto& g = graph_.graph();
    const int bad = graph_.species_outside(model_.n_elements());
    if (bad >= 0) {
      int sp = 0;
      Kokkos::deep_copy(sp, Kokkos::subview(g.species, bad));
      throw Error("mace: atom " + std::to_string(bad) + " has species " + std::to_string(sp) + ", outside the model's " +
                  std::to_string(model_.n_elements()));
    }
    if (long(edge_grad_.extent(0)) < g.n_edges) edge_grad_ = Kokkos::View<double* [3], space>("mace::edge_grad", g.n_edges * 11 / 10 + 16);
    if (int(node_energy_.extent(0)) < g.n_nodes) node_energy_ = Kokkos::View<double*, space>("mace::node_energy", g.n_nodes * 11 / 10 + 16);
    return engine_.run(g, node_energy_, edge_grad_, halo);
  }

  // Forces (+=, n_out rows), per-atom energies (=, the graph's n_energy) and per-atom virials
  // (+=) into pointers in `memory`; returns the global virial (zero unless with_virial).
  std::array<double, 6> write(double* forces, double* atom_energy, double* atom_virial, bool with_virial, int n_out,
                              MemorySpace memory) {
    kokkos::mace::GraphOutputs o{forces, atom_energy, atom_virial, n_out, with_virial};
    if (readable(memory)) return graph_.outputs(node_energy_, edge_grad_, o);
    // host outputs of a GPU backend: written here, added there
    const int n_energy = graph_.graph().n_energy;
    Kokkos::View<double*, space> f("mace::forces_out", forces ? 3 * size_t(n_out) : 0),
        e("mace::energy_out", atom_energy ? size_t(n_energy) : 0),
        w("mace::virial_out", atom_virial ? 6 * size_t(n_out) : 0);
    o.forces = forces ? f.data() : nullptr;
    o.atom_energy = atom_energy ? e.data() : nullptr;
    o.atom_virial = atom_virial ? w.data() : nullptr;
    const auto virial = graph_.outputs(node_energy_, edge_grad_, o);
    auto add = [](double* dst, const Kokkos::View<double*, space>& src, bool overwrite) {
      if (!dst) return;
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), src);
      for (size_t k = 0; k < h.extent(0); ++k) dst[k] = overwrite ? h(k) : dst[k] + h(k);
    };
    add(forces, f, false);
    add(atom_energy, e, true);
    add(atom_virial, w, false);
    return virial;
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
