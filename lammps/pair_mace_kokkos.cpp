#include "pair_mace_kokkos.h"

#include "atom_kokkos.h"
#include "atom_masks.h"
#include "comm.h"
#include "domain.h"
#include "update.h"
#include "error.h"
#include "force.h"
#include "kokkos.h"
#include "memory_kokkos.h"
#include "neigh_list_kokkos.h"
#include "neigh_request.h"
#include "neighbor.h"

using namespace LAMMPS_NS;

template <class DeviceType>
PairMACEKokkos<DeviceType>::PairMACEKokkos(LAMMPS *lmp) : PairMACE(lmp)
{
  kokkosable = 1;
  atomKK = (AtomKokkos *) atom;
  execution_space = ExecutionSpaceFromDevice<DeviceType>::space;
  datamask_read = X_MASK | F_MASK | TYPE_MASK | ENERGY_MASK | VIRIAL_MASK;
  datamask_modify = F_MASK | ENERGY_MASK | VIRIAL_MASK;
  reverse_comm_device = 1;
}

template <class DeviceType>
PairMACEKokkos<DeviceType>::~PairMACEKokkos()
{
  if (copymode) return;
  memoryKK->destroy_kokkos(k_eatom, eatom);
  memoryKK->destroy_kokkos(k_vatom, vatom);
}

template <class DeviceType>
void PairMACEKokkos<DeviceType>::init_style()
{
  require_run_settings(!species_of_type_.empty());
  if (periodic_ && !thrust_periodic()) {
    // The builder's memory is not this style's (e.g. mace/kk/host in a CUDA build): the host glue
    // of pair_style mace (ghosts mapped to their owners, a host list). The integrator brings x
    // and type to the host and takes the forces back.
    execution_space = Host;
    PairMACE::init_style();
    return;
  }
  if (kHostMemory == potential_->accepts_device_memory())
    error->all(FLERR, "pair_style {}: the model runs on {} but this style's data live in {} memory (use 'device {}')",
               force->pair_style, potential_->backend(), kHostMemory ? "host" : "device", kHostMemory ? "cpu" : "cuda");
  if (thrust_periodic()) {
    // One rank, periodic graph from the local atoms and the box (mlpot's Thrust builder, in this
    // style's memory): no neighbour list and no atom map are needed.
    if (comm->nprocs > 1)
      error->all(FLERR, "pair_style {} periodic runs on one MPI rank; leave it out with {} ranks (message passing "
                 "between layers, or ghost_nodes)",
                 force->pair_style, comm->nprocs);
    if (!graph_) graph_ = std::make_unique<mlpot::DeviceGraphBuilder>();
    species_kk_.set_map(species_of_type_);
    return;
  }
  const bool messages = choose_message_passing();
  // LAMMPS' host ("classic") pair communication would hand this style's device rows to the
  // host pack functions.
  if (messages && !kHostMemory && (lmp->kokkos->forward_pair_comm_classic || lmp->kokkos->reverse_pair_comm_classic))
    error->all(FLERR, "pair_style {}: message passing exchanges node features on the GPU; use 'package kokkos comm "
               "device' (the default with GPUs) or the ghost_nodes keyword", force->pair_style);
  auto request = neighbor->add_request(this, NeighConst::REQ_FULL | (messages ? 0 : NeighConst::REQ_GHOST));
  if (!messages) request_ghost_shell();
  request->set_kokkos_host(std::is_same_v<DeviceType, LMPHostType> && !std::is_same_v<DeviceType, LMPDeviceType>);
  request->set_kokkos_device(std::is_same_v<DeviceType, LMPDeviceType>);
  species_kk_.set_map(species_of_type_);
}

template <class DeviceType>
void PairMACEKokkos<DeviceType>::compute(int eflag_in, int vflag_in)
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
  if (thrust_periodic()) {
    compute_periodic_in_place();
    return;
  }
  if (periodic_) {
    if (vflag_atom) Kokkos::deep_copy(k_vatom.template view<LMPHostType>(), 0.0);
    compute_periodic();
    if (eflag_atom) k_eatom.template modify<LMPHostType>();
    if (vflag_atom) k_vatom.template modify<LMPHostType>();
    return;
  }
  atomKK->sync(execution_space, X_MASK | F_MASK | TYPE_MASK);
  auto x = atomKK->k_x.template view<DeviceType>();
  auto f = atomKK->k_f.template view<DeviceType>();
  auto type = atomKK->k_type.template view<DeviceType>();
  const int nlocal = atom->nlocal, nall = atom->nlocal + atom->nghost;
  auto *k_list = static_cast<NeighListKokkos<DeviceType> *>(list);
  // message passing lists the locals only (gnum is 0 without REQ_GHOST)
  const int nlisted = list->inum + list->gnum;

  const int *species = species_kk_.update(type, nall, atom->nmax);
  Kokkos::fence();    // LibTorch uses its own stream: the inputs must be ready

  mlpot::AtomsRef atoms{nlocal, nall, x.data(), species, memory_space()};
  mlpot::NeighborsRef nbr;
  nbr.n_listed = nlisted;
  nbr.neighbors = k_list->d_neighbors.data();
  nbr.counts = k_list->d_numneigh.data();
  nbr.row_stride = k_list->d_neighbors.stride(0);
  nbr.slot_stride = k_list->d_neighbors.stride(1);
  nbr.index_mask = NEIGHMASK;
  mlpot::OutputsRef out = device_outputs(f.data());
  if (message_passing())
    tally([&] { return potential_->compute_exchanging(atoms, nbr, out, exchange()); });
  else
    compute_with(*potential_, atoms, nbr, out);
  publish_device_outputs();
}

