#include "pair_mace.h"

#include <cstring>

#include <algorithm>

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "mlpot/error.hpp"
#include "memory.h"
#include "neigh_list.h"
#include "neigh_request.h"
#include "neighbor.h"
#include "utils.h"

using namespace LAMMPS_NS;

PairMACE::PairMACE(LAMMPS *lmp) : PairMlpot(lmp)
{
  exchange_.pair = this;
}

// pair_style mace FILE [device cpu|cuda|cuda:N] [periodic | ghost_nodes] [engine auto|native|torch]
//                                                                 + pair_coeff * * El1 El2 ...
// or mace-torch's LAMMPS syntax (ACEsuit's pair_style mace), so its scripts run unchanged:
//    pair_style mace [no_domain_decomposition]                   + pair_coeff * * FILE El1 El2 ...
// no_domain_decomposition is our periodic mode; the model file then comes with pair_coeff.
void PairMACE::settings(int narg, char **arg)
{
  model_path_.clear();
  potential_.reset();
  periodic_ = false;
  ghost_nodes_ = false;
  device_ = default_device();
  engine_ = "auto";
  auto is_periodic = [](const char *a) {
    return strcmp(a, "periodic") == 0 || strcmp(a, "no_domain_decomposition") == 0;
  };
  int i = 0;
  if (narg > 0 && strcmp(arg[0], "device") != 0 && strcmp(arg[0], "engine") != 0 && !is_periodic(arg[0]))
    model_path_ = arg[i++];
  for (; i < narg; ++i) {
    if (strcmp(arg[i], "device") == 0 && i + 1 < narg) {
      device_ = arg[++i];
    } else if (strcmp(arg[i], "engine") == 0 && i + 1 < narg) {
      engine_ = arg[++i];
      if (engine_ != "auto" && engine_ != "native" && engine_ != "torch")
        error->all(FLERR, "pair_style {}: engine '{}' is not one of auto, native, torch", force->pair_style, engine_);
    } else if (is_periodic(arg[i])) {
      periodic_ = true;
    } else if (strcmp(arg[i], "ghost_nodes") == 0) {
      ghost_nodes_ = true;
    } else {
      error->all(FLERR, "pair_style {}: unknown keyword '{}' (pair_style {} [FILE] [device D] [periodic | "
                 "no_domain_decomposition | ghost_nodes] [engine auto|native|torch])", force->pair_style, arg[i],
                 force->pair_style);
    }
  }
  if (periodic_ && ghost_nodes_)
    error->all(FLERR, "pair_style {}: periodic and ghost_nodes are two different graphs; give one", force->pair_style);
  if (!model_path_.empty()) load_model();
}

void PairMACE::load_model()
{
  try {
    mlpot::MaceOptions options;
    options.device = device_;
    options.engine = engine_;
    ensure_kokkos();    // the native engine's kernels
    potential_ = mlpot::open_mace(model_path_, options);
    // The communication sizes LAMMPS sizes its buffers by: set here, since pair_style hybrid
    // takes its sub-styles' sizes when they are defined (PairHybrid::flags), before init_style.
    comm_forward = comm_reverse = periodic_ || ghost_nodes_ ? 0 : potential_->exchange_width();
    const auto &meta = potential_->metadata();
    if (comm->me == 0)
      utils::logmesg(lmp, "pair_style {}: {} engine ({}){}{}\n", force->pair_style, meta.engine, potential_->backend(),
                     meta.engine_reason.empty() ? "" : ": ", meta.engine_reason);
  } catch (const std::exception &e) {
    error->all(FLERR, "pair_style {}: {}", force->pair_style, mlpot::error_message(e));
  }
}

// pair_coeff * * El1 El2 ... : LAMMPS types to model elements by name; with mace-torch's syntax
// (no file given to pair_style) pair_coeff * * FILE El1 El2 ...
void PairMACE::coeff(int narg, char **arg)
{
  const int ntypes = atom->ntypes;
  if (narg >= 2 && (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0))
    error->all(FLERR, "pair_coeff for {} must start with * *", force->pair_style);
  int first = 2;
  // A third entry that is no element symbol is the model file (given again or for the first time).
  if (narg == 3 + ntypes && mlpot::atomic_number(arg[2]) == 0) {
    if (!potential_ || model_path_ != arg[2]) {
      model_path_ = arg[2];
      load_model();
    }
    first = 3;
  } else if (!potential_) {
    error->all(FLERR, "pair_coeff for {}: pair_style named no model file, so expected * * FILE followed by {} "
               "element names, got {} entries", force->pair_style, ntypes, narg - 2);
  } else if (narg != 2 + ntypes) {
    error->all(FLERR, "pair_coeff for {}: expected * * followed by {} element names, got {}", force->pair_style,
               ntypes, narg - 2);
  }
  const std::vector<int> z = potential_->atomic_numbers();
  species_of_type_.assign(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; ++t) {
    const char *name = arg[first + t - 1];
    const int zt = mlpot::atomic_number(name);
    if (zt == 0) error->all(FLERR, "pair_coeff: '{}' (type {}) is not an element symbol", name, t);
    for (size_t k = 0; k < z.size(); ++k)
      if (z[k] == zt) species_of_type_[t] = int(k);
    if (species_of_type_[t] < 0)
      error->all(FLERR, "pair_coeff: element {} (type {}) is not in MACE model {}", name, t, model_path_);
  }
  allocate_type_arrays();
}

