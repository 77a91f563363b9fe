#include "pair_mace.h"

#include <cstring>

#include <algorithm>

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neigh_request.h"
#include "neighbor.h"

using namespace LAMMPS_NS;

PairMACE::PairMACE(LAMMPS *lmp) : PairMlpot(lmp) {}

// pair_style mace FILE [device cpu|cuda|cuda:N]
void PairMACE::settings(int narg, char **arg)
{
  if (narg < 1) error->all(FLERR, "Illegal pair_style mace command: pair_style mace FILE [device D]");
  model_path_ = arg[0];
  for (int i = 1; i < narg; ++i) {
    if (strcmp(arg[i], "device") == 0 && i + 1 < narg) {
      device_ = arg[++i];
    } else {
      error->all(FLERR, "pair_style mace: unknown keyword '{}'", arg[i]);
    }
  }
  try {
    potential_ = std::make_unique<mlpot::MacePotential>(model_path_, device_);
  } catch (const std::exception &e) {
    error->all(FLERR, "pair_style mace: {}", e.what());
  }
}

// pair_coeff * * El1 El2 ... : LAMMPS types to model elements by name.
void PairMACE::coeff(int narg, char **arg)
{
  const int ntypes = atom->ntypes;
  if (narg != 2 + ntypes)
    error->all(FLERR, "pair_coeff for {}: expected * * followed by {} element names, got {}", force->pair_style,
               ntypes, narg - 2);
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "pair_coeff for {} must start with * *", force->pair_style);
  const std::vector<int> z = potential_->atomic_numbers();
  species_of_type_.assign(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; ++t) {
    const int zt = mlpot::atomic_number(arg[1 + t]);
    if (zt == 0) error->all(FLERR, "pair_coeff: '{}' (type {}) is not an element symbol", arg[1 + t], t);
    for (size_t k = 0; k < z.size(); ++k)
      if (z[k] == zt) species_of_type_[t] = int(k);
    if (species_of_type_[t] < 0)
      error->all(FLERR, "pair_coeff: element {} (type {}) is not in MACE model {}", arg[1 + t], t, model_path_);
  }
  allocate_type_arrays();
}

void PairMACE::init_style()
{
  require_newton_and_coeffs(!species_of_type_.empty());
  neighbor->add_request(this, NeighConst::REQ_FULL | NeighConst::REQ_GHOST);
  request_ghost_shell();
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
  if (vflag_atom) error->all(FLERR, "pair_style {}: per-atom virials are not available from MACE models", force->pair_style);
  const int nlocal = atom->nlocal, nall = atom->nlocal + atom->nghost;
  const int nlisted = list->inum + list->gnum;
  species_.resize(nall);
  for (int i = 0; i < nall; ++i) species_[i] = species_of_type_[atom->type[i]];
  counts_.resize(nlisted);
  for (int ii = 0; ii < nlisted; ++ii) {
    if (list->ilist[ii] != ii) error->one(FLERR, "pair_style mace: unexpected neighbour-list order");
    counts_[ii] = list->numneigh[ii];
  }
  mlpot::AtomsRef atoms{nlocal, nall, nall ? &atom->x[0][0] : nullptr, species_.data(), mlpot::MemorySpace::Host};
  mlpot::NeighborsRef nbr;
  nbr.n_listed = nlisted;
  nbr.rows = list->firstneigh;
  nbr.counts = counts_.data();
  nbr.index_mask = NEIGHMASK;
  mlpot::OutputsRef out;
  out.forces = nall ? &atom->f[0][0] : nullptr;
  out.atom_energy = eflag_atom ? eatom : nullptr;
  out.virial = vflag_global;
  compute_with(*potential_, atoms, nbr, out);
}
