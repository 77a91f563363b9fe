#include "compute_mtp_grade.h"

#include "atom.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "pair_mtp.h"
#include "update.h"

using namespace LAMMPS_NS;

ComputeMTPGrade::ComputeMTPGrade(LAMMPS *lmp, int narg, char **arg) : Compute(lmp, narg, arg)
{
  if (narg != 3) error->all(FLERR, "Illegal compute mtp/grade command: compute ID group mtp/grade");
  scalar_flag = 1;
  extscalar = 0;
  peratom_flag = 1;
  size_peratom_cols = 0;
}

ComputeMTPGrade::~ComputeMTPGrade()
{
  memory->destroy(vector_atom);
}

void ComputeMTPGrade::init()
{
  pair_ = dynamic_cast<PairMTP *>(force->pair);
  if (!pair_) error->all(FLERR, "compute mtp/grade needs pair_style mtp, mtp/kk, mlip or mlip/kk");
  if (!pair_->grading())
    error->all(FLERR, "compute mtp/grade: pair_style {} has no extrapolation control (add 'extrapolation OUT.cfg', "
               "or MLIP's extrapolation_control=true, and use a model file with a selection state)", force->pair_style);
}

void ComputeMTPGrade::require_current(const char *what)
{
  if (pair_->last_grade_step() != update->ntimestep)
    error->all(FLERR, "compute mtp/grade: {} requested at step {} but pair_style {} last graded step {} (make "
               "its 'every' divide the output interval)", what, update->ntimestep, force->pair_style,
               pair_->last_grade_step());
}

double ComputeMTPGrade::compute_scalar()
{
  invoked_scalar = update->ntimestep;
  require_current("the grade");
  scalar = pair_->last_grade();
  return scalar;
}

void ComputeMTPGrade::compute_peratom()
{
  invoked_peratom = update->ntimestep;
  require_current("per-atom grades");
  if (atom->nmax > nmax_) {
    memory->destroy(vector_atom);
    nmax_ = atom->nmax;
    memory->create(vector_atom, nmax_, "mtp/grade:vector_atom");
  }
  const auto &g = pair_->atom_grades();
  const int nlocal = atom->nlocal;
  if (int(g.size()) < nlocal) error->one(FLERR, "compute mtp/grade: per-atom grades are not current");
  for (int i = 0; i < nlocal; ++i) vector_atom[i] = (atom->mask[i] & groupbit) ? g[i] : 0.0;
}

double ComputeMTPGrade::memory_usage()
{
  return double(nmax_) * sizeof(double);
}
