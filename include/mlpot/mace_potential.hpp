#pragma once
// MACE models deployed as TorchScript for LAMMPS (mace_create_lammps_model / LAMMPS_MACE),
// run through LibTorch behind the shared Potential interface.
#include <memory>
#include <string>
#include <vector>

#include "mlpot/device_graph.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/potential.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

namespace mace {
struct GraphInput;
}

struct MaceMetadata {
  double r_max = 0.0;
  std::vector<int> atomic_numbers;  // defines the one-hot columns = model species indices
  int num_interactions = 0;
  std::string dtype;                // "float32" or "float64"
};

// Graph modes:
//  - ghost nodes (Potential::compute, what LAMMPS domain decomposition needs): every atom,
//    local or ghost, is a graph node; ghosts reach num_interactions * r_max and have their own
//    neighbour lists; only local energies count; ghost forces are returned for reverse
//    communication.
//  - periodic (evaluate_periodic, one process): nodes are the local atoms only, periodic images
//    become edges with shifts, so ghosts never cost a node.
// Per-atom virials (OutputsRef::atom_virial, with_atom_virial) are mace-torch's atomic_virials:
// each edge's -dE/dv (x) v, symmetrised, half to each end. They cost a different call of the
// model (dE/d(edge vectors) instead of the strain derivative), about as much as a step with the
// global virial; in ghost-node mode the ghosts' shares are returned for reverse communication.
class MacePotential : public Potential {
 public:
  // `device`: "cpu", "cuda", "cuda:N". Throws mlpot::Error naming the file on anything that is
  // not a LAMMPS-style MACE TorchScript model. `rewrite`: apply the autograd-friendly graph
  // rewrites of src/torch/script_passes.hpp (same results bit for bit, less work backwards);
  // off only to measure what they bring.
  MacePotential(const std::string& path, const std::string& device = "cpu", bool rewrite = true);
  ~MacePotential() override;

  std::string kind() const override { return "mace"; }
  int num_species() const override;
  std::vector<int> atomic_numbers() const override;
  double cutoff() const override;
  double ghost_cutoff() const override;
  bool needs_ghost_neighbors() const override { return true; }
  std::string backend() const override;
  bool accepts_device_memory() const override;
  Totals compute(const AtomsRef& atoms, const NeighborsRef& neighbors, const OutputsRef& outputs) override;

  // Single-process evaluation of a whole structure with the periodic graph. Without
  // `with_virial` the strain derivative is skipped (Evaluation::virial stays zero).
  // With `builder`, the graph is built by the Thrust builder (on the GPU in the CUDA build) and
  // read in place; it must keep its data where the model runs (DeviceGraphBuilder::memory()).
  // With `with_atom_virial`, Evaluation::atom_virial [n][6] too (see Potential::compute).
  Evaluation evaluate_periodic(const Structure& s, bool with_virial = true, DeviceGraphBuilder* builder = nullptr,
                               bool with_atom_virial = false);
  // The same for atoms whose periodic images are already listed: `g` holds local atoms, their
  // images (owner = local atom) and the locals' neighbour lists; `cell` rows are the lattice
  // vectors (LAMMPS' single-rank box). Energies, forces [n_local] and virial of the locals.
  Evaluation evaluate_images(const GhostedSystem& g, const Mat3& cell, const std::array<bool, 3>& pbc,
                             bool with_virial = true, bool with_atom_virial = false);
  // Periodic graph for atoms the caller keeps (LAMMPS-Kokkos' local atoms on one rank), built by
  // `builder` where they live: forces [n][3] are added to out.forces and per-atom energies
  // written to out.atom_energy, both in atoms.memory; with a CUDA model and the CUDA build no
  // graph data crosses PCIe.
  Totals compute_periodic(const CellAtoms& atoms, DeviceGraphBuilder& builder, const OutputsRef& out);
  const MaceMetadata& metadata() const;
  // What the graph rewrites changed ("none" when off), for `mlpot info`.
  std::string graph_rewrites() const;

 private:
  struct Impl;
  Evaluation finish_periodic(const mace::GraphInput& in, int n_local, bool with_virial, bool with_atom_virial);
  void check_outputs(MemorySpace memory, const OutputsRef& out) const;
  std::unique_ptr<Impl> impl_;
};

// What the process's heap does with freed large blocks, observed: allocates and frees a 64 MB
// block and asks glibc (mallinfo2) whether it was mmap'd. "keeps freed memory" once a MACE model
// runs on the CPU (see MacePotential), "returns freed memory (glibc's default)" before that or
// with MLPOT_KEEP_FREED_MEMORY=0; "unknown" without glibc.
std::string host_heap_policy();

// Element symbol of atomic number z (1..118), "X" otherwise; and back (0 if unknown).
std::string element_symbol(int z);
int atomic_number(const std::string& symbol);

}  // namespace mlpot
