// The native MACE engine kernel by kernel: every kernel's output on the backend under test
// (Kokkos' default execution space: OpenMP with two threads in CI, one warp per node on CUDA
// in the GPU build, perf/device/) against the same kernel on Kokkos Serial, stage after stage
// (graph building, embedding, linear_up, message, product, product adjoint, message adjoint,
// pair repulsion, forces and virials), on real model files (models/make_mace_models.py: the
// tiny model, the seed model's float32 radial table, the variant's density blocks, Agnesi
// transform, ZBL and L = 2 features). The graph builder is also held to a plain host grouping
// of the same edges. The physics is held to mace-torch by test_mace_parity_native.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "mace_graph.hpp"
#include "mace_kernel.hpp"
#include "mace_native_reader.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/structure.hpp"

using namespace mlpot;
using namespace mlpot::kokkos::mace;

namespace {

std::string models_dir() {
  const char* env = std::getenv("MLPOT_TEST_MODELS");
  return env ? env : MLPOT_TEST_MODELS;
}

// A cluster of atoms (no periodicity) with every directed edge shorter than r_max; the last
// `ghosts` atoms are nodes whose energies do not count (as LAMMPS' ghosts in the ghost-node graph).
struct Cluster {
  int n = 0, n_energy = 0;
  std::vector<int> species;
  std::vector<int> receiver, sender;
  std::vector<double> vec;
};

Cluster make_cluster(int n, int ghosts, int n_species, double box, double r_max, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, box);
  std::vector<double> x;
  while (int(x.size()) < 3 * n) {
    const double p[3] = {u(rng), u(rng), u(rng)};
    bool ok = true;
    for (size_t k = 0; k < x.size(); k += 3) {
      const double d = std::hypot(p[0] - x[k], p[1] - x[k + 1], p[2] - x[k + 2]);
      ok = ok && d > 0.9;  // short contacts too: where the ZBL repulsion is large
    }
    if (ok) x.insert(x.end(), p, p + 3);
  }
  Cluster c;
  c.n = n;
  c.n_energy = n - ghosts;
  for (int i = 0; i < n; ++i) c.species.push_back(i % n_species);
  std::shuffle(c.species.begin(), c.species.end(), rng);
  // Edges listed sender-major, so grouping them by receiver is real work.
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      const double v[3] = {x[3 * i] - x[3 * j], x[3 * i + 1] - x[3 * j + 1], x[3 * i + 2] - x[3 * j + 2]};
      const double r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      if (i == j || r >= r_max) continue;
      c.receiver.push_back(i);
      c.sender.push_back(j);
      c.vec.insert(c.vec.end(), v, v + 3);
    }
  return c;
}

template <class Space>
struct FlatEdges {
  Kokkos::View<int*, Space> receiver, sender;
  Kokkos::View<double*, Space> vec;
  KOKKOS_INLINE_FUNCTION bool operator()(long q, int& r, int& s, double v[3]) const {
    r = receiver(q);
    s = sender(q);
    for (int a = 0; a < 3; ++a) v[a] = vec(3 * q + a);
    return true;
  }
};

template <class T, class Space>
Kokkos::View<T*, Space> upload(const std::vector<T>& h, const char* label) {
  Kokkos::View<T*, Space> d(std::string(label), h.size());
  auto m = Kokkos::create_mirror_view(d);
  for (size_t k = 0; k < h.size(); ++k) m(k) = h[k];
  Kokkos::deep_copy(d, m);
  return d;
}

// The first `rows` rows of a view, as doubles on the host.
template <class V>
std::vector<double> snapshot(const V& v, long rows) {
  std::vector<double> out;
  if (!v.data()) return out;
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  if constexpr (V::rank == 1) {
    for (long i = 0; i < std::min<long>(rows, long(h.extent(0))); ++i) out.push_back(double(h(i)));
  } else {
    for (long i = 0; i < std::min<long>(rows, long(h.extent(0))); ++i)
      for (size_t k = 0; k < h.extent(1); ++k) out.push_back(double(h(i, k)));
  }
  return out;
}

using Stages = std::vector<std::pair<std::string, std::vector<double>>>;

