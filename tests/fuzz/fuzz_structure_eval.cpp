// libFuzzer target: configuration files all the way through the neighbour list and the MTP
// kernel. The first byte picks the format (odd: .cfg); every configuration that parses is
// evaluated with a synthetic level-6 MTP of the six SEI species (built from MLIP's template)
// on the Serial backend. Anything refused must be refused with mlpot::Error; what is evaluated
// must give finite energies and forces (positions are finite once parsed).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_outcome.hpp"
#include "mlpot/builders.hpp"
#include "mlpot/error.hpp"
#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mlpot/structure_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mlpot::KokkosRuntime runtime(1);
  static const std::unique_ptr<mlpot::MtpPotential> potential = mlpot::make_mtp_potential(
      mlpot::make_synthetic_mtp(mlpot::read_mtp(std::string(MLPOT_TEMPLATES) + "/06.almtp"), 6, 0.9, 4.0, 1),
      "Serial");
  mlpot_fuzz::start();
  if (size == 0) return 0;
  const bool cfg = data[0] & 1;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<mlpot::Structure> structures;
  try {
    structures = cfg ? mlpot::parse_cfg(text, "fuzz.cfg") : mlpot::parse_extxyz(text, "fuzz.xyz", mlpot::sei_elements());
  } catch (const mlpot::Error& e) {
    mlpot_fuzz::refused(e);
    return 0;
  }
  bool skipped = false;
  for (const auto& s : structures) {
    if (s.size() > 2000) {  // large but valid: only costs time here
      skipped = true;
      continue;
    }
    mlpot::Evaluation e;
    try {
      e = mlpot::evaluate(*potential, s);
    } catch (const mlpot::Error& err) {
      mlpot_fuzz::refused(err);
      continue;
    }
    bool finite = std::isfinite(e.energy);
    for (double f : e.forces) finite = finite && std::isfinite(f);
    if (!finite) {
      std::fprintf(stderr, "%s: non-finite energy or forces from finite input\n", s.source.c_str());
      std::abort();
    }
  }
  // "evaluated" only when every configuration was (and there was one).
  if (!structures.empty() && mlpot_fuzz::outcome().refused.empty()) mlpot_fuzz::reached(skipped ? "skipped: large" : "evaluated");
  return 0;
}
