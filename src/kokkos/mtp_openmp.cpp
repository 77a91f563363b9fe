#include "mtp_backends.hpp"
#include "mtp_potential_impl.hpp"

namespace mlpot::kokkos {
#ifdef KOKKOS_ENABLE_OPENMP
std::unique_ptr<MtpPotential> make_mtp_openmp(const MtpModel& model) {
  return make_mtp_for_basis<Kokkos::OpenMP>(model);
}
#else
std::unique_ptr<MtpPotential> make_mtp_openmp(const MtpModel&) { return nullptr; }
#endif
}  // namespace mlpot::kokkos
