#include "pair_mlpot.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "mlpot/error.hpp"
#include "mlpot/mtp_potential.hpp"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "update.h"

#include <cstring>

using namespace LAMMPS_NS;

void PairMlpot::ensure_kokkos()
{
  static mlpot::KokkosRuntime runtime;
}

PairMlpot::PairMlpot(LAMMPS *lmp) : Pair(lmp)
{
  single_enable = 0;
  restartinfo = 0;    // after read_restart, pair_style and pair_coeff are given again
  one_coeff = 1;
  manybody_flag = 1;
  centroidstressflag = CENTROID_NOTAVAIL;
  no_virial_fdotr_compute = 1;    // the potential returns its own virial
}

PairMlpot::~PairMlpot()
{
  if (copymode) return;
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
  }
}

void PairMlpot::allocate_type_arrays()
{
  if (allocated) return;
  allocated = 1;
  const int n = atom->ntypes;
  memory->create(setflag, n + 1, n + 1, "pair:setflag");
  memory->create(cutsq, n + 1, n + 1, "pair:cutsq");
  for (int i = 1; i <= n; ++i)
    for (int j = i; j <= n; ++j) setflag[i][j] = 1;
}

void PairMlpot::require_run_settings(bool have_coeffs)
{
  // MTP and MACE models are in eV and Angstrom; any other unit style would read them as
  // something else without a word.
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, "Pair style {} requires 'units metal' (its models are in eV and Angstrom); this input uses 'units {}'",
               force->pair_style, update->unit_style);
  if (force->newton_pair == 0) error->all(FLERR, "Pair style {} requires newton pair on", force->pair_style);
  if (!have_coeffs) error->all(FLERR, "Pair style {}: pair_coeff has not been given", force->pair_style);
}

void PairMlpot::init_list(int id, NeighList *ptr)
{
  Pair::init_list(id, ptr);
  // neigh_modify exclude leaves pairs out of the list. That may be meant (two systems in one box
  // that should not see each other), but it is never the model's physics: say so.
  if (neighbor->exclude && comm->me == 0)
    error->warning(FLERR,
                   "Pair style {}: neigh_modify exclude leaves pairs out of its neighbour list, so the model sees "
                   "those atoms' environments without them",
                   force->pair_style);
  // In a molecular system LAMMPS leaves 1-2, 1-3 and 1-4 pairs out of every neighbour list when
  // special_bonds weighs them 0.0 for both lj and coul (its default, meant for force fields whose
  // bonded terms replace them). A machine-learned potential needs every neighbour within its
  // cutoff, bonded or not: without this check it would run on a wrong environment without a word.
  // neighbor->special_flag already folds in kspace and the hybrid rules (0 = pairs dropped).
  if (atom->molecular == Atom::ATOMIC || atom->nbonds == 0) return;
  for (int level = 1; level <= 3; ++level)
    if (neighbor->special_flag[level] == 0)
      error->all(FLERR,
                 "Pair style {} needs every neighbour within its cutoff, but special_bonds (lj/coul 0.0 for 1-{} "
                 "pairs, LAMMPS' default) leaves bonded pairs out of the neighbour list; use "
                 "'special_bonds lj/coul 1.0 1.0 1.0' with this style (bond, angle and other bonded styles still apply)",
                 force->pair_style, level + 1);
}

mlpot::AtomsRef PairMlpot::host_atoms()
{
  const int nlocal = atom->nlocal, nall = atom->nlocal + atom->nghost;
  species_.resize(nall);
  for (int i = 0; i < nall; ++i) species_[i] = species_of_type_[atom->type[i]];
  return {nlocal, nall, nall ? &atom->x[0][0] : nullptr, species_.data(), mlpot::MemorySpace::Host};
}

mlpot::NeighborsRef PairMlpot::host_neighbors(int n_listed)
{
  counts_.resize(n_listed);
  for (int ii = 0; ii < n_listed; ++ii) {
    // The library reads row i as atom i: LAMMPS' full lists over all atoms are in that order.
    if (list->ilist[ii] != ii) error->one(FLERR, "pair_style {}: unexpected neighbour-list order", force->pair_style);
    counts_[ii] = list->numneigh[ii];
  }
  mlpot::NeighborsRef nbr;
  nbr.n_listed = n_listed;
  nbr.rows = list->firstneigh;
  nbr.counts = counts_.data();
  nbr.index_mask = NEIGHMASK;
  return nbr;
}

void PairMlpot::compute_with(mlpot::Potential &potential, const mlpot::AtomsRef &atoms,
                             const mlpot::NeighborsRef &neighbors, const mlpot::OutputsRef &outputs)
{
  tally([&] { return potential.compute(atoms, neighbors, outputs); });
}

void PairMlpot::tally(const std::function<mlpot::Totals()> &compute)
{
  mlpot::Totals t;
  try {
    t = compute();
  } catch (const std::exception &e) {
    error->one(FLERR, "pair_style {}: {}", force->pair_style, mlpot::error_message(e));
  }
  if (eflag_global) eng_vdwl += t.energy;
  if (vflag_global)
    for (int c = 0; c < 6; ++c) virial[c] += t.virial[c];
}