void PairMACE::init_style()
{
  require_run_settings(!species_of_type_.empty());
  message_passing_ = false;
  if (periodic_) {
    if (comm->nprocs > 1)
      error->all(FLERR, "pair_style mace periodic runs on one MPI rank; leave it out with {} ranks (message passing "
                 "between layers, or ghost_nodes)",
                 comm->nprocs);
    if (atom->map_style == Atom::MAP_NONE)
      error->all(FLERR, "pair_style mace periodic needs an atom map: add 'atom_modify map yes' before the box is defined");
    neighbor->add_request(this, NeighConst::REQ_FULL);
    return;
  }
  if (choose_message_passing()) {
    neighbor->add_request(this, NeighConst::REQ_FULL);
    return;
  }
  neighbor->add_request(this, NeighConst::REQ_FULL | NeighConst::REQ_GHOST);
  request_ghost_shell();
}

// Message passing unless `ghost_nodes` was asked for or the engine cannot exchange features
// (LibTorch, whose exchange_width() is 0).
bool PairMACE::choose_message_passing()
{
  const int width = potential_->exchange_width();
  message_passing_ = !ghost_nodes_ && width > 0;
  // Inside pair_style hybrid, LAMMPS sizes its buffers by the hybrid's sizes, which it took from
  // its sub-styles when they were defined: with the model given in pair_coeff (mace-torch's
  // syntax) that was before this style knew its width.
  if (message_passing_ && force->pair != this) {
    force->pair->comm_forward = std::max(force->pair->comm_forward, width);
    force->pair->comm_reverse = std::max(force->pair->comm_reverse, width);
  }
  if (comm->me == 0)
    utils::logmesg(lmp, message_passing_
                        ? "pair_style {}: message passing between layers (ghosts to r_max + skin, {} values per atom "
                          "exchanged)\n"
                        : "pair_style {}: ghost-node graph (ghosts to {} x r_max + skin)\n",
                   force->pair_style, message_passing_ ? width : potential_->metadata().num_interactions);
  return message_passing_;
}

// Ghost atoms must reach num_interactions * r_max (+ skin), but the graph needs pairs within r_max
// only. So the neighbour lists use r_max (init_one) and the ghost shell is widened through the
// communication cutoff, as `comm_modify cutoff` would: (num_interactions)^3 times fewer pairs
// than lists built at the ghost cutoff.
void PairMACE::request_ghost_shell()
{
  comm->cutghostuser = std::max(comm->cutghostuser, potential_->ghost_cutoff() + neighbor->skin);
}

double PairMACE::init_one(int, int)
{
  return potential_->cutoff();
}

void PairMACE::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  if (periodic_) return compute_periodic();
  if (message_passing_) return compute_message_passing();
  const int nall = atom->nlocal + atom->nghost;
  const mlpot::AtomsRef atoms = host_atoms();
  const mlpot::NeighborsRef nbr = host_neighbors(list->inum + list->gnum);
  mlpot::OutputsRef out;
  out.forces = nall ? &atom->f[0][0] : nullptr;
  out.atom_energy = eflag_atom ? eatom : nullptr;
  out.atom_virial = vflag_atom && nall ? &vatom[0][0] : nullptr;
  out.virial = vflag_global;
  compute_with(*potential_, atoms, nbr, out);
}

