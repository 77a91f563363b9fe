#pragma once
// MACE models deployed as TorchScript for LAMMPS (mace_create_lammps_model / LAMMPS_MACE),
// run through LibTorch behind the shared Potential interface.
#include <memory>
#include <string>
#include <vector>

#include "mlpot/device_graph.hpp"
#include "mlpot/elements.hpp"
#include "mlpot/error.hpp"
#include "mlpot/step_profiler.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/potential.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

struct MaceMetadata {
  double r_max = 0.0;
  std::vector<int> atomic_numbers;  // defines the one-hot columns = model species indices
  int num_interactions = 0;
  std::string dtype;                // "float32" or "float64"
  // Which engine runs the model: "native" (mlpot's own kernels, src/kokkos/mace_kernel.hpp) or
  // "torch" (the TorchScript file through LibTorch), and why that one ("" when asked for).
  std::string engine = "torch";
  std::string engine_reason;
  // How the native engine evaluates the radial MLPs, per interaction ("" for LibTorch).
  std::string radial;
};

// Message passing between ranks (the native engine; LAMMPS' default for pair_style mace on any
// number of ranks): graph nodes are the local atoms and the ghosts out to one cutoff, only the
// locals have neighbour lists and only their features are computed. After each interaction
// layer the ghosts' node features are set from their owners (forward), and in the reverse pass
// the adjoints dE/dH that fell on ghosts are added into their owners' (reverse), so the locals'
// energies, and all forces and virials once the ghost forces are reverse-communicated, equal a
// single-process evaluation. The caller (a LAMMPS pair style) does the communication.
class GhostExchange {
 public:
  virtual ~GhostExchange() = default;
  // rows: [n_total][width] doubles in the atoms' memory. forward: set every ghost row from its
  // owner's; reverse: add every ghost row into its owner's row (ghost rows are not read after).
  virtual void forward(double* rows, int width) = 0;
  virtual void reverse(double* rows, int width) = 0;
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
  std::string kind() const override { return "mace"; }
  bool needs_ghost_neighbors() const override { return true; }

  // Single-process evaluation of a whole structure with the periodic graph. Without
  // `with_virial` the strain derivative is skipped (Evaluation::virial stays zero).
  // With `builder`, the graph is built by the Thrust builder (on the GPU in the CUDA build) and
  // read in place; it must keep its data where the model runs (DeviceGraphBuilder::memory()).
  // With `with_atom_virial`, Evaluation::atom_virial [n][6] too (see Potential::compute).
  virtual Evaluation evaluate_periodic(const Structure& s, bool with_virial = true,
                                       DeviceGraphBuilder* builder = nullptr, bool with_atom_virial = false) = 0;
  // The same for atoms whose periodic images are already listed: `g` holds local atoms, their
  // images (owner = local atom) and the locals' neighbour lists; `cell` rows are the lattice
  // vectors (LAMMPS' single-rank box). Energies, forces [n_local] and virial of the locals.
  virtual Evaluation evaluate_images(const GhostedSystem& g, const Mat3& cell, const std::array<bool, 3>& pbc,
                                     bool with_virial = true, bool with_atom_virial = false) = 0;
  // Periodic graph for atoms the caller keeps (LAMMPS-Kokkos' local atoms on one rank), built by
  // `builder` where they live: forces [n][3] are added to out.forces and per-atom energies
  // written to out.atom_energy, both in atoms.memory; with a CUDA model and the CUDA build no
  // graph data crosses PCIe.
  virtual Totals compute_periodic(const CellAtoms& atoms, DeviceGraphBuilder& builder, const OutputsRef& out) = 0;
  // Message passing (GhostExchange): the widest row exchanged (doubles per atom), 0 where the
  // engine cannot do it (LibTorch). `nbr` lists the local atoms only (n_listed = n_local); ghosts
  // need to reach r_max only. Forces [n_total] (ghosts' for reverse communication), local
  // energies, virials as compute().
  virtual int exchange_width() const { return 0; }
  virtual Totals compute_exchanging(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out,
                                    GhostExchange& exchange) {
    (void)atoms, (void)nbr, (void)out, (void)exchange;
    throw Error("mace: message passing between ranks needs the native engine (this model runs on " + backend() +
                "; use the ghost-node graph)");
  }
  virtual const MaceMetadata& metadata() const = 0;
  // What the graph rewrites changed ("none" when off), for `mlpot info`.
  virtual std::string graph_rewrites() const = 0;
  // LibTorch's own profiler (Kineto) over the steps between start() and stop(), its events grouped
  // by name (mlpot bench --torch-profile); `cuda`: the CUDA kernels and copies too.
  virtual std::unique_ptr<StepProfiler> torch_profiler(bool cuda) const = 0;
};

struct MaceOptions {
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N"
  // Apply the autograd-friendly graph rewrites of src/torch/script_passes.hpp (same results bit
  // for bit, less work backwards); off only to measure what they bring.
  bool rewrite = true;
  // Let float32 matrix products use TF32 tensor cores on the GPU (process-wide; off, as
  // mace-torch, unless asked: results then differ from mace-torch's beyond float32 round-off).
  bool tf32 = false;
  int threads = 0;  // LibTorch's intra-op threads on the CPU; 0 leaves LibTorch's default
  // "auto": the native engine where it implements the model's architecture, else LibTorch;
  // "native": the native engine or an error naming what it does not implement; "torch".
  std::string engine = "auto";
  // Native engine: Kokkos backend ("default": Cuda for device cuda, else OpenMP, else Serial).
  std::string backend = "default";
};

// Opens a MACE model. Throws mlpot::Error naming the file on anything that is not a
// LAMMPS-style MACE TorchScript model.
//
// MACE runs through LibTorch, which lives in a library of its own, libmlpot_mace.so, loaded
// here on the first call: a process that only runs MTP never loads LibTorch and its CUDA
// libraries (half a second of start-up, docs/performance.md). It is looked for next to the
// code that calls this (build/lib beside build/bin/mlpot, or beside the LAMMPS plugin), or at
// $MLPOT_MACE_LIBRARY. Without it (mlpot configured without LibTorch) the error says so.
std::unique_ptr<MacePotential> open_mace(const std::string& path, const MaceOptions& options = {});

// What the process's heap does with freed large blocks, observed: allocates and frees a 64 MB
// block and asks glibc (mallinfo2) whether it was mmap'd. "keeps freed memory" once a MACE model
// runs on the CPU (see MacePotential), "returns freed memory (glibc's default)" before that or
// with MLPOT_KEEP_FREED_MEMORY=0; "unknown" without glibc.
std::string host_heap_policy();

}  // namespace mlpot
