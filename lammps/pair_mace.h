// pair_style mace: MACE models exported for LAMMPS (mace_create_lammps_model) through mlpot's
// LibTorch runner. Default ghost-node mode: ghost atoms out to num_interactions * r_max are graph
// nodes, only local energies count, ghost forces go back by reverse communication (newton on).
// `periodic` (one MPI rank): ghosts are mapped to their owners and become periodic shifts, so
// the graph has only the local atoms as nodes (several times smaller). mace-torch's own syntax
// (`pair_style mace [no_domain_decomposition]`, `pair_coeff * * FILE El ...`) is accepted too.
#ifdef PAIR_CLASS
// clang-format off
PairStyle(mace,PairMACE);
// clang-format on
#else

#ifndef LMP_PAIR_MACE_H
#define LMP_PAIR_MACE_H

#include <memory>
#include <string>
#include <vector>

#include "mlpot/mace_potential.hpp"
#include "pair_mlpot.h"

namespace LAMMPS_NS {

class PairMACE : public PairMlpot {
 public:
  PairMACE(class LAMMPS *);
  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;

 protected:
  // The device a model runs on unless `device` says otherwise: where this style's data live.
  virtual std::string default_device() const { return "cpu"; }
  void load_model();
  void request_ghost_shell();
  void compute_periodic();

  bool periodic_ = false;
  mlpot::GhostedSystem images_;  // per-step buffers of the periodic mode
  std::string model_path_;
  std::string device_ = "cpu";
  std::string engine_ = "auto";  // MaceOptions::engine
  std::unique_ptr<mlpot::MacePotential> potential_;
};

}  // namespace LAMMPS_NS

#endif
#endif
