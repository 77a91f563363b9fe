#pragma once
// The settings of MLIP's own LAMMPS interfaces, read so that their input scripts run unchanged
// with mlpot's pair style `mlip`:
//   MLIP-3 (interface-lammps-mlip-3):
//     pair_style mlip load_from=pot.almtp [extrapolation_control=true]
//                [extrapolation_control:threshold_save=G] [extrapolation_control:threshold_break=G]
//                [extrapolation_control:save_extrapolative_to=FILE] ...
//   MLIP-2 (interface-lammps-mlip-2):
//     pair_style mlip mlip.ini      with lines "key value": mtp-filename, select, select:threshold,
//                                   select:threshold-break, select:save-selected, select:load-state
// Both map LAMMPS type t to MTP species t-1 (`pair_coeff * *`).
//
// Thresholds follow MLIP's CfgSampling: a configuration grading above threshold_save is appended
// to the output file (when one is named), and the run stops above threshold_break only when
// threshold_break > threshold_save (MLIP-3's defaults: 2 and 11).
#include <string>
#include <vector>

namespace mlpot {

struct MlipInterfaceSettings {
  // The file the potential is read from; when extrapolating it also holds the selection state
  // (an .almtp, or MLIP-2's .als from select:load-state).
  std::string potential;
  // MLIP-2 with select:load-state: mtp-filename, which must be the potential stored in the .als.
  std::string same_potential_as;
  bool extrapolation = false;
  double threshold_save = 2.0;
  double threshold_break = 11.0;
  bool break_enabled() const { return threshold_break > threshold_save; }
  std::string save_to;  // empty: extrapolative configurations are not written
  // Settings accepted but without effect in mlpot, each with the reason (for a warning).
  std::vector<std::string> ignored;
};

// `pair_style mlip ARGS...`: one argument without '=' is an MLIP-2 ini file (read here), else
// the arguments are MLIP-3 `key=value` settings. Unknown or unsupported settings (learning on
// the fly, selection updates) throw mlpot::Error naming the setting (and the ini file:line).
MlipInterfaceSettings parse_mlip_interface_args(const std::vector<std::string>& args);

// MLIP's boolean settings: true/false, yes/no, 1/0, in any case. Throws mlpot::Error otherwise.
bool parse_mlip_bool(const std::string& value, const std::string& what);

}  // namespace mlpot
