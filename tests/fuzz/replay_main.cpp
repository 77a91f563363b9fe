// A main for the libFuzzer targets without libFuzzer: runs LLVMFuzzerTestOneInput on each file
// named on the command line. The test suite builds every target with it (GCC, no sanitizers)
// and replays tests/fuzz/inputs/, so the targets keep compiling and what they found, and a
// valid file of each kind, go through the same checks on every run.
//
//   replay_TARGET --expect expected.txt --target TARGET FILE...
//
// Each file's outcome (fuzz_outcome.hpp) must be the one expected.txt gives for it and this
// target: "reached=STAGE" (a valid seed must get that far, unrefused) or "refused=TEXT" (a
// finding must be refused with a message containing TEXT). A file without a line fails.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_outcome.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::string expect_path, target;
  std::vector<std::string> files;
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    if (a == "--expect" && k + 1 < argc) {
      expect_path = argv[++k];
    } else if (a == "--target" && k + 1 < argc) {
      target = argv[++k];
    } else {
      files.push_back(a);
    }
  }
  // TARGET FILE reached=STAGE | refused=TEXT (TEXT: the rest of the line)
  std::map<std::string, std::string> expected;
  if (!expect_path.empty()) {
    std::ifstream in(expect_path);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", expect_path.c_str());
      return 1;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream is(line);
      std::string t, file, rest;
      is >> t >> file;
      std::getline(is >> std::ws, rest);
      if (t == target) expected[file] = rest;
    }
  }
  int failures = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    const mlpot_fuzz::Outcome& o = mlpot_fuzz::outcome();
    const std::string name = path.substr(path.find_last_of('/') + 1);
    std::printf("replayed %s (%zu bytes): reached '%s', refused '%s'\n", name.c_str(), bytes.size(), o.reached.c_str(),
                o.refused.c_str());
    if (expect_path.empty()) continue;
    auto it = expected.find(name);
    bool ok = false;
    if (it == expected.end()) {
      std::printf("FAIL %s: no expectation for target %s in %s\n", name.c_str(), target.c_str(), expect_path.c_str());
    } else if (it->second.rfind("reached=", 0) == 0) {
      ok = o.reached == it->second.substr(8) && o.refused.empty();
      if (!ok) std::printf("FAIL %s: expected to reach '%s' unrefused\n", name.c_str(), it->second.substr(8).c_str());
    } else if (it->second.rfind("refused=", 0) == 0) {
      ok = !o.refused.empty() && o.refused.find(it->second.substr(8)) != std::string::npos;
      if (!ok) std::printf("FAIL %s: expected a refusal containing '%s'\n", name.c_str(), it->second.substr(8).c_str());
    } else {
      std::printf("FAIL %s: bad expectation '%s'\n", name.c_str(), it->second.c_str());
    }
    failures += !ok;
  }
  std::printf("%zu passed, %d failed\n", files.size() - size_t(failures), failures);
  return failures ? 1 : 0;
}
