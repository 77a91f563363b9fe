// pair_style mace: MACE models exported for LAMMPS (mace_create_lammps_model), on mlpot's native
// engine or its LibTorch runner. Three graphs (docs/lammps.md):
//  - message passing (default with the native engine, any number of ranks): ghosts out to r_max
//    (+ skin) only; after each interaction layer the ghosts' node features come from their
//    owners by forward communication (pack/unpack_forward_comm), and in the reverse pass the
//    adjoints that fell on ghosts go back by reverse communication;
//  - ghost nodes (`ghost_nodes`, and the LibTorch engine's default): ghost atoms out to
//    num_interactions * r_max are graph nodes with their own lists, only local energies count;
//  - `periodic` (one MPI rank): ghosts are mapped to their owners and become periodic shifts.
// In every mode ghost forces go back by LAMMPS' reverse communication (newton on). mace-torch's
// own syntax (`pair_style mace [no_domain_decomposition]`, `pair_coeff * * FILE El ...`) is
// accepted too.
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
  // Message passing: node feature rows (exchange_rows_, exchange_width_ doubles per atom).
  int pack_forward_comm(int, int *, double *, int, int *) override;
  void unpack_forward_comm(int, int, double *) override;
  int pack_reverse_comm(int, int, double *) override;
  void unpack_reverse_comm(int, int *, double *) override;

 protected:
  // The device a model runs on unless `device` says otherwise: where this style's data live.
  virtual std::string default_device() const { return "cpu"; }
  void load_model();
  void request_ghost_shell();
  void compute_periodic();
  void compute_message_passing();
  bool choose_message_passing();
  // Message passing: the ghosts' rows set from their owners, or (reverse) added into them.
  void exchange(double *rows, int width, bool reverse);
  // After init_style: whether this run passes messages (see above) and the exchange that does it.
  bool message_passing() const { return message_passing_; }
  mlpot::GhostExchange &exchange() { return exchange_; }

  bool periodic_ = false;
  bool ghost_nodes_ = false;      // the `ghost_nodes` keyword
  bool message_passing_ = false;  // resolved in init_style
  // The rows being exchanged: [nall][exchange_width_] doubles in the model's memory.
  double *exchange_rows_ = nullptr;
  int exchange_width_ = 0;
  struct Exchange : mlpot::GhostExchange {
    PairMACE *pair = nullptr;
    void forward(double *rows, int width) override;
    void reverse(double *rows, int width) override;
  } exchange_;
  mlpot::GhostedSystem images_;  // per-step buffers of the periodic mode
  std::string model_path_;
  std::string device_ = "cpu";
  std::string engine_ = "auto";  // MaceOptions::engine
  std::unique_ptr<mlpot::MacePotential> potential_;
};

}  // namespace LAMMPS_NS

#endif
#endif