// Message passing on this style's buffers: the rows (exchange_rows_) are in the model's memory,
// which init_style made this style's.
template <class DeviceType>
int PairMACEKokkos<DeviceType>::pack_forward_comm_kokkos(int n, DAT::tdual_int_1d k_sendlist,
                                                         DAT::tdual_xfloat_1d &buf, int, int *)
{
  const auto list = k_sendlist.template view<DeviceType>();
  const auto b = buf.template view<DeviceType>();
  const double *rows = exchange_rows_;
  const int w = exchange_width_;
  Kokkos::parallel_for(
      "mace::pack_forward", Kokkos::RangePolicy<typename DeviceType::execution_space>(0, size_t(n) * w),
      KOKKOS_LAMBDA(size_t q) { b(q) = rows[size_t(list(q / w)) * w + q % w]; });
  return n * w;
}

template <class DeviceType>
void PairMACEKokkos<DeviceType>::unpack_forward_comm_kokkos(int n, int first, DAT::tdual_xfloat_1d &buf)
{
  const auto b = buf.template view<DeviceType>();
  double *rows = exchange_rows_ + size_t(first) * exchange_width_;
  Kokkos::parallel_for(
      "mace::unpack_forward", Kokkos::RangePolicy<typename DeviceType::execution_space>(0, size_t(n) * exchange_width_),
      KOKKOS_LAMBDA(size_t q) { rows[q] = b(q); });
}

template <class DeviceType>
int PairMACEKokkos<DeviceType>::pack_reverse_comm_kokkos(int n, int first, DAT::tdual_xfloat_1d &buf)
{
  const auto b = buf.template view<DeviceType>();
  const double *rows = exchange_rows_ + size_t(first) * exchange_width_;
  Kokkos::parallel_for(
      "mace::pack_reverse", Kokkos::RangePolicy<typename DeviceType::execution_space>(0, size_t(n) * exchange_width_),
      KOKKOS_LAMBDA(size_t q) { b(q) = rows[q]; });
  return n * exchange_width_;
}

// A sendlist names each atom once per swap, so the rows added to are distinct: no atomics.
template <class DeviceType>
void PairMACEKokkos<DeviceType>::unpack_reverse_comm_kokkos(int n, DAT::tdual_int_1d k_sendlist,
                                                            DAT::tdual_xfloat_1d &buf)
{
  const auto list = k_sendlist.template view<DeviceType>();
  const auto b = buf.template view<DeviceType>();
  double *rows = exchange_rows_;
  const int w = exchange_width_;
  Kokkos::parallel_for(
      "mace::unpack_reverse", Kokkos::RangePolicy<typename DeviceType::execution_space>(0, size_t(n) * w),
      KOKKOS_LAMBDA(size_t q) { rows[size_t(list(q / w)) * w + q % w] += b(q); });
}

template <class DeviceType>
void PairMACEKokkos<DeviceType>::compute_periodic_in_place()
{
  atomKK->sync(execution_space, X_MASK | F_MASK | TYPE_MASK);
  auto x = atomKK->k_x.template view<DeviceType>();
  auto f = atomKK->k_f.template view<DeviceType>();
  auto type = atomKK->k_type.template view<DeviceType>();
  const int nlocal = atom->nlocal, nall = atom->nlocal + atom->nghost;
  const int *species = species_kk_.update(type, nall, atom->nmax);
  Kokkos::fence();    // LibTorch uses its own stream: the inputs must be ready

  mlpot::CellAtoms atoms;
  atoms.n = nlocal;
  atoms.positions = x.data();
  atoms.species = species;
  atoms.memory = memory_space();
  const double *h = domain->h;    // xprd yprd zprd yz xz xy
  atoms.cell = {{{h[0], 0.0, 0.0}, {h[5], h[1], 0.0}, {h[4], h[3], h[2]}}};
  atoms.pbc = {domain->xperiodic != 0, domain->yperiodic != 0, domain->zperiodic != 0};
  atoms.source = fmt::format("pair_style {} (step {})", force->pair_style, update->ntimestep);
  mlpot::OutputsRef out = device_outputs(f.data());
  tally([&] { return potential_->compute_periodic(atoms, *graph_, out); });
  publish_device_outputs();
}

// The outputs of a step in this style's memory: forces into `f`, per-atom energies and virials
// (zeroed: the library adds) into the style's own arrays when LAMMPS asks for them.
template <class DeviceType>
mlpot::OutputsRef PairMACEKokkos<DeviceType>::device_outputs(double *f)
{
  mlpot::OutputsRef out;
  out.forces = f;
  out.atom_energy = eflag_atom ? k_eatom.template view<DeviceType>().data() : nullptr;
  if (vflag_atom) {
    Kokkos::deep_copy(k_vatom.template view<DeviceType>(), 0.0);
    out.atom_virial = k_vatom.template view<DeviceType>().data();
  }
  out.virial = vflag_global;
  return out;
}

// After a step with device_outputs(): the forces and per-atom arrays marked modified here, the
// per-atom ones brought to the host, where LAMMPS' computes read them.
template <class DeviceType>
void PairMACEKokkos<DeviceType>::publish_device_outputs()
{
  atomKK->modified(execution_space, F_MASK);
  if (eflag_atom) {
    k_eatom.template modify<DeviceType>();
    k_eatom.template sync<LMPHostType>();
  }
  if (vflag_atom) {
    k_vatom.template modify<DeviceType>();
    k_vatom.template sync<LMPHostType>();
  }
}

namespace LAMMPS_NS {
template class PairMACEKokkos<LMPDeviceType>;
#ifdef LMP_KOKKOS_GPU
template class PairMACEKokkos<LMPHostType>;
#endif
}    // namespace LAMMPS_NS
