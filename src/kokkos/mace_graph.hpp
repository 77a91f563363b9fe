#pragma once
// The native MACE engine's graph (DeviceGraph, mace_kernel.hpp) built where the kernels run, and
// forces and virials formed there from the kernels' per-edge gradients: from neighbour lists
// (LAMMPS, LAMMPS-Kokkos views, the CLI's ghost lists) or from a flat list of edges (the Thrust
// builder's periodic graph, the CLI's periodic images). Nothing crosses to the host but the
// totals and what the caller asks for in host memory.
//
// Every order is fixed: edges of a receiver in the order its list or the flat list gives them,
// edges of a sender in increasing edge number (a counting sort, its runs sorted), every per-atom
// sum a gather in that order. Results therefore repeat bit for bit and do not depend on the
// backend's thread count (the global virial's reduction aside).
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <string>

#include "mace_kernel.hpp"
#include "mlpot/error.hpp"

namespace mlpot::kokkos::mace {

struct Virial6 {
  double v[6];
  KOKKOS_INLINE_FUNCTION Virial6() {
    for (int c = 0; c < 6; ++c) v[c] = 0;
  }
  KOKKOS_INLINE_FUNCTION Virial6& operator+=(const Virial6& o) {
    for (int c = 0; c < 6; ++c) v[c] += o.v[c];
    return *this;
  }
};

}  // namespace mlpot::kokkos::mace

namespace Kokkos {
template <>
struct reduction_identity<mlpot::kokkos::mace::Virial6> {
  KOKKOS_FORCEINLINE_FUNCTION static mlpot::kokkos::mace::Virial6 sum() { return {}; }
};
}  // namespace Kokkos

namespace mlpot::kokkos::mace {

// One of NeighborsRef's device-readable shapes (potential.hpp): CSR (offsets) or padded 2-D
// (counts, row_stride, slot_stride), pointers in the graph's memory space.
struct ListShape {
  const std::int64_t* offsets = nullptr;
  const int* counts = nullptr;
  const int* neighbors = nullptr;
  std::int64_t row_stride = 0, slot_stride = 1;
  int index_mask = ~0;
  KOKKOS_INLINE_FUNCTION std::int64_t count(int i) const { return offsets ? offsets[i + 1] - offsets[i] : counts[i]; }
  KOKKOS_INLINE_FUNCTION int neighbor(int i, std::int64_t jj) const {
    return (offsets ? neighbors[offsets[i] + jj] : neighbors[i * row_stride + jj * slot_stride]) & index_mask;
  }
};

// Whether a pair at squared distance r2 is an edge: closer than r_max, and not an atom paired
// with itself (or one on top of it), as MACE's graph leaves those out.
KOKKOS_INLINE_FUNCTION bool in_graph(double r2, double r2max) { return r2 < r2max && r2 != 0.0; }

// The sums forces and virials need from one run, [n_out] rows.
struct GraphOutputs {
  double* forces = nullptr;       // [n_out][3], +=
  double* atom_energy = nullptr;  // [n_energy], overwritten
  double* atom_virial = nullptr;  // [n_out][6] xx yy zz xy xz yz, +=
  int n_out = 0;                  // nodes whose forces are written (ghost nodes included)
  bool virial = true;             // form the global virial
};

// -dE/dv (x) v of one edge, symmetrised: xx yy zz xy xz yz.
KOKKOS_INLINE_FUNCTION void edge_virial(const double g[3], const double v[3], double w[6]) {
  w[0] = -g[0] * v[0];
  w[1] = -g[1] * v[1];
  w[2] = -g[2] * v[2];
  w[3] = -0.5 * (g[0] * v[1] + g[1] * v[0]);
  w[4] = -0.5 * (g[0] * v[2] + g[2] * v[0]);
  w[5] = -0.5 * (g[1] * v[2] + g[2] * v[1]);
}

template <class ExecSpace>
class GraphBuilder {
 public:
  using space = typename ExecSpace::memory_space;
  using policy = Kokkos::RangePolicy<ExecSpace>;

  const DeviceGraph<space>& graph() const { return g_; }
  // Message passing: only the first n_energy nodes' features are computed, the ghosts' are set
  // from their owners (MaceEngine::Halo). Their edges must all have a computed receiver.
  void set_ghosts_from_owners() { g_.n_computed = g_.n_energy; }