// One rank: each ghost is an image of a local atom (atom->map of its tag); the library builds
// the periodic graph over the local atoms with the images' shifts.
void PairMACE::compute_periodic()
{
  const int nlocal = atom->nlocal, nall = atom->nlocal + atom->nghost;
  mlpot::GhostedSystem &g = images_;
  g.n_local = g.n_listed = nlocal;
  g.positions.assign(&atom->x[0][0], &atom->x[0][0] + 3 * size_t(nall));
  g.species.resize(nall);
  g.owner.resize(nall);
  for (int i = 0; i < nall; ++i) {
    g.species[i] = species_of_type_[atom->type[i]];
    g.owner[i] = i < nlocal ? i : atom->map(atom->tag[i]);
    if (g.owner[i] < 0 || g.owner[i] >= nlocal) error->one(FLERR, "pair_style mace periodic: ghost without a local owner");
  }
  g.offsets.assign(1, 0);
  g.neighbors.clear();
  for (int ii = 0; ii < nlocal; ++ii) {
    const int i = list->ilist[ii];
    if (i != ii) error->one(FLERR, "pair_style mace: unexpected neighbour-list order");
    for (int jj = 0; jj < list->numneigh[i]; ++jj) g.neighbors.push_back(list->firstneigh[i][jj] & NEIGHMASK);
    g.offsets.push_back(std::int64_t(g.neighbors.size()));
  }
  const double *h = domain->h;    // xprd yprd zprd yz xz xy
  const mlpot::Mat3 cell{{{h[0], 0.0, 0.0}, {h[5], h[1], 0.0}, {h[4], h[3], h[2]}}};
  const std::array<bool, 3> pbc{domain->xperiodic != 0, domain->yperiodic != 0, domain->zperiodic != 0};
  mlpot::Evaluation ev;
  try {
    ev = potential_->evaluate_images(g, cell, pbc, vflag_global, vflag_atom);
  } catch (const std::exception &e) {
    error->one(FLERR, "pair_style {}: {}", force->pair_style, mlpot::error_message(e));
  }
  double **f = atom->f;
  for (int i = 0; i < nlocal; ++i)
    for (int d = 0; d < 3; ++d) f[i][d] += ev.forces[3 * size_t(i) + d];
  if (eflag_atom)
    for (int i = 0; i < nlocal; ++i) eatom[i] += ev.atom_energy[i];
  if (vflag_atom)
    for (int i = 0; i < nlocal; ++i)
      for (int c = 0; c < 6; ++c) vatom[i][c] += ev.atom_virial[6 * size_t(i) + c];
  if (eflag_global) eng_vdwl += ev.energy;
  if (vflag_global)
    for (int c = 0; c < 6; ++c) virial[c] += ev.virial[c];
}

// Message passing: the locals' lists only; the library calls exchange_ between layers.
void PairMACE::compute_message_passing()
{
  const int nall = atom->nlocal + atom->nghost;
  const mlpot::AtomsRef atoms = host_atoms();
  const mlpot::NeighborsRef nbr = host_neighbors(list->inum);
  mlpot::OutputsRef out;
  out.forces = nall ? &atom->f[0][0] : nullptr;
  out.atom_energy = eflag_atom ? eatom : nullptr;
  out.atom_virial = vflag_atom && nall ? &vatom[0][0] : nullptr;
  out.virial = vflag_global;
  tally([&] { return potential_->compute_exchanging(atoms, nbr, out, exchange_); });
}

// The rows of every atom, local and ghost: forward sets ghosts from their owners (a later swap
// may send on a ghost an earlier one set), reverse adds ghosts into their owners.
void PairMACE::Exchange::forward(double *rows, int width)
{
  pair->exchange(rows, width, false);
}

void PairMACE::Exchange::reverse(double *rows, int width)
{
  pair->exchange(rows, width, true);
}

void PairMACE::exchange(double *rows, int width, bool reverse)
{
  const int sized = reverse ? force->pair->comm_reverse : force->pair->comm_forward;
  if (width > sized)
    error->one(FLERR, "pair_style {}: {} values per atom to exchange, buffers sized for {}", force->pair_style, width,
               sized);
  exchange_rows_ = rows;
  exchange_width_ = width;
  if (reverse)
    comm->reverse_comm(this, width);
  else
    comm->forward_comm(this, width);
}

int PairMACE::pack_forward_comm(int n, int *list, double *buf, int, int *)
{
  const int w = exchange_width_;
  for (int k = 0; k < n; ++k) std::copy_n(exchange_rows_ + size_t(list[k]) * w, w, buf + size_t(k) * w);
  return n * w;
}

void PairMACE::unpack_forward_comm(int n, int first, double *buf)
{
  const int w = exchange_width_;
  std::copy_n(buf, size_t(n) * w, exchange_rows_ + size_t(first) * w);
}

int PairMACE::pack_reverse_comm(int n, int first, double *buf)
{
  const int w = exchange_width_;
  std::copy_n(exchange_rows_ + size_t(first) * w, size_t(n) * w, buf);
  return n * w;
}

void PairMACE::unpack_reverse_comm(int n, int *list, double *buf)
{
  const int w = exchange_width_;
  for (int k = 0; k < n; ++k) {
    double *row = exchange_rows_ + size_t(list[k]) * w;
    for (int c = 0; c < w; ++c) row[c] += buf[size_t(k) * w + c];
  }
}
