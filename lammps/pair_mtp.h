// pair_style mtp: Moment Tensor Potentials (MLIP-2/MLIP-3 .mtp/.almtp files) through mlpot.
// pair_style mlip: the same style read with the settings of MLIP's own LAMMPS interfaces.
// Thin glue: parsing of the style's arguments, type mapping, and handing LAMMPS' arrays to
// mlpot::Potential; all physics lives in the mlpot library.
#ifdef PAIR_CLASS
// clang-format off
PairStyle(mtp,PairMTP);
PairStyle(mlip,PairMTP);
// clang-format on
#else

#ifndef LMP_PAIR_MTP_H
#define LMP_PAIR_MTP_H

#include <memory>
#include <string>
#include <vector>

#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_potential.hpp"
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

  // Extrapolation control (compute mtp/grade reads these).
  bool grading() const { return bool(selection_); }
  double last_grade() const { return last_grade_; }
  bigint last_grade_step() const { return last_grade_step_; }
  const std::vector<double> &atom_grades() const { return atom_grades_; }

 protected:
  // pair_style mlip: the settings of MLIP-3's and MLIP-2's LAMMPS interfaces.
  void settings_mlip(int narg, char **arg);
  void load_model(bool extrapolate);
  virtual void create_potential();
  // create_potential() once, with the selection state when grading; errors as LAMMPS errors.
  void ensure_potential();
  void map_types_to_species(int narg, char **arg);
  // Before the force call: whether this step is graded (tells the potential).
  bool begin_grade_step();
  // After it: the grade (summed / maximised over ranks), the output above `select`, the stop above `break`.
  void finish_grade_step();
  // The /kk style brings positions and types to the host before they are written.
  virtual void sync_host_for_output() {}
  void write_configuration(double grade);

  std::string model_path_;
  mlpot::MtpModel model_;
  std::vector<std::string> elements_;  // optional species names from `elements ...`
  std::string backend_ = "default";
  mlpot::MtpPrecision precision_ = mlpot::MtpPrecision::Double;  // the keyword precision
  std::unique_ptr<mlpot::MtpPotential> potential_;

  // Extrapolation control: `extrapolation FILE [select G] [break G] [every N]` (or MLIP's
  // settings: the file may then be empty, i.e. nothing written, and break infinite).
  std::shared_ptr<const mlpot::SelectionState> selection_;
  std::string grade_file_;
  double select_threshold_ = 2.0, break_threshold_ = 10.0;
  int grade_every_ = 1;
  bool grade_now_ = false;
  double last_grade_ = 0.0;
  bigint last_grade_step_ = -1;
  std::vector<double> atom_grades_;
  int written_ = 0;
};

}  // namespace LAMMPS_NS

#endif
#endif
