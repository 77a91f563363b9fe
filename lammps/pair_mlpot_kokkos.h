// What the /kk styles share: the LAMMPS type -> model species map on the device, and the
// per-atom species array built from it each step (on the device, no host round trip).
#ifndef LMP_PAIR_MLPOT_KOKKOS_H
#define LMP_PAIR_MLPOT_KOKKOS_H

#include <vector>

#include "kokkos_type.h"

namespace LAMMPS_NS {

template <class DeviceType>
struct SpeciesKokkos {
  using view_type = typename ArrayTypes<DeviceType>::t_int_1d;
  view_type map;      // [ntypes+1]
  view_type species;  // [nmax]

  void set_map(const std::vector<int> &species_of_type)
  {
    map = view_type("mlpot/kk:species_of_type", species_of_type.size());
    auto h = Kokkos::create_mirror_view(map);
    for (size_t t = 0; t < species_of_type.size(); ++t) h(t) = t == 0 ? 0 : species_of_type[t];
    Kokkos::deep_copy(map, h);
  }

  // Species of atoms [0, nall) from their LAMMPS types; grows to nmax when needed.
  template <class TypeView>
  const int *update(const TypeView &type, int nall, int nmax)
  {
    if (int(species.extent(0)) < nall) species = view_type("mlpot/kk:species", nmax);
    auto s = species;
    auto m = map;
    Kokkos::parallel_for(
        "mlpot/kk:species", Kokkos::RangePolicy<typename DeviceType::execution_space>(0, nall),
        KOKKOS_LAMBDA(int i) { s(i) = m(type(i)); });
    return s.data();
  }
};

}    // namespace LAMMPS_NS

#endif
