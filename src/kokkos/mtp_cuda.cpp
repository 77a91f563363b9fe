#include "mtp_backends.hpp"
#include "mtp_potential_impl.hpp"

namespace mlpot::kokkos {
#ifdef KOKKOS_ENABLE_CUDA
std::unique_ptr<MtpPotential> make_mtp_cuda(const MtpModel& model) {
  return make_mtp_for_basis<Kokkos::Cuda>(model);
}
#else
std::unique_ptr<MtpPotential> make_mtp_cuda(const MtpModel&) { return nullptr; }
#endif
}  // namespace mlpot::kokkos
