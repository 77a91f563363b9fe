// pair_style mtp: Moment Tensor Potentials (MLIP-2/MLIP-3 .mtp/.almtp files) through mlpot.
// Thin glue: parsing of the style's arguments, type mapping, and handing LAMMPS' arrays to
// mlpot::Potential; all physics lives in the mlpot library.
#ifdef PAIR_CLASS
// clang-format off
PairStyle(mtp,PairMTP);
// clang-format on
#else

#ifndef LMP_PAIR_MTP_H
#define LMP_PAIR_MTP_H

#include <memory>
#include <string>
#include <vector>

#include "mlpot/mtp_model.hpp"
#include "mlpot/potential.hpp"
#include "pair_mlpot.h"

namespace LAMMPS_NS {

class PairMTP : public PairMlpot {
 public:
  PairMTP(class LAMMPS *);
  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;

 protected:
  virtual void create_potential();
  void map_types_to_species(int narg, char **arg);

  std::string model_path_;
  mlpot::MtpModel model_;
  std::vector<std::string> elements_;  // optional species names from `elements ...`
  std::string backend_ = "default";
  std::unique_ptr<mlpot::Potential> potential_;
};

}  // namespace LAMMPS_NS

#endif
#endif
