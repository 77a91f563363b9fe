#pragma once
// One factory per execution space and arithmetic (Real: double, or float for
// MtpPrecision::Mixed), each defined in its own instantiation file, so the host compiler builds
// Serial/OpenMP and nvcc builds Cuda from the same kernel source, and the two arithmetics of one
// backend compile side by side. A backend not in the build returns null.
#include <memory>

#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_potential.hpp"

namespace mlpot::kokkos {
template <class Real>
std::unique_ptr<MtpPotential> make_mtp_serial(const MtpModel& model);
template <class Real>
std::unique_ptr<MtpPotential> make_mtp_openmp(const MtpModel& model);
template <class Real>
std::unique_ptr<MtpPotential> make_mtp_cuda(const MtpModel& model);
}  // namespace mlpot::kokkos
