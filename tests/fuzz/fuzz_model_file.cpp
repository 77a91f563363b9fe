// libFuzzer target: MTP model files (.mtp, .almtp with its selection state).
// Any input must either parse or raise mlpot::Error (a message naming file and line); a
// model that parses must write back to text that parses to the same potential, and one
// that require_evaluable() accepts must have tables the kernels can index safely.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_outcome.hpp"
#include "mlpot/error.hpp"
#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_selection.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mlpot_fuzz::start();
  const std::string text(reinterpret_cast<const char*>(data), size);
  mlpot::MtpModel model;
  try {
    model = mlpot::parse_mtp(text, "fuzz.almtp");
  } catch (const mlpot::Error& e) {
    mlpot_fuzz::refused(e);
    return 0;
  }
  const mlpot::MtpModel again = mlpot::parse_mtp(mlpot::format_mtp(model), "written.mtp");
  if (!mlpot::same_potential(model, again)) {
    std::fprintf(stderr, "format_mtp/parse_mtp round trip changed the potential\n");
    std::abort();
  }
  mlpot_fuzz::reached("round trip");
  try {
    mlpot::require_evaluable(model);
    mlpot_fuzz::reached("evaluable");
  } catch (const mlpot::Error& e) {
    mlpot_fuzz::refused(e);
  }
  if (!model.selection_state.empty()) {
    try {
      mlpot::parse_selection_state(model);
      mlpot_fuzz::reached(mlpot_fuzz::outcome().refused.empty() ? "selection state" : "selection state of a refused model");
    } catch (const mlpot::Error& e) {
      mlpot_fuzz::refused(e);
    }
  }
  return 0;
}
