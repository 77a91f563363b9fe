// The Serial MTP kernels in double precision.
#include "mtp_backends.hpp"
#include "mtp_potential_impl.hpp"

namespace mlpot::kokkos {
template <>
std::unique_ptr<MtpPotential> make_mtp_serial<double>(const MtpModel& model) {
#ifdef KOKKOS_ENABLE_SERIAL
  return make_mtp_for_basis<Kokkos::Serial, double>(model);
#else
  (void)model;
  return nullptr;
#endif
}
}  // namespace mlpot::kokkos