// Every kernel's output, in the order the engine runs them, on ExecSpace.
template <class ExecSpace, class Real>
Stages run_stages(const mace_native::Model& m, const Cluster& c) {
  using space = typename ExecSpace::memory_space;
  Stages st;
  auto add = [&](const std::string& name, std::vector<double> v) { st.emplace_back(name, std::move(v)); };
  GraphBuilder<ExecSpace> gb;
  auto species = upload<int, space>(c.species, "species");
  FlatEdges<space> src{upload<int, space>(c.receiver, "receiver"), upload<int, space>(c.sender, "sender"),
                       upload<double, space>(c.vec, "vec")};
  gb.from_edges(c.n, c.n_energy, long(c.receiver.size()), species.data(), src);
  const auto& g = gb.graph();
  add("graph: offsets", snapshot(g.offsets, c.n + 1));
  add("graph: sender", snapshot(g.sender, g.n_edges));
  add("graph: receiver", snapshot(g.receiver, g.n_edges));
  add("graph: vectors", snapshot(g.vec, g.n_edges));
  add("graph: sender_offsets", snapshot(g.sender_offsets, c.n + 1));
  add("graph: by_sender", snapshot(g.by_sender, g.n_edges));

  MaceEngine<ExecSpace, Real> engine(m, std::is_same_v<Real, float>);
  Kokkos::View<double*, space> node_energy("node_energy", c.n);
  Kokkos::View<double* [3], space> edge_grad("edge_grad", g.n_edges);
  engine.reserve(c.n);
  engine.embed(g, node_energy);
  add("embedding", snapshot(engine.buffers(0).H_in, c.n));
  for (int t = 0; t < engine.n_layers(); ++t) {
    engine.forward_layer(t, g, node_energy);
    const auto b = engine.buffers(t);
    const std::string L = " (layer " + std::to_string(t) + ")";
    add("linear_up" + L, snapshot(b.U, c.n));
    add("message" + L, snapshot(b.M, c.n));
    add("density" + L, snapshot(b.D, c.n));
    add("product: contraction input" + L, snapshot(b.X, c.n));
    add("product: features out" + L, snapshot(b.H_out, c.n));
    add("product: readout energies" + L, snapshot(node_energy, c.n));
  }
  engine.clear_adjoints(g, edge_grad);
  for (int t = engine.n_layers() - 1; t >= 0; --t) {
    engine.backward_layer(t, g, edge_grad);
    const auto b = engine.buffers(t);
    const std::string L = " (layer " + std::to_string(t) + ")";
    add("product_adjoint: dE/dM" + L, snapshot(b.dM, c.n));
    add("product_adjoint: dE/dD" + L, snapshot(b.dD, b.D.data() ? c.n : 0));
    add("message_adjoint: dE/dU" + L, snapshot(b.dU, c.n));
    add("message_adjoint: dE/dH" + L, snapshot(b.G_in, c.n));
    add("message_adjoint: dE/dv" + L, snapshot(edge_grad, g.n_edges));
  }
  if (engine.has_pair_repulsion()) {
    engine.pair_repulsion(g, node_energy, edge_grad);
    add("pair_repulsion: energies", snapshot(node_energy, c.n));
    add("pair_repulsion: dE/dv", snapshot(edge_grad, g.n_edges));
  }
  Kokkos::View<double*, space> forces("forces", 3 * c.n), atom_virial("atom_virial", 6 * c.n),
      atom_energy("atom_energy", c.n_energy);
  GraphOutputs out{forces.data(), atom_energy.data(), atom_virial.data(), c.n, true};
  const auto virial = gb.outputs(node_energy, edge_grad, out);
  add("outputs: forces", snapshot(forces, 3 * c.n));
  add("outputs: per-atom energies", snapshot(atom_energy, c.n_energy));
  add("outputs: per-atom virials", snapshot(atom_virial, 6 * c.n));
  add("outputs: virial", std::vector<double>(virial.begin(), virial.end()));
  return st;
}

// Each stage on the backend under test against Serial, relative to the stage's largest value.
template <class Real>
void compare_backends(const std::string& file, double tol) {
  const std::string path = models_dir() + "/" + file;
  const mace_native::Model m = mace_native::read_model(path, torch::jit::load(path));
  const Cluster c = make_cluster(22, 4, m.n_elements(), 6.5, m.r_max, 11);
  const Stages ref = run_stages<Kokkos::Serial, Real>(m, c);
  const Stages got = run_stages<Kokkos::DefaultExecutionSpace, Real>(m, c);
  ASSERT_EQ(ref.size(), got.size());
  int checked = 0;
  for (size_t k = 0; k < ref.size(); ++k) {
    const auto& [name, a] = ref[k];
    const auto& b = got[k].second;
    SCOPED_TRACE(file + ": " + name);
    ASSERT_EQ(a.size(), b.size());
    double scale = 0, diff = 0;
    for (size_t q = 0; q < a.size(); ++q) {
      scale = std::max(scale, std::abs(a[q]));
      diff = std::max(diff, std::abs(a[q] - b[q]));
    }
    if (name.rfind("graph", 0) == 0) {
      EXPECT_EQ(diff, 0.0) << "the graph must be the same on every backend";
    } else {
      EXPECT_LE(diff, tol * scale) << Kokkos::DefaultExecutionSpace::name() << " vs Serial: max |diff| " << diff
                                   << " of max |x| " << scale;
    }
    checked += a.empty() ? 0 : 1;
  }
  EXPECT_GT(checked, 20);
}

}  // namespace

