#pragma once
// Reads a MACE `*-lammps.pt` file (mace_create_lammps_model's TorchScript) into the native
// engine's model (src/kokkos/mace_model.hpp): parameters and buffers through LibTorch's module
// API; the e3nn linear maps and tensor products by evaluating the modules themselves on unit
// inputs, so their normalisation constants and coupling coefficients are the model's own.
#include <string>

#include <torch/script.h>

#include "mace_model.hpp"
#include "mlpot/error.hpp"

namespace mlpot::mace_native {

// An architecture option the native engine does not implement; what() names it:
// "native MACE: <what> is not supported; use --mace-engine torch".
class Unsupported : public Error {
 public:
  explicit Unsupported(const std::string& what)
      : Error("native MACE: " + what + " is not supported; use --mace-engine torch"), what_(what) {}
  const std::string& option() const { return what_; }

 private:
  std::string what_;
};

// `root`: the loaded LAMMPS_MACE module of file `path`.
Model read_model(const std::string& path, const torch::jit::Module& root);

}  // namespace mlpot::mace_native
