#include "mtp_backends.hpp"
#include "mtp_potential_impl.hpp"

namespace mlpot::kokkos {
#ifdef KOKKOS_ENABLE_SERIAL
std::unique_ptr<MtpPotential> make_mtp_serial(const MtpModel& model) {
  return make_mtp_for_basis<Kokkos::Serial>(model);
}
#else
std::unique_ptr<MtpPotential> make_mtp_serial(const MtpModel&) { return nullptr; }
#endif
}  // namespace mlpot::kokkos
