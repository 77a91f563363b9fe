// pair_style mace/kk: MACE on LAMMPS-Kokkos views; the graph is built from the device
// neighbour list in bulk tensor operations, and LibTorch runs on the same device.
// With 'periodic' (one rank) it runs pair_style mace's periodic glue on the host instead.
#ifdef PAIR_CLASS
// clang-format off
PairStyle(mace/kk,PairMACEKokkos<LMPDeviceType>);
PairStyle(mace/kk/device,PairMACEKokkos<LMPDeviceType>);
PairStyle(mace/kk/host,PairMACEKokkos<LMPHostType>);
// clang-format on
#else

#ifndef LMP_PAIR_MACE_KOKKOS_H
#define LMP_PAIR_MACE_KOKKOS_H

#include "kokkos_type.h"
#include "pair_kokkos.h"
#include "pair_mlpot_kokkos.h"
#include "pair_mace.h"

namespace LAMMPS_NS {

template <class DeviceType>
class PairMACEKokkos : public PairMACE {
 public:
  typedef DeviceType device_type;
  typedef ArrayTypes<DeviceType> AT;

  PairMACEKokkos(class LAMMPS *);
  ~PairMACEKokkos() override;
  void compute(int, int) override;
  void init_style() override;

 protected:
  SpeciesKokkos<DeviceType> species_kk_;
  DAT::tdual_efloat_1d k_eatom;
};

}  // namespace LAMMPS_NS

#endif
#endif
