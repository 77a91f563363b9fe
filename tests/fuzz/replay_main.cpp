// A main for the libFuzzer targets without libFuzzer: runs LLVMFuzzerTestOneInput on each file
// named on the command line. The test suite builds every target with it (GCC, no sanitizers)
// and replays tests/fuzz/inputs/, so the targets keep compiling and what they found, and a
// valid file of each kind, go through the same checks on every run.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  for (int k = 1; k < argc; ++k) {
    std::ifstream in(argv[k], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[k]);
      return 1;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    std::printf("replayed %s (%zu bytes)\n", argv[k], bytes.size());
  }
  return 0;
}
