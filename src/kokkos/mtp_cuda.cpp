#include "mtp_backends.hpp"
#include "mtp_potential_impl.hpp"

namespace mlpot::kokkos {
#ifdef KOKKOS_ENABLE_CUDA
std::unique_ptr<MtpPotential> make_mtp_cuda(const MtpModel& model) {
  return std::make_unique<MtpKokkosPotential<Kokkos::Cuda>>(model);
}
#else
std::unique_ptr<MtpPotential> make_mtp_cuda(const MtpModel&) { return nullptr; }
#endif
}  // namespace mlpot::kokkos
