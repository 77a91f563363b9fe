// libFuzzer target: configuration files (MLIP .cfg and extended XYZ), chosen by the first
// byte. Any input must either parse or raise mlpot::Error; what parses must write back to
// text that parses to as many configurations with as many atoms.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_outcome.hpp"
#include "mlpot/error.hpp"
#include "mlpot/structure_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mlpot_fuzz::start();
  if (size == 0) return 0;
  const bool cfg = data[0] & 1;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::vector<std::string> elements{"H", "Li", "C", "O", "F", "P"};
  std::vector<mlpot::Structure> structures;
  try {
    structures = cfg ? mlpot::parse_cfg(text, "fuzz.cfg") : mlpot::parse_extxyz(text, "fuzz.xyz", elements);
  } catch (const mlpot::Error& e) {
    mlpot_fuzz::refused(e);
    return 0;
  }
  std::ostringstream out;
  for (const auto& s : structures) {
    if (cfg) {
      mlpot::write_cfg(out, s);
    } else {
      mlpot::write_extxyz(out, s, elements);
    }
  }
  const auto again = cfg ? mlpot::parse_cfg(out.str(), "written.cfg") : mlpot::parse_extxyz(out.str(), "written.xyz", elements);
  bool same = again.size() == structures.size();
  for (size_t k = 0; same && k < again.size(); ++k) same = again[k].size() == structures[k].size();
  if (!same) {
    std::fprintf(stderr, "write/parse round trip changed the configurations\n");
    std::abort();
  }
  mlpot_fuzz::reached("round trip");
  return 0;
}
