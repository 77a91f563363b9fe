#pragma once
// Building MACE's graph input from atoms and neighbour lists, in bulk tensor operations on the
// model's device (never element by element). Shared by the CLI, the benchmark and the pair
// styles: the two entry points are the two graph modes.
#include <torch/torch.h>

#include "mlpot/device_graph.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/potential.hpp"

namespace mlpot::mace {

struct GraphInput {
  torch::Tensor positions;    // [N,3] model dtype, a fresh leaf (the wrapper differentiates it)
  torch::Tensor edge_index;   // [2,E] int64: row 0 sender (centre), row 1 receiver (neighbour)
  torch::Tensor shifts;       // [E,3] model dtype: receiver image - receiver
  torch::Tensor unit_shifts;  // [E,3] model dtype: shifts in lattice units
  torch::Tensor cell;         // [3,3] model dtype
  torch::Tensor node_attrs;   // [N,n_species] model dtype, one-hot
  torch::Tensor batch;        // [N] int64 zeros
  torch::Tensor ptr;          // [2] int64 {0, N}
  torch::Tensor local_mask;   // [N] float64: 1 for local atoms
};

struct GraphSettings {
  double r_max = 0.0;
  int n_species = 0;
  int num_interactions = 1;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat64;
};

// Ghost-node mode: every atom in `atoms` is a node; edges come from the lists of the first
// n_listed atoms, filtered to r < r_max; shifts are zero. Pointers may be device pointers.
// Only edges into atoms at most num_interactions - 1 hops from a local atom are kept: no other
// edge can change a local energy, and LAMMPS lists every ghost (a ~2x larger graph otherwise).
GraphInput ghost_node_graph(const AtomsRef& atoms, const NeighborsRef& neighbors, const GraphSettings& g);

// Periodic mode: nodes are the local atoms of `sys`; each neighbour that is a periodic image
// becomes an edge to its owner with the image's shift.
GraphInput periodic_graph(const GhostedSystem& sys, const Mat3& cell, const std::array<bool, 3>& pbc,
                          const GraphSettings& g);

// Periodic mode from the Thrust builder's edge list (DeviceGraphBuilder::mace_edges): its
// arrays are wrapped in place (device memory with a CUDA model), never copied through the host.
GraphInput edge_graph(const DeviceEdgeView& edges, const Mat3& cell, const std::array<bool, 3>& pbc,
                      const GraphSettings& g);

}  // namespace mlpot::mace
