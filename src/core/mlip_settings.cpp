#include "mlpot/mlip_settings.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "mlpot/error.hpp"
#include "text_lexer.hpp"

namespace mlpot {

namespace {

using detail::lower;
using detail::trim;

// A grade threshold: any number, inf included (never reached), but not NaN, which every
// comparison would silently treat as never reached.
double parse_number(const std::string& value, const std::string& what) {
  bool ok = false;
  const double v = detail::parse_double(value, &ok);
  if (!ok || std::isnan(v)) throw Error(what + ": '" + value + "' is not a number");
  return v;
}

// MLIP-3: `key=value` arguments of `pair_style mlip`.
MlipInterfaceSettings parse_mlip3(const std::vector<std::string>& args) {
  MlipInterfaceSettings s;
  const std::string ec = "extrapolation_control:";
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("pair_style mlip: '" + arg + "' is not a key=value setting (MLIP-3 syntax: pair_style mlip "
                  "load_from=pot.almtp [extrapolation_control=true extrapolation_control:threshold_save=2 ...]; "
                  "MLIP-2 syntax: pair_style mlip mlip.ini)");
    const std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
    const std::string what = "pair_style mlip " + key;
    if (key == "load_from" || key == "mlip:load_from") {
      s.potential = value;
    } else if (key == "mlip") {
      if (lower(value) != "mtpr" && !parse_mlip_bool(value, what))
        throw Error(what + "=" + value + ": only the MTP (mlip=true) is available");
    } else if (key == "calculate_efs") {
      if (!parse_mlip_bool(value, what)) throw Error(what + "=false: LAMMPS needs energies and forces");
    } else if (key == "extrapolation_control") {
      s.extrapolation = parse_mlip_bool(value, what);
    } else if (key == ec + "threshold_save") {
      s.threshold_save = parse_number(value, what);
    } else if (key == ec + "threshold_break") {
      s.threshold_break = parse_number(value, what);
    } else if (key == ec + "save_extrapolative_to") {
      s.save_to = value;
    } else if (key == ec + "add_grade_feature") {
      if (!parse_mlip_bool(value, what))
        s.ignored.push_back(key + "=" + value + " (mlpot always writes Feature MV_grade)");
    } else if (key == ec + "log") {
      s.ignored.push_back(key + "=" + value + " (grades are not logged to a file; use compute mtp/grade)");
    } else {
      throw Error(what + ": not supported by mlpot (supported: load_from, calculate_efs, extrapolation_control, "
                  "extrapolation_control:threshold_save, :threshold_break, :save_extrapolative_to, "
                  ":add_grade_feature, :log; learning on the fly and selection updates are not available)");
    }
  }
  if (s.potential.empty()) throw Error("pair_style mlip: no load_from=FILE among the settings");
  return s;
}

// MLIP-2: an ini file of "key value" lines ('#' starts a comment).
MlipInterfaceSettings read_mlip2_ini(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("pair_style mlip: cannot open settings file " + path);
  MlipInterfaceSettings s;
  std::string state, line;
  bool have_threshold_break = false;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    std::istringstream words(line);
    std::string key, value, extra;
    words >> key >> value;
    if (value == "=") words >> value;
    if (value.empty()) throw InputError(path, number, "'" + key + "' has no value");
    if (words >> extra) throw InputError(path, number, "'" + key + "' takes one value, found '" + extra + "' after it");
    try {
      const std::string what = "'" + key + "'";
      if (key == "mtp-filename") {
        s.potential = value;
      } else if (key == "calculate-efs") {
        if (!parse_mlip_bool(value, what)) throw Error("calculate-efs FALSE: LAMMPS needs energies and forces");
      } else if (key == "select") {
        s.extrapolation = parse_mlip_bool(value, what);
      } else if (key == "select:threshold") {
        s.threshold_save = parse_number(value, what);
      } else if (key == "select:threshold-break") {
        s.threshold_break = parse_number(value, what);
        have_threshold_break = true;
      } else if (key == "select:save-selected") {
        s.save_to = value;
      } else if (key == "select:load-state") {
        state = value;
      } else if (key == "select:log") {
        s.ignored.push_back(key + " " + value + " (grades are not logged to a file; use compute mtp/grade)");
      } else if (key == "select:site-en-weight" || key == "select:energy-weight" || key == "select:force-weight" ||
                 key == "select:stress-weight" || key == "select:weight-scaling" || key == "select:efs-ignored") {
        s.ignored.push_back(key + " " + value + " (grades use the weights stored in the selection state)");
      } else {
        throw Error("'" + key + "' is not supported by mlpot (supported: mtp-filename, calculate-efs, select, "
                    "select:threshold, select:threshold-break, select:save-selected, select:load-state; learning on "
                    "the fly, fitting and selection updates are not available)");
      }
    } catch (const InputError&) {
      throw;
    } catch (const Error& e) {
      throw InputError(path, number, e.what());
    }
  }
  if (s.potential.empty()) throw InputError(path, 1, "no 'mtp-filename' line");
  // MLIP-2's selection never stopped a run unless asked to.
  if (!have_threshold_break) s.threshold_break = 0.0;
  if (s.extrapolation) {
    if (state.empty())
      throw InputError(path, 1, "'select TRUE' needs 'select:load-state STATE.als': mlpot grades against a "
                                "stored selection state and does not build one during the run");
    s.same_potential_as = s.potential;
    s.potential = state;
  }
  return s;
}

}  // namespace

bool parse_mlip_bool(const std::string& value, const std::string& what) {
  const std::string v = lower(value);
  if (v == "true" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "no" || v == "0") return false;
  throw Error(what + ": '" + value + "' is not a boolean (true or false)");
}

MlipInterfaceSettings parse_mlip_interface_args(const std::vector<std::string>& args) {
  if (args.empty())
    throw Error("pair_style mlip: no settings (pair_style mlip load_from=pot.almtp ..., or pair_style mlip mlip.ini)");
  if (args.size() == 1 && args[0].find('=') == std::string::npos) return read_mlip2_ini(args[0]);
  return parse_mlip3(args);
}

}  // namespace mlpot
