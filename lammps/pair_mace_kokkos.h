// pair_style mace/kk: MACE on LAMMPS-Kokkos views; the graph is built from the device
// neighbour list where the model runs. With message passing (pair_mace.h) the node features and
// their adjoints are exchanged between layers on device buffers (pack/unpack_*_comm_kokkos).
// With 'periodic' (one rank) the periodic graph is built from the local atoms and the box by
// mlpot's Thrust builder where the atoms live (the GPU in the CUDA build: no graph data crosses
// PCIe); where the builder's memory is not this style's, pair_style mace's host glue is used.
#ifdef PAIR_CLASS
// clang-format off
PairStyle(mace/kk,PairMACEKokkos<LMPDeviceType>);
PairStyle(mace/kk/device,PairMACEKokkos<LMPDeviceType>);
PairStyle(mace/kk/host,PairMACEKokkos<LMPHostType>);
// clang-format on
#else

#ifndef LMP_PAIR_MACE_KOKKOS_H
#define LMP_PAIR_MACE_KOKKOS_H

#include <memory>

#include "kokkos_base.h"
#include "kokkos_type.h"
#include "mlpot/device_graph.hpp"
#include "pair_kokkos.h"
#include "pair_mlpot_kokkos.h"
#include "pair_mace.h"

namespace LAMMPS_NS {

template <class DeviceType>
class PairMACEKokkos : public PairMACE, public KokkosBase {
 public:
  typedef DeviceType device_type;
  typedef ArrayTypes<DeviceType> AT;

  PairMACEKokkos(class LAMMPS *);
  ~PairMACEKokkos() override;
  void compute(int, int) override;
  void init_style() override;
  int pack_forward_comm_kokkos(int, DAT::tdual_int_1d, DAT::tdual_xfloat_1d &, int, int *) override;
  void unpack_forward_comm_kokkos(int, int, DAT::tdual_xfloat_1d &) override;
  int pack_reverse_comm_kokkos(int, int, DAT::tdual_xfloat_1d &) override;
  void unpack_reverse_comm_kokkos(int, DAT::tdual_int_1d, DAT::tdual_xfloat_1d &) override;

 protected:
  // A GPU style's model runs on its GPU (the one Kokkos uses on this rank).
  std::string default_device() const override
  {
    return kHostMemory ? "cpu" : "cuda:" + std::to_string(Kokkos::device_id());
  }
  void compute_periodic_in_place();
  mlpot::OutputsRef device_outputs(double *f);
  void publish_device_outputs();
  // Whether the Thrust builder's memory is this style's memory space.
  static constexpr bool kHostMemory =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename DeviceType::memory_space>::accessible;
  static constexpr mlpot::MemorySpace memory_space()
  {
    return kHostMemory ? mlpot::MemorySpace::Host : mlpot::MemorySpace::Device;
  }
  bool thrust_periodic() const { return periodic_ && memory_space() == mlpot::DeviceGraphBuilder::memory(); }
  std::unique_ptr<mlpot::DeviceGraphBuilder> graph_;
  SpeciesKokkos<DeviceType> species_kk_;
  DAT::tdual_efloat_1d k_eatom;
  DAT::tdual_virial_array k_vatom;
};

}  // namespace LAMMPS_NS

#endif
#endif
