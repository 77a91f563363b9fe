// pair_style mtp/kk: the MTP on LAMMPS-Kokkos device views. Positions, types, the neighbour
// list and forces stay where Kokkos keeps them; mlpot's kernel reads and writes them in place.
#ifdef PAIR_CLASS
// clang-format off
PairStyle(mtp/kk,PairMTPKokkos<LMPDeviceType>);
PairStyle(mtp/kk/device,PairMTPKokkos<LMPDeviceType>);
PairStyle(mtp/kk/host,PairMTPKokkos<LMPHostType>);
PairStyle(mlip/kk,PairMTPKokkos<LMPDeviceType>);
PairStyle(mlip/kk/device,PairMTPKokkos<LMPDeviceType>);
PairStyle(mlip/kk/host,PairMTPKokkos<LMPHostType>);
// clang-format on
#else

#ifndef LMP_PAIR_MTP_KOKKOS_H
#define LMP_PAIR_MTP_KOKKOS_H

#include "kokkos_type.h"
#include "pair_kokkos.h"
#include "pair_mlpot_kokkos.h"
#include "pair_mtp.h"

namespace LAMMPS_NS {

template <class DeviceType>
class PairMTPKokkos : public PairMTP {
 public:
  typedef DeviceType device_type;
  typedef ArrayTypes<DeviceType> AT;

  PairMTPKokkos(class LAMMPS *);
  ~PairMTPKokkos() override;
  void compute(int, int) override;
  void init_style() override;

 protected:
  void create_potential() override;
  void sync_host_for_output() override;

  SpeciesKokkos<DeviceType> species_kk_;
  DAT::tdual_efloat_1d k_eatom;
  DAT::tdual_virial_array k_vatom;
  Kokkos::DualView<double *[9], Kokkos::LayoutRight, DeviceType> k_cvatom;    // LAMMPS' cvatom layout
};

}  // namespace LAMMPS_NS

#endif
#endif
