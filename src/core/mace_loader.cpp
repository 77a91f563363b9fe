// mlpot::open_mace: MACE support (LibTorch) is loaded from libmlpot_mace.so on first use, so that
// processes that run only MTP do not load LibTorch (include/mlpot/mace_potential.hpp).
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "mlpot/error.hpp"
#include "mlpot/mace_potential.hpp"

namespace mlpot {

namespace {

using OpenFn = void (*)(const std::string&, const MaceOptions&, std::unique_ptr<MacePotential>&);

const char* const kLibrary = "libmlpot_mace.so";

// Where to look: $MLPOT_MACE_LIBRARY, else beside the file holding this code (the mlpot
// executable in build/bin, or the LAMMPS plugin in build/lib) and in ../lib from there.
std::vector<std::string> candidates() {
  if (const char* env = std::getenv("MLPOT_MACE_LIBRARY"); env && *env) return {env};
  std::vector<std::string> paths;
  auto beside = [&](const char* file) {
    char* real = file ? realpath(file, nullptr) : nullptr;
    if (!real) return;
    std::string self = real;
    std::free(real);
    const std::string dir = self.substr(0, self.rfind('/'));
    for (const std::string& p : {dir + "/" + kLibrary, dir + "/../lib/" + kLibrary}) {
      if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
    }
  };
  // dladdr names a shared object by its path, but the executable by argv[0] as typed (which
  // may not be a path), so the executable is also found through /proc.
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&candidates), &info)) beside(info.dli_fname);
  beside("/proc/self/exe");
  return paths;
}

// Loaded once per process and never unloaded (LibTorch does not support being unloaded).
OpenFn load(const std::string& model_path) {
  static std::once_flag once;
  static OpenFn fn = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    std::string tried;
    for (const std::string& p : candidates()) {
      void* h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        const char* why = dlerror();
        tried += "\n  " + p + ": " + (why ? why : "not loadable");
        continue;
      }
      fn = reinterpret_cast<OpenFn>(dlsym(h, "mlpot_mace_open"));
      if (!fn) failure = p + " has no mlpot_mace_open";
      return;
    }
    failure = std::string("MACE support is not available: ") + kLibrary +
              " (built when mlpot is configured with LibTorch, MLPOT_TORCH_PREFIX) could not be loaded" + tried;
  });
  if (!fn) throw Error(model_path + ": " + failure);
  return fn;
}

}  // namespace

std::unique_ptr<MacePotential> open_mace(const std::string& path, const MaceOptions& options) {
  std::unique_ptr<MacePotential> out;
  load(path)(path, options, out);
  return out;
}

std::string host_heap_policy() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const size_t before = mallinfo2().hblks;
  void* volatile block = std::malloc(64u << 20);
  const size_t during = mallinfo2().hblks;
  std::free(block);
  return during > before ? "returns freed memory (glibc's default)" : "keeps freed memory";
#else
  return "unknown";
#endif
}

}  // namespace mlpot