  // Edges i <- k for the first n_listed nodes i and their listed neighbours k closer than r_max
  // (and not at distance 0), vector x_i - x_k; nodes are the n_nodes atoms, the first n_energy
  // of which count. Throws naming the row if a neighbour index is outside [0, n_nodes).
  void from_lists(int n_nodes, int n_energy, int n_listed, const double* positions, const int* species,
                  const ListShape& list, double r_max);

  // Edges q < n_edges, taken where the source says (receiver, sender, vector; false: left out),
  // grouped by receiver in increasing q. species: [n_nodes] model species.
  template <class Source>
  void from_edges(int n_nodes, int n_energy, long n_edges, const int* species, const Source& source);

  // Forces, per-atom energies and virials from dE/dv per edge (MaceEngine::run), written into
  // `out` (memory of this space); returns the global virial (zero unless out.virial).
  std::array<double, 6> outputs(Kokkos::View<double*, space> node_energy, Kokkos::View<double* [3], space> edge_grad,
                                const GraphOutputs& out) const;

  // The first node whose species is outside [0, n_species), or -1.
  int species_outside(int n_species) const;

  // Public for nvcc (extended lambdas); called by the two builders above.
  void reserve(int n_nodes, long n_edges);
  void group_by_sender();
  // Counting sort of the items q < n_items by key(q) in [0, n) (-1: left out): offsets[n + 1] of
  // each key's run, order[] the items of each run in increasing q.
  template <class Key>
  void group(long n_items, int n, const Key& key, Kokkos::View<long*, space> offsets,
             Kokkos::View<long*, space> order);

