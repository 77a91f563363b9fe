#pragma once
// The native MACE engine behind the MacePotential interface (torch-free; the model comes from
// src/torch/mace_native_reader.cpp).
#include <memory>
#include <string>

#include "mace_model.hpp"
#include "mlpot/mace_potential.hpp"

namespace mlpot::mace_native {

// `backend`: "default" (Cuda for device cuda, else OpenMP, else Serial), or a Kokkos backend
// name. The precision is the model's (float32 or float64).
std::unique_ptr<MacePotential> make_native_mace(const Model& model, const std::string& device,
                                                const std::string& backend);

}  // namespace mlpot::mace_native