// float64: the backends sum in the same order per node (host) or reduce across a warp's lanes
// (CUDA): within 1e-12 of each stage's scale (the Serial = OpenMP bound).
TEST(MaceKernels, TinyFloat64MatchesSerial) { compare_backends<double>("tiny-float64-lammps.pt", 1e-12); }
TEST(MaceKernels, VariantFloat64MatchesSerial) { compare_backends<double>("variant-float64-lammps.pt", 1e-12); }
// float32 (the seed model's radial table; the variant's network in double): float32 round-off
// in a different summation order on CUDA.
TEST(MaceKernels, SeedFloat32MatchesSerial) { compare_backends<float>("seed-float32-lammps.pt", 2e-5); }
TEST(MaceKernels, VariantFloat32MatchesSerial) { compare_backends<float>("variant-float32-lammps.pt", 2e-5); }

// The graph builder against a plain host grouping of the same edges: by receiver in list order,
// each sender's edges in increasing edge number; ghost-free counts and vectors carried along.
TEST(MaceKernels, GraphBuilderGroupsEdgesLikeAHostSort) {
  const Cluster c = make_cluster(30, 3, 5, 7.0, 4.0, 3);
  using space = Kokkos::DefaultExecutionSpace::memory_space;
  GraphBuilder<Kokkos::DefaultExecutionSpace> gb;
  auto species = upload<int, space>(c.species, "species");
  FlatEdges<space> src{upload<int, space>(c.receiver, "receiver"), upload<int, space>(c.sender, "sender"),
                       upload<double, space>(c.vec, "vec")};
  gb.from_edges(c.n, c.n_energy, long(c.receiver.size()), species.data(), src);
  const auto& g = gb.graph();
  const long E = long(c.receiver.size());
  ASSERT_EQ(g.n_edges, E);
  std::vector<long> order(static_cast<size_t>(E));
  std::iota(order.begin(), order.end(), 0L);
  std::stable_sort(order.begin(), order.end(), [&](long a, long b) { return c.receiver[a] < c.receiver[b]; });
  const auto sender = snapshot(g.sender, E), receiver = snapshot(g.receiver, E), vec = snapshot(g.vec, E);
  const auto offsets = snapshot(g.offsets, c.n + 1), so = snapshot(g.sender_offsets, c.n + 1),
             by_sender = snapshot(g.by_sender, E);
  for (long k = 0; k < E; ++k) {
    const long q = order[size_t(k)];
    ASSERT_EQ(receiver[k], c.receiver[q]) << k;
    ASSERT_EQ(sender[k], c.sender[q]) << k;
    for (int a = 0; a < 3; ++a) ASSERT_EQ(vec[3 * k + a], c.vec[3 * q + a]);
  }
  for (int i = 0; i <= c.n; ++i)
    ASSERT_EQ(offsets[i], double(std::count_if(c.receiver.begin(), c.receiver.end(), [&](int r) { return r < i; })));
  long k = 0;
  for (int j = 0; j < c.n; ++j) {
    ASSERT_EQ(so[j], double(k));
    for (long e = 0; e < E; ++e)
      if (sender[e] == j) ASSERT_EQ(by_sender[k++], double(e)) << "sender " << j;
  }
  ASSERT_EQ(k, E);
  EXPECT_EQ(gb.species_outside(5), -1);
  EXPECT_EQ(gb.species_outside(4), int(std::find(c.species.begin(), c.species.end(), 4) - c.species.begin()));
}

