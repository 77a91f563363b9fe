#include "pair_mtp_kokkos.h"

#include "atom_kokkos.h"
#include "atom_masks.h"
#include "error.h"
#include "force.h"
#include "kokkos.h"
#include "memory_kokkos.h"
#include "mlpot/mtp_potential.hpp"
#include "neigh_list_kokkos.h"
#include "neigh_request.h"
#include "neighbor.h"

using namespace LAMMPS_NS;

template <class DeviceType>
PairMTPKokkos<DeviceType>::PairMTPKokkos(LAMMPS *lmp) : PairMTP(lmp)
{
  kokkosable = 1;
  atomKK = (AtomKokkos *) atom;
  execution_space = ExecutionSpaceFromDevice<DeviceType>::space;
  datamask_read = X_MASK | F_MASK | TYPE_MASK | ENERGY_MASK | VIRIAL_MASK;
  datamask_modify = F_MASK | ENERGY_MASK | VIRIAL_MASK;
}

template <class DeviceType>
PairMTPKokkos<DeviceType>::~PairMTPKokkos()
{
  if (copymode) return;
  memoryKK->destroy_kokkos(k_eatom, eatom);
  memoryKK->destroy_kokkos(k_vatom, vatom);
  memoryKK->destroy_kokkos(k_cvatom, cvatom);
}

template <class DeviceType>
void PairMTPKokkos<DeviceType>::create_potential()
{
  // Same execution space as LAMMPS-Kokkos uses for this style: no copies between the two.
  potential_ = mlpot::make_mtp_potential(model_, DeviceType::execution_space::name(), precision_);
}

template <class DeviceType>
void PairMTPKokkos<DeviceType>::sync_host_for_output()
{
  atomKK->sync(Host, X_MASK | TYPE_MASK);
}

template <class DeviceType>
void PairMTPKokkos<DeviceType>::init_style()
{
  require_run_settings(!species_of_type_.empty());
  auto request = neighbor->add_request(this, NeighConst::REQ_FULL);
  request->set_kokkos_host(std::is_same_v<DeviceType, LMPHostType> && !std::is_same_v<DeviceType, LMPDeviceType>);
  request->set_kokkos_device(std::is_same_v<DeviceType, LMPDeviceType>);
  ensure_potential();
  species_kk_.set_map(species_of_type_);
}

template <class DeviceType>
void PairMTPKokkos<DeviceType>::compute(int eflag_in, int vflag_in)
{
  ev_init(eflag_in, vflag_in, 0);
  if (eflag_atom) {
    memoryKK->destroy_kokkos(k_eatom, eatom);
    memoryKK->create_kokkos(k_eatom, eatom, maxeatom, "pair:eatom");
  }
  if (vflag_atom) {
    memoryKK->destroy_kokkos(k_vatom, vatom);
    memoryKK->create_kokkos(k_vatom, vatom, maxvatom, "pair:vatom");
  }
  if (cvflag_atom) {
    memoryKK->destroy_kokkos(k_cvatom, cvatom);
    memoryKK->create_kokkos(k_cvatom, cvatom, maxcvatom, "pair:cvatom");
  }

  atomKK->sync(execution_space, X_MASK | F_MASK | TYPE_MASK);
  auto x = atomKK->k_x.template view<DeviceType>();
  auto f = atomKK->k_f.template view<DeviceType>();
  auto type = atomKK->k_type.template view<DeviceType>();
  const int nlocal = atom->nlocal, nall = atom->nlocal + atom->nghost;

  auto *k_list = static_cast<NeighListKokkos<DeviceType> *>(list);
  if (list->inum != nlocal) error->one(FLERR, "pair_style mtp/kk needs a neighbour list of all local atoms");
  auto d_numneigh = k_list->d_numneigh;
  auto d_neighbors = k_list->d_neighbors;

  const int *species = species_kk_.update(type, nall, atom->nmax);

  constexpr bool host_memory =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename DeviceType::memory_space>::accessible;
  mlpot::AtomsRef atoms{nlocal, nall, x.data(), species,
                        host_memory ? mlpot::MemorySpace::Host : mlpot::MemorySpace::Device};
  mlpot::NeighborsRef nbr;
  nbr.n_listed = nlocal;
  nbr.neighbors = d_neighbors.data();
  nbr.counts = d_numneigh.data();
  nbr.row_stride = d_neighbors.stride(0);
  nbr.slot_stride = d_neighbors.stride(1);
  nbr.index_mask = NEIGHMASK;
  mlpot::OutputsRef out;
  out.forces = f.data();
  out.atom_energy = eflag_atom ? k_eatom.template view<DeviceType>().data() : nullptr;
  if (vflag_atom) {
    Kokkos::deep_copy(k_vatom.template view<DeviceType>(), 0.0);
    out.atom_virial = k_vatom.template view<DeviceType>().data();
  }
  if (cvflag_atom) {
    Kokkos::deep_copy(k_cvatom.template view<DeviceType>(), 0.0);
    out.atom_centroid_virial = k_cvatom.template view<DeviceType>().data();
  }
  out.virial = vflag_global;
  out.energy = eflag_global;
  begin_grade_step();
  compute_with(*potential_, atoms, nbr, out);
  finish_grade_step();
  atomKK->modified(execution_space, F_MASK);
  if (eflag_atom) {
    k_eatom.template modify<DeviceType>();
    k_eatom.template sync<LMPHostType>();
  }
  if (vflag_atom) {
    k_vatom.template modify<DeviceType>();
    k_vatom.template sync<LMPHostType>();
  }
  if (cvflag_atom) {
    k_cvatom.template modify<DeviceType>();
    k_cvatom.template sync<LMPHostType>();
  }
}

namespace LAMMPS_NS {
template class PairMTPKokkos<LMPDeviceType>;
#ifdef LMP_KOKKOS_GPU
template class PairMTPKokkos<LMPHostType>;
#endif
}    // namespace LAMMPS_NS
