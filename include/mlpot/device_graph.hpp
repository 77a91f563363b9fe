#pragma once
// Graph building on the device with Thrust (src/cuda/device_graph.cpp): the standalone
// neighbour list (cell binning with sort and scan) and MACE's periodic edge list (compaction of
// the list to r_max, shifts, one-hot node attributes), kept in the memory of Thrust's device
// system so that a potential running there reads them in place.
//
// One source, two device systems: CUDA in the CUDA build (data in GPU memory,
// MemorySpace::Device), OpenMP in the host build (host memory), so the same code is tested on
// machines without a GPU. Ghosts, their order and the neighbour lists are those of the host
// builder (build_neighbor_list) — both use ImageFrame, wrap_position and BinGrid; on the GPU,
// fused multiply-adds may move an atom lying exactly on a shell boundary, so tests compare edge
// sets.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlpot/neighbor_list.hpp"
#include "mlpot/potential.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

// Non-owning views into the builder's arrays (valid until the next build or the builder's end).
struct DeviceNeighborView {
  int n_local = 0, n_listed = 0, n_total = 0;
  const double* positions = nullptr;    // [n_total][3]; locals wrapped into the cell
  const int* species = nullptr;         // [n_total]
  const int* owner = nullptr;           // [n_total]
  const int* image = nullptr;           // [n_total][3] lattice translation from the owner
  const std::int64_t* offsets = nullptr;  // [n_listed + 1], CSR full list
  const int* neighbors = nullptr;
  MemorySpace memory = MemorySpace::Host;
  AtomsRef atoms() const { return AtomsRef{n_local, n_total, positions, species, memory}; }
  NeighborsRef neighbor_ref() const {
    NeighborsRef r;
    r.n_listed = n_listed;
    r.neighbors = neighbors;
    r.offsets = offsets;
    return r;
  }
};

// MACE's periodic graph: nodes are the local atoms; edge e goes from senders[e] (the centre)
// to receivers[e] (the owner of the neighbour image), as mace::periodic_graph builds it.
struct DeviceEdgeView {
  int n_nodes = 0;
  int n_species = 0;
  std::int64_t n_edges = 0;
  const std::int64_t* senders = nullptr;    // [n_edges]
  const std::int64_t* receivers = nullptr;  // [n_edges]
  const double* shifts = nullptr;           // [n_edges][3] = unit_shifts @ cell
  const double* unit_shifts = nullptr;      // [n_edges][3], whole numbers
  const double* node_attrs = nullptr;       // [n_nodes][n_species], one-hot
  const double* positions = nullptr;        // [n_nodes][3] (the neighbour view's locals)
  MemorySpace memory = MemorySpace::Host;
};

// Atoms handed over by a caller that keeps them itself (LAMMPS' local atoms): positions [n][3]
// and species [n] in `memory` (host memory, or GPU memory with the CUDA build), read in place.
struct CellAtoms {
  int n = 0;
  const double* positions = nullptr;
  const int* species = nullptr;
  MemorySpace memory = MemorySpace::Host;
  Mat3 cell{};  // rows are the lattice vectors
  std::array<bool, 3> pbc{false, false, false};
  std::string source = "atoms";  // names the input in error messages
};

class DeviceGraphBuilder {
 public:
  DeviceGraphBuilder();
  ~DeviceGraphBuilder();
  DeviceGraphBuilder(const DeviceGraphBuilder&) = delete;
  DeviceGraphBuilder& operator=(const DeviceGraphBuilder&) = delete;

  // Thrust's device system this library was built with ("CUDA" or "OpenMP") and where its data lives.
  static std::string system();
  static MemorySpace memory();

  // The same contract (and errors) as build_neighbor_list. Positions are uploaded once; every
  // other step runs on the device. Buffers are reused between calls.
  const DeviceNeighborView& build(const Structure& s, double cutoff, double ghost_cutoff = 0.0,
                                  bool ghost_lists = false);
  // The same for atoms already in memory (no host round trip when they are on the device);
  // non-finite coordinates are found on the device and reported with the atom's number.
  const DeviceNeighborView& build(const CellAtoms& atoms, double cutoff, double ghost_cutoff = 0.0,
                                  bool ghost_lists = false);
  // From the last build (whose cutoff must be >= r_max): the edges of the local atoms closer
  // than r_max, their shifts and the one-hot attributes of the local atoms.
  const DeviceEdgeView& mace_edges(double r_max, int n_species);

  // Ghost values folded onto their owners: out[i] = sum over the images a of local atom i of
  // in[a] (rows of `width` doubles, both in the builder's memory, out has n_local rows).
  void fold_to_owners(const double* in, int width, double* out) const;

  // Copies for checks and for host output.
  GhostedSystem neighbor_list_to_host() const;
  struct HostEdges {
    std::vector<std::int64_t> senders, receivers;
    std::vector<double> shifts, unit_shifts, node_attrs;
  };
  HostEdges edges_to_host() const;
  // Host <-> builder memory, for callers that hold no Thrust types.
  void copy_to_host(const double* device, std::size_t count, double* host) const;
  void copy_from_host(const double* host, std::size_t count, double* device) const;
  // A zeroed scratch array of `count` doubles in the builder's memory (slot 0..3, reused).
  double* scratch(int slot, std::size_t count);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// evaluate() (structure.hpp) with the neighbour list built by `builder` and every per-atom
// array in the builder's memory; only the results come back to the host. The potential must
// accept that memory (a Kokkos-CUDA MTP for the CUDA build; any host backend otherwise).
Evaluation evaluate_on_device_graph(Potential& potential, const Structure& s, DeviceGraphBuilder& builder);

// Whether `potential` can read the builder's arrays in place; the second throws if not.
bool device_graph_usable(const Potential& potential);
void require_device_graph_usable(const Potential& potential);

}  // namespace mlpot
