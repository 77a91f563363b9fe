#pragma once
// The MaxVol selection state that MLIP keeps beside an MTP for active learning, and the
// extrapolation grade defined by it (Podryabinkin & Shapeev 2017; MLIP-2 .als, MLIP-3 .almtp).
//
// The state holds the n x n matrix A whose rows are the selected equations' gradients with
// respect to all n potential parameters [radial | species | moment], and MLIP's stored inverse
// inv_A = (A^-1)^T. A configuration or neighbourhood with gradient row b has the grade
//   gamma = max_l |(b A^-1)_l| = max_l |sum_k b_k inv_A[l][k]|,
// i.e. the largest coefficient of b in the basis of the selected rows: gamma <= 1 inside the
// training domain, gamma > 1 when extrapolating.
#include <array>
#include <string>
#include <vector>

#include "mlpot/mtp_model.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

// Configuration mode: one row per configuration, the gradient of the total energy scaled by
// energy_weight / N^(weight_scaling/2). Neighbourhood mode: one row per atom, the gradient of
// its site energy; the configuration's grade is the largest atom's.
enum class GradeMode { Configuration, Neighborhood };

struct SelectionState {
  std::string format;  // "MVS_v1.1" (MLIP-3 .almtp) or "als" (MLIP-2 .als)
  double energy_weight = 0.0, force_weight = 0.0, stress_weight = 0.0, site_en_weight = 0.0;
  int weight_scaling = 2;  // MLIP-2 divides the energy row by N, i.e. weight_scaling 2
  long n = 0;              // the potential's parameter count
  std::vector<double> A;       // [n][n] row-major, as stored
  std::vector<double> inv_A;   // [n][n] row-major, as stored: (A^-1)^T
  // Per row of A: (configuration index, equation index) for MLIP-3 ({-1,-1}: a row not yet
  // replaced by data, kept at init_value * e_i); (row, configuration number) for MLIP-2.
  std::vector<std::array<int, 2>> rows;
  std::vector<Structure> selected;  // the selected configurations stored with the state
  GradeMode mode = GradeMode::Configuration;

  // Factor applied to the configuration-mode energy-gradient row of a configuration of
  // n_atoms atoms: energy_weight / n_atoms^(weight_scaling/2).
  double energy_row_scale(long n_atoms) const;
};

// Parses model.selection_state (what follows the potential text in an .almtp or .als file).
// Checks the sizes against model.parameter_count(), the matrices against each other
// (diag(A inv_A^T) = 1), the row bookkeeping and the stored configurations. Throws
// mlpot::InputError naming the model file and the line (or byte offset for the binary block).
// Weight combinations mlpot cannot grade (force or stress rows) are rejected here.
SelectionState parse_selection_state(const MtpModel& model);

// Convenience: read_mtp + parse_selection_state; throws if the file has no selection state.
SelectionState read_selection_state(const std::string& path, MtpModel* model_out = nullptr);

// The state MLIP starts active learning from: A = init_value * I, no rows filled, no
// configurations (every real neighbourhood then grades far above 1). For benchmarks and tests.
SelectionState initial_selection_state(const MtpModel& model, GradeMode mode, double init_value = 1e-6);

// The state in MLIP-3's layout ("#MVS_v1.1" ... ), to store as MtpModel::selection_state and
// write with format_almtp(). The selected configurations are written with write_cfg.
std::string format_selection_state(const SelectionState& state);

// Host reference of the grade of one full row b (length n): max_l |sum_k b_k inv_A[l][k]|.
double grade_of_row(const SelectionState& state, const std::vector<double>& row);

}  // namespace mlpot
