#include "pair_mtp.h"

#include <cstring>

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "mlpot/error.hpp"
#include "mlpot/mtp_potential.hpp"
#include "neigh_list.h"
#include "neighbor.h"

using namespace LAMMPS_NS;

namespace {
// Pair styles without /kk run the Kokkos host backend, which must be initialised once per process
// (LAMMPS initialises Kokkos itself only with `-k on`).
mlpot::KokkosRuntime &kokkos_runtime()
{
  static mlpot::KokkosRuntime runtime;
  return runtime;
}
}    // namespace

PairMTP::PairMTP(LAMMPS *lmp) : PairMlpot(lmp) {}

// pair_style mtp FILE [elements El1 El2 ...] [backend serial|openmp|default]
void PairMTP::settings(int narg, char **arg)
{
  if (narg < 1) error->all(FLERR, "Illegal pair_style mtp command: pair_style mtp FILE [elements ...] [backend B]");
  model_path_ = arg[0];
  elements_.clear();
  for (int i = 1; i < narg; ++i) {
    if (strcmp(arg[i], "backend") == 0) {
      if (i + 1 >= narg) error->all(FLERR, "pair_style mtp: 'backend' needs a value");
      backend_ = arg[++i];
    } else if (strcmp(arg[i], "elements") == 0) {
      while (i + 1 < narg && strcmp(arg[i + 1], "backend") != 0) elements_.emplace_back(arg[++i]);
    } else {
      error->all(FLERR, "pair_style mtp: unknown keyword '{}'", arg[i]);
    }
  }
  try {
    model_ = mlpot::read_mtp(model_path_);
    mlpot::require_evaluable(model_);
  } catch (const std::exception &e) {
    error->all(FLERR, "pair_style mtp: {}", e.what());
  }
  if (!elements_.empty() && int(elements_.size()) != model_.species_count)
    error->all(FLERR, "pair_style mtp: {} element names given but {} has {} species", elements_.size(),
               model_path_, model_.species_count);
}

void PairMTP::map_types_to_species(int narg, char **arg)
{
  const int ntypes = atom->ntypes;
  if (narg != 2 + ntypes)
    error->all(FLERR, "pair_coeff for {}: expected * * followed by {} entries (one per atom type), got {}",
               force->pair_style, ntypes, narg - 2);
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "pair_coeff for {} must start with * *", force->pair_style);
  species_of_type_.assign(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; ++t) {
    const char *entry = arg[1 + t];
    int s = -1;
    for (size_t e = 0; e < elements_.size(); ++e)
      if (elements_[e] == entry) s = int(e);
    if (s < 0) {
      char *end = nullptr;
      long v = strtol(entry, &end, 10);
      if (end == entry || *end != '\0') {
        if (elements_.empty())
          error->all(FLERR, "pair_coeff: '{}' for type {} is not a species index; name the species with "
                     "'pair_style mtp {} elements ...' to map by element", entry, t, model_path_);
        error->all(FLERR, "pair_coeff: element '{}' for type {} is not in the model's elements", entry, t);
      }
      s = int(v);
    }
    if (s < 0 || s >= model_.species_count)
      error->all(FLERR, "pair_coeff: species {} for type {} is outside the model's {} species (0..{})", s, t,
                 model_.species_count, model_.species_count - 1);
    species_of_type_[t] = s;
  }
}

void PairMTP::coeff(int narg, char **arg)
{
  map_types_to_species(narg, arg);
  allocate_type_arrays();
}

void PairMTP::create_potential()
{
  kokkos_runtime();
  potential_ = mlpot::make_mtp_potential(model_, backend_);
}

void PairMTP::init_style()
{
  require_newton_and_coeffs(!species_of_type_.empty());
  neighbor->add_request(this, NeighConst::REQ_FULL);
  try {
    if (!potential_) create_potential();
  } catch (const std::exception &e) {
    error->all(FLERR, "pair_style {}: {}", force->pair_style, e.what());
  }
}

double PairMTP::init_one(int, int)
{
  return model_.max_dist;
}

void PairMTP::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  const int nlocal = atom->nlocal, nall = atom->nlocal + atom->nghost;
  if (list->inum != nlocal) error->one(FLERR, "pair_style mtp needs a neighbour list of all local atoms");
  const mlpot::AtomsRef atoms = host_atoms();
  const mlpot::NeighborsRef nbr = host_neighbors(nlocal);
  mlpot::OutputsRef out;
  out.forces = nall ? &atom->f[0][0] : nullptr;
  out.atom_energy = eflag_atom ? eatom : nullptr;
  out.atom_virial = vflag_atom ? &vatom[0][0] : nullptr;
  out.virial = vflag_global;
  compute_with(*potential_, atoms, nbr, out);
}