namespace {

// Energy, forces folded onto the owners, and virial of a run of the engine.
struct HaloResult {
  double energy = 0;
  std::vector<double> atom_energy, forces;
  std::array<double, 6> virial{};
};

// The periodic structure two ways on the backend under test: the periodic graph (nodes are the
// cell's atoms, images become edges to their owners), and message passing as LAMMPS runs it on
// one rank (nodes are the atoms and their images out to r_max, only the atoms have lists, the
// images' features come from their owners between layers through a Halo, and their adjoints go
// back to them).
template <class Real>
void compare_halo(const std::string& file, double tol) {
  using ExecSpace = Kokkos::DefaultExecutionSpace;
  using space = ExecSpace::memory_space;
  const std::string path = models_dir() + "/" + file;
  const mace_native::Model m = mace_native::read_model(path, torch::jit::load(path));
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  Structure s;
  s.cell = {{{6.3, 0.0, 0.0}, {0.8, 6.1, 0.0}, {-0.5, 0.4, 6.6}}};  // triclinic, smaller than r_max twice
  s.pbc = {true, true, true};
  const int n = 18;
  while (s.size() < n) {
    const double f[3] = {u(rng), u(rng), u(rng)};
    double x[3];
    for (int a = 0; a < 3; ++a) x[a] = f[0] * s.cell[0][a] + f[1] * s.cell[1][a] + f[2] * s.cell[2][a];
    bool ok = true;
    for (int k = 0; k < s.size(); ++k)
      ok = ok && std::hypot(x[0] - s.positions[3 * k], x[1] - s.positions[3 * k + 1], x[2] - s.positions[3 * k + 2]) > 1.3;
    if (!ok) continue;
    s.positions.insert(s.positions.end(), x, x + 3);
    s.species.push_back(s.size() % m.n_elements());
  }
  const GhostedSystem g = build_neighbor_list(s, m.r_max);
  const int nt = g.n_total();
  ASSERT_GT(nt, 4 * n) << "the images must outnumber the atoms";
  MaceEngine<ExecSpace, Real> engine(m, std::is_same_v<Real, float>);

  auto run = [&](GraphBuilder<ExecSpace>& gb, const typename MaceEngine<ExecSpace, Real>::Halo* halo) {
    const auto& gr = gb.graph();
    Kokkos::View<double*, space> node_energy("node_energy", gr.n_nodes);
    Kokkos::View<double* [3], space> edge_grad("edge_grad", gr.n_edges);
    HaloResult r;
    r.energy = engine.run(gr, node_energy, edge_grad, halo);
    Kokkos::View<double*, space> forces("forces", 3 * gr.n_nodes), atom_energy("atom_energy", n);
    GraphOutputs out{forces.data(), atom_energy.data(), nullptr, gr.n_nodes, true};
    r.virial = gb.outputs(node_energy, edge_grad, out);
    r.atom_energy = snapshot(atom_energy, n);
    const auto f = snapshot(forces, 3 * gr.n_nodes);
    r.forces.assign(3 * n, 0.0);
    for (int i = 0; i < gr.n_nodes; ++i)
      for (int a = 0; a < 3; ++a) r.forces[3 * g.owner[i] + a] += f[3 * i + a];
    return r;
  };

  // The periodic graph.
  std::vector<int> receiver, sender;
  std::vector<double> vec;
  for (int i = 0; i < n; ++i)
    for (std::int64_t q = g.offsets[i]; q < g.offsets[i + 1]; ++q) {
      const int k = g.neighbors[q];
      receiver.push_back(i);
      sender.push_back(g.owner[k]);
      for (int a = 0; a < 3; ++a) vec.push_back(g.positions[3 * i + a] - g.positions[3 * k + a]);
    }
  GraphBuilder<ExecSpace> periodic;
  auto species_local = upload<int, space>(std::vector<int>(g.species.begin(), g.species.begin() + n), "species");
  FlatEdges<space> src{upload<int, space>(receiver, "receiver"), upload<int, space>(sender, "sender"),
                       upload<double, space>(vec, "vec")};
  periodic.from_edges(n, n, long(receiver.size()), species_local.data(), src);
  const HaloResult ref = run(periodic, nullptr);

  // Message passing.
  GraphBuilder<ExecSpace> ghosted;
  auto positions = upload<double, space>(g.positions, "positions");
  auto species_all = upload<int, space>(g.species, "species_all");
  auto offsets = upload<std::int64_t, space>(g.offsets, "offsets");
  auto neighbors = upload<int, space>(g.neighbors, "neighbors");
  ListShape list;
  list.offsets = offsets.data();
  list.neighbors = neighbors.data();
  ghosted.from_lists(nt, n, n, positions.data(), species_all.data(), list, m.r_max);
  ghosted.set_ghosts_from_owners();
  int forwards = 0, reverses = 0;
  typename MaceEngine<ExecSpace, Real>::Halo halo;
  auto on_host = [&](double* rows, int w, bool reverse) {
    Kokkos::View<double*, space, Kokkos::MemoryUnmanaged> d(rows, size_t(nt) * w);
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), d);
    for (int k = n; k < nt; ++k)
      for (int c = 0; c < w; ++c) {
        if (reverse)
          h(size_t(g.owner[k]) * w + c) += h(size_t(k) * w + c);
        else
          h(size_t(k) * w + c) = h(size_t(g.owner[k]) * w + c);
      }
    Kokkos::deep_copy(d, h);
  };
  halo.forward = [&](double* rows, int w) { ++forwards, on_host(rows, w, false); };
  halo.reverse = [&](double* rows, int w) { ++reverses, on_host(rows, w, true); };
  const HaloResult got = run(ghosted, &halo);
  EXPECT_EQ(forwards, engine.n_layers() - 1);
  EXPECT_EQ(reverses, engine.n_layers() - 1);

  auto rel = [](const std::vector<double>& a, const std::vector<double>& b) {
    double scale = 1, diff = 0;
    for (size_t k = 0; k < a.size(); ++k) scale = std::max(scale, std::abs(b[k])), diff = std::max(diff, std::abs(a[k] - b[k]));
    return diff / scale;
  };
  std::printf("%s: message passing against the periodic graph: energy %.1e, per-atom energies %.1e, forces %.1e, "
              "virial %.1e (relative)\n", file.c_str(), std::abs(got.energy - ref.energy) / std::abs(ref.energy),
              rel(got.atom_energy, ref.atom_energy), rel(got.forces, ref.forces),
              rel(std::vector<double>(got.virial.begin(), got.virial.end()),
                  std::vector<double>(ref.virial.begin(), ref.virial.end())));
  EXPECT_LE(std::abs(got.energy - ref.energy), tol * std::abs(ref.energy)) << got.energy << " vs " << ref.energy;
  EXPECT_LE(rel(got.atom_energy, ref.atom_energy), tol);
  EXPECT_LE(rel(got.forces, ref.forces), tol);
  EXPECT_LE(rel(std::vector<double>(got.virial.begin(), got.virial.end()),
                std::vector<double>(ref.virial.begin(), ref.virial.end())), tol);
  // Without the exchange the ghosts' features would be wrong: the check can fail.
  halo.forward = [](double*, int) {};
  const HaloResult wrong = run(ghosted, &halo);
  EXPECT_GT(rel(wrong.forces, ref.forces), 1e3 * tol);
}

}  // namespace