 private:
  DeviceGraph<space> g_;
  Kokkos::View<long*, space> count_, slot_, order_;
};

template <class ExecSpace>
void GraphBuilder<ExecSpace>::reserve(int n, long E) {
  if (long(g_.sender.extent(0)) < E || long(g_.species.extent(0)) < n || !g_.offsets.data()) {
    const long ecap = std::max<long>(E, 1) * 11 / 10 + 16;
    const int ncap = std::max<int>(n, int(g_.species.extent(0))) * 11 / 10 + 16;
    if (long(g_.species.extent(0)) < n || !g_.offsets.data()) {
      g_.species = Kokkos::View<int*, space>("mace::species", ncap);
      g_.offsets = Kokkos::View<long*, space>("mace::offsets", ncap + 1);
      g_.sender_offsets = Kokkos::View<long*, space>("mace::sender_offsets", ncap + 1);
      count_ = Kokkos::View<long*, space>("mace::count", ncap + 1);
      slot_ = Kokkos::View<long*, space>("mace::slot", ncap + 1);
    }
    if (long(g_.sender.extent(0)) < E) {
      g_.sender = Kokkos::View<int*, space>("mace::sender", ecap);
      g_.receiver = Kokkos::View<int*, space>("mace::receiver", ecap);
      g_.by_sender = Kokkos::View<long*, space>("mace::by_sender", ecap);
      g_.vec = Kokkos::View<double* [3], space>("mace::vec", ecap);
    }
  }
  g_.n_nodes = n;
  g_.n_edges = E;
}

template <class ExecSpace>
void GraphBuilder<ExecSpace>::from_lists(int n_nodes, int n_energy, int n_listed, const double* positions,
                                         const int* species, const ListShape& list, double r_max) {
  reserve(n_nodes, 0);
  g_.n_energy = n_energy;
  g_.n_computed = n_nodes;
  const double r2max = r_max * r_max;
  auto offsets = g_.offsets;
  // Edges per listed row (the other nodes have none), then the prefix sum; the last row with a
  // neighbour index outside the nodes, if any.
  int bad_row = -1;
  Kokkos::parallel_reduce(
      "mace::graph_count", policy(0, n_nodes + 1),
      KOKKOS_LAMBDA(int i, int& bad) {
        long c = 0;
        if (i < n_listed) {
          const double* xi = positions + 3 * long(i);
          for (std::int64_t jj = 0; jj < list.count(i); ++jj) {
            const int k = list.neighbor(i, jj);
            if (k < 0 || k >= n_nodes) {
              bad = i > bad ? i : bad;
              continue;
            }
            const double* xk = positions + 3 * long(k);
            const double d0 = xi[0] - xk[0], d1 = xi[1] - xk[1], d2 = xi[2] - xk[2];
            const double r2 = d0 * d0 + d1 * d1 + d2 * d2;
            if (in_graph(r2, r2max)) ++c;
          }
        }
        offsets(i) = c;
      },
      Kokkos::Max<int>(bad_row));
  if (bad_row >= 0)
    throw Error("mace: a neighbour of atom " + std::to_string(bad_row) + " is outside [0, " +
                             std::to_string(n_nodes) + ")");
  long total = 0;
  Kokkos::parallel_scan(
      "mace::graph_offsets", policy(0, n_nodes + 1),
      KOKKOS_LAMBDA(int i, long& acc, bool final) {
        const long c = offsets(i);
        if (final) offsets(i) = acc;
        acc += c;
      },
      total);
  reserve(n_nodes, total);
  auto sender = g_.sender;
  auto receiver = g_.receiver;
  auto vec = g_.vec;
  auto sp = g_.species;
  Kokkos::parallel_for(
      "mace::graph_fill", policy(0, n_nodes), KOKKOS_LAMBDA(int i) {
        sp(i) = species[i];
        if (i >= n_listed) return;
        long e = offsets(i);
        const double* xi = positions + 3 * long(i);
        for (std::int64_t jj = 0; jj < list.count(i); ++jj) {
          const int k = list.neighbor(i, jj);
          const double* xk = positions + 3 * long(k);
          const double d0 = xi[0] - xk[0], d1 = xi[1] - xk[1], d2 = xi[2] - xk[2];
          const double r2 = d0 * d0 + d1 * d1 + d2 * d2;
          if (!in_graph(r2, r2max)) continue;
          sender(e) = k;
          receiver(e) = i;
          vec(e, 0) = d0;
          vec(e, 1) = d1;
          vec(e, 2) = d2;
          ++e;
        }
      });
  group_by_sender();
}

template <class ExecSpace>
template <class Key>
void GraphBuilder<ExecSpace>::group(long n_items, int n, const Key& key, Kokkos::View<long*, space> offsets,
                                    Kokkos::View<long*, space> order) {
  auto count = count_;
  auto slot = slot_;
  Kokkos::deep_copy(count, 0);
  Kokkos::parallel_for(
      "mace::graph_count", policy(0, n_items), KOKKOS_LAMBDA(long q) {
        const int k = key(q);
        if (k >= 0) Kokkos::atomic_add(&count(k), 1L);
      });
  long total = 0;
  Kokkos::parallel_scan(
      "mace::graph_offsets", policy(0, n + 1),
      KOKKOS_LAMBDA(int i, long& acc, bool final) {
        const long c = i < n ? count(i) : 0;
        if (final) offsets(i) = acc, slot(i) = acc;
        acc += c;
      },
      total);
  Kokkos::parallel_for(
      "mace::graph_place", policy(0, n_items), KOKKOS_LAMBDA(long q) {
        const int k = key(q);
        if (k >= 0) order(Kokkos::atomic_fetch_add(&slot(k), 1L)) = q;
      });
  // The slots above came in any order: each run in increasing q (insertion sort, the runs are a
  // node's edges, a few hundred at most).
  Kokkos::parallel_for(
      "mace::graph_sort_runs", policy(0, n), KOKKOS_LAMBDA(int i) {
        const long b = offsets(i), end = offsets(i + 1);
        for (long a = b + 1; a < end; ++a) {
          const long x = order(a);
          long c = a;
          for (; c > b && order(c - 1) > x; --c) order(c) = order(c - 1);
          order(c) = x;
        }
      });
}

template <class ExecSpace>
template <class Source>
void GraphBuilder<ExecSpace>::from_edges(int n_nodes, int n_energy, long n_edges, const int* species,
                                         const Source& source) {
  reserve(n_nodes, 0);
  g_.n_energy = n_energy;
  g_.n_computed = n_nodes;
  int bad_edge = -1;
  Kokkos::parallel_reduce(
      "mace::graph_check_edges", policy(0, n_edges),
      KOKKOS_LAMBDA(long q, int& m) {
        int r, s;
        double v[3];
        if (source(q, r, s, v) && (r < 0 || r >= n_nodes || s < 0 || s >= n_nodes)) m = Kokkos::max(m, int(q));
      },
      Kokkos::Max<int>(bad_edge));
  if (bad_edge >= 0)
    throw Error("mace: edge " + std::to_string(bad_edge) + " joins a node outside [0, " + std::to_string(n_nodes) +
                ")");
  if (long(order_.extent(0)) < n_edges) order_ = Kokkos::View<long*, space>("mace::order", n_edges * 11 / 10 + 16);
  // by receiver, in increasing q
  group(
      n_edges, n_nodes,
      KOKKOS_LAMBDA(long q) {
        int r, s;
        double v[3];
        return source(q, r, s, v) ? r : -1;
      },
      g_.offsets, order_);
  long total = 0;
  Kokkos::deep_copy(total, Kokkos::subview(g_.offsets, n_nodes));
  reserve(n_nodes, total);
  auto offsets = g_.offsets;
  auto order = order_;
  auto sender = g_.sender;
  auto receiver = g_.receiver;
  auto vec = g_.vec;
  auto sp = g_.species;
  Kokkos::parallel_for(
      "mace::graph_fill_edges", policy(0, n_nodes), KOKKOS_LAMBDA(int i) {
        sp(i) = species[i];
        for (long e = offsets(i); e < offsets(i + 1); ++e) {
          int r, s;
          double v[3];
          source(order(e), r, s, v);
          sender(e) = s;
          receiver(e) = r;
          for (int a = 0; a < 3; ++a) vec(e, a) = v[a];
        }
      });
  group_by_sender();
}

template <class ExecSpace>
void GraphBuilder<ExecSpace>::group_by_sender() {
  auto sender = g_.sender;
  group(
      g_.n_edges, g_.n_nodes, KOKKOS_LAMBDA(long e) { return sender(e); }, g_.sender_offsets, g_.by_sender);
}

template <class ExecSpace>
int GraphBuilder<ExecSpace>::species_outside(int n_species) const {
  auto sp = g_.species;
  int first = g_.n_nodes;
  Kokkos::parallel_reduce(
      "mace::graph_species", policy(0, g_.n_nodes),
      KOKKOS_LAMBDA(int i, int& m) {
        if ((sp(i) < 0 || sp(i) >= n_species) && i < m) m = i;
      },
      Kokkos::Min<int>(first));
  return first < g_.n_nodes ? first : -1;
}

template <class ExecSpace>
std::array<double, 6> GraphBuilder<ExecSpace>::outputs(Kokkos::View<double*, space> node_energy,
                                                      Kokkos::View<double* [3], space> edge_grad,
                                                      const GraphOutputs& out) const {
  const auto g = g_;
  double* forces = out.forces;
  double* atom_energy = out.atom_energy;
  double* atom_virial = out.atom_virial;
  const int n_out = out.n_out, n_energy = g.n_energy;
  // Per node: its incoming edges pull it by -dE/dv, its outgoing ones by +dE/dv; half of each
  // edge's virial to either end (mace-torch's atomic_virials).
  Kokkos::parallel_for(
      "mace::graph_outputs", policy(0, n_out), KOKKOS_LAMBDA(int i) {
        double f[3] = {0, 0, 0}, w[6] = {0, 0, 0, 0, 0, 0};
        auto edge = [&](long e, double sign) {
          const double gv[3] = {edge_grad(e, 0), edge_grad(e, 1), edge_grad(e, 2)};
          for (int a = 0; a < 3; ++a) f[a] += sign * gv[a];
          if (atom_virial) {
            const double v[3] = {g.vec(e, 0), g.vec(e, 1), g.vec(e, 2)};
            double we[6];
            edge_virial(gv, v, we);
            for (int c = 0; c < 6; ++c) w[c] += 0.5 * we[c];
          }
        };
        if (i < g.n_nodes) {
          for (long e = g.offsets(i); e < g.offsets(i + 1); ++e) edge(e, -1.0);
          for (long k = g.sender_offsets(i); k < g.sender_offsets(i + 1); ++k) edge(g.by_sender(k), 1.0);
        }
        if (forces)
          for (int a = 0; a < 3; ++a) forces[3 * long(i) + a] += f[a];
        if (atom_virial)
          for (int c = 0; c < 6; ++c) atom_virial[6 * long(i) + c] += w[c];
        if (atom_energy && i < n_energy) atom_energy[i] = node_energy(i);
      });
  std::array<double, 6> virial{};
  if (out.virial) {
    Virial6 sum;
    Kokkos::parallel_reduce(
        "mace::graph_virial", policy(0, g.n_nodes),
        KOKKOS_LAMBDA(int i, Virial6& acc) {
          for (long e = g.offsets(i); e < g.offsets(i + 1); ++e) {
            const double gv[3] = {edge_grad(e, 0), edge_grad(e, 1), edge_grad(e, 2)};
            const double v[3] = {g.vec(e, 0), g.vec(e, 1), g.vec(e, 2)};
            double we[6];
            edge_virial(gv, v, we);
            for (int c = 0; c < 6; ++c) acc.v[c] += we[c];
          }
        },
        Kokkos::Sum<Virial6>(sum));
    for (int c = 0; c < 6; ++c) virial[size_t(c)] = sum.v[c];
  }
  return virial;
}

}  // namespace mlpot::kokkos::mace
