// libFuzzer target: MTP model files all the way into the kernels. A model that
// require_evaluable() accepts is evaluated on the Serial backend on a small cluster of every
// species (with its selection state, if it has one, also graded), so that a model which gets
// past the checks but indexes the kernels' tables out of range shows up under the address
// sanitizer. Anything refused must be refused with mlpot::Error.
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_outcome.hpp"
#include "mlpot/error.hpp"
#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mlpot/mtp_selection.hpp"
#include "mlpot/structure.hpp"

namespace {

// Eight atoms, 1.0-1.9 A apart along a bent chain, species cycling through the model's.
mlpot::Structure cluster(int species_count) {
  mlpot::Structure s;
  for (int a = 0; a < 8; ++a) {
    s.positions.insert(s.positions.end(), {0.9 * a, 0.6 * (a % 3), 0.4 * (a % 2)});
    s.species.push_back(a % species_count);
  }
  s.source = "fuzz cluster";
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mlpot::KokkosRuntime runtime(1);
  mlpot_fuzz::start();
  const std::string text(reinterpret_cast<const char*>(data), size);
  mlpot::MtpModel model;
  try {
    model = mlpot::parse_mtp(text, "fuzz.almtp");
    mlpot::require_evaluable(model);
  } catch (const mlpot::Error& e) {
    mlpot_fuzz::refused(e);
    return 0;
  }
  // Large but valid models only cost time here.
  if (model.species_count > 8 || model.alpha_moments_count > 2000 || model.radial_basis_size > 64) {
    mlpot_fuzz::reached("skipped: large");
    return 0;
  }
  auto potential = mlpot::make_mtp_potential(model, "Serial");
  const mlpot::Structure s = cluster(model.species_count);
  try {
    if (model.selection_state.empty()) {
      mlpot::evaluate(*potential, s, true);
      mlpot_fuzz::reached("evaluated");
      return 0;
    }
    potential->set_selection(std::make_shared<const mlpot::SelectionState>(mlpot::parse_selection_state(model)));
    mlpot::grade_structure(*potential, s);
    mlpot_fuzz::reached("graded");
  } catch (const mlpot::Error& e) {
    mlpot_fuzz::refused(e);
  }
  return 0;
}
