#pragma once
// The MACE runner: a LAMMPS-style MACE TorchScript model run through LibTorch (the
// MacePotential of libmlpot_mace.so, made by mlpot_mace_open for mlpot::open_mace).
#include <memory>
#include <string>

#include "mlpot/mace_potential.hpp"

namespace mlpot {

namespace mace {
struct GraphInput;
}

class TorchMacePotential : public MacePotential {
 public:
  // `device`: "cpu", "cuda", "cuda:N"; `rewrite`: MaceOptions::rewrite.
  TorchMacePotential(const std::string& path, const std::string& device = "cpu", bool rewrite = true);
  ~TorchMacePotential() override;

  int num_species() const override;
  std::vector<int> atomic_numbers() const override;
  double cutoff() const override;
  double ghost_cutoff() const override;
  std::string backend() const override;
  bool accepts_device_memory() const override;
  Totals compute(const AtomsRef& atoms, const NeighborsRef& neighbors, const OutputsRef& outputs) override;
  Evaluation evaluate_periodic(const Structure& s, bool with_virial = true, DeviceGraphBuilder* builder = nullptr,
                               bool with_atom_virial = false) override;
  Evaluation evaluate_images(const GhostedSystem& g, const Mat3& cell, const std::array<bool, 3>& pbc,
                             bool with_virial = true, bool with_atom_virial = false) override;
  Totals compute_periodic(const CellAtoms& atoms, DeviceGraphBuilder& builder, const OutputsRef& out) override;
  const MaceMetadata& metadata() const override;
  // Why the native engine does not run this model (MaceMetadata::engine_reason).
  void set_engine_reason(const std::string& reason);
  std::string graph_rewrites() const override;
  std::unique_ptr<StepProfiler> torch_profiler(bool cuda) const override;

 private:
  struct Impl;
  Evaluation finish_periodic(const mace::GraphInput& in, int n_local, bool with_virial, bool with_atom_virial);
  void check_outputs(MemorySpace memory, const OutputsRef& out) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlpot

// The library's entry point, found by mlpot::open_mace with dlsym: opens `path` with `options`
// into `out`; errors are thrown as mlpot::Error (one C++ runtime on both sides).
extern "C" void mlpot_mace_open(const std::string& path, const mlpot::MaceOptions& options,
                                std::unique_ptr<mlpot::MacePotential>& out);
