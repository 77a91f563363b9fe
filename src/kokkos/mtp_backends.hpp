#pragma once
// One factory per execution space; each is defined in its own instantiation file so the
// host compiler builds Serial/OpenMP and nvcc builds Cuda from the same kernel source.
#include <memory>

#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_potential.hpp"

namespace mlpot::kokkos {
std::unique_ptr<MtpPotential> make_mtp_serial(const MtpModel& model);
std::unique_ptr<MtpPotential> make_mtp_openmp(const MtpModel& model);
std::unique_ptr<MtpPotential> make_mtp_cuda(const MtpModel& model);
}  // namespace mlpot::kokkos
