// compute ID group mtp/grade: the extrapolation grade of pair_style mtp or mtp/kk with
// `extrapolation ...` — global scalar: the configuration's grade (MV_grade) at the step the
// pair style last graded; per atom: the neighbourhood grades (neighbourhood-mode states) or the
// configuration's grade on every atom (configuration mode). Glue only: the numbers come from
// the pair style.
#ifdef COMPUTE_CLASS
// clang-format off
ComputeStyle(mtp/grade,ComputeMTPGrade);
// clang-format on
#else

#ifndef LMP_COMPUTE_MTP_GRADE_H
#define LMP_COMPUTE_MTP_GRADE_H

#include "compute.h"

namespace LAMMPS_NS {

class ComputeMTPGrade : public Compute {
 public:
  ComputeMTPGrade(class LAMMPS *, int, char **);
  ~ComputeMTPGrade() override;
  void init() override;
  double compute_scalar() override;
  void compute_peratom() override;
  double memory_usage() override;

 private:
  class PairMTP *pair_ = nullptr;
  int nmax_ = 0;
  void require_current(const char *what);
};

}    // namespace LAMMPS_NS

#endif
#endif
