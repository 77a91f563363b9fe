// The OpenMP MTP kernels in mixed precision (float arithmetic, double sums).
#include "mtp_backends.hpp"
#include "mtp_potential_impl.hpp"

namespace mlpot::kokkos {
template <>
std::unique_ptr<MtpPotential> make_mtp_openmp<float>(const MtpModel& model) {
#ifdef KOKKOS_ENABLE_OPENMP
  return make_mtp_for_basis<Kokkos::OpenMP, float>(model);
#else
  (void)model;
  return nullptr;
#endif
}
}  // namespace mlpot::kokkos