// Message passing (MaceEngine::Halo, what LAMMPS' mace styles do across ranks) gives the
// periodic graph's energies, forces and virial: tiny (2 layers), variant (3 layers, density
// blocks, ZBL, Agnesi) in float64, seed in float32. Bounds about ten times the worst measured on
// the host (2026-12-07: 2.0e-15 float64, 7.3e-7 float32, both the variant's forces and the
// seed's virial).
TEST(MaceKernels, HaloEqualsPeriodicGraphTiny) { compare_halo<double>("tiny-float64-lammps.pt", 2e-14); }
TEST(MaceKernels, HaloEqualsPeriodicGraphVariant) { compare_halo<double>("variant-float64-lammps.pt", 2e-14); }
TEST(MaceKernels, HaloEqualsPeriodicGraphSeedFloat32) { compare_halo<float>("seed-float32-lammps.pt", 1e-5); }

// A neighbour index outside the nodes (a corrupt list) is an error naming the row, on every
// backend, not a read out of bounds.
TEST(MaceKernels, GraphBuilderRefusesANeighbourOutsideTheNodes) {
  using space = Kokkos::DefaultExecutionSpace::memory_space;
  const std::vector<double> x = {0, 0, 0, 1.5, 0, 0, 0, 1.5, 0};
  const std::vector<std::int64_t> offsets = {0, 2, 3, 4};
  for (int bad : {3, -1}) {
    const std::vector<int> neighbors = {1, 2, bad, 0};  // row 1 lists node `bad`
    auto xd = upload<double, space>(x, "x");
    auto sp = upload<int, space>({0, 1, 0}, "species");
    auto od = upload<std::int64_t, space>(offsets, "offsets");
    auto nd = upload<int, space>(neighbors, "neighbors");
    ListShape list;
    list.offsets = od.data();
    list.neighbors = nd.data();
    GraphBuilder<Kokkos::DefaultExecutionSpace> gb;
    try {
      gb.from_lists(3, 3, 3, xd.data(), sp.data(), list, 5.0);
      ADD_FAILURE() << "neighbour " << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("a neighbour of atom 1 is outside [0, 3)"), std::string::npos) << e.what();
    }
  }
}
