#include <Kokkos_Core.hpp>
#include <algorithm>

#include "mlpot/error.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mtp_backends.hpp"
#include "../core/text_lexer.hpp"

namespace mlpot {

std::vector<std::string> available_backends() {
  std::vector<std::string> out;
#ifdef KOKKOS_ENABLE_SERIAL
  out.push_back("Serial");
#endif
#ifdef KOKKOS_ENABLE_OPENMP
  out.push_back("OpenMP");
#endif
#ifdef KOKKOS_ENABLE_CUDA
  out.push_back("Cuda");
#endif
  return out;
}

std::string default_backend() {
  auto all = available_backends();
  for (const char* pref : {"Cuda", "OpenMP", "Serial"}) {
    if (std::find(all.begin(), all.end(), pref) != all.end()) return pref;
  }
  throw Error("no Kokkos backend compiled in");
}

MtpPrecision parse_mtp_precision(const std::string& name) {
  const std::string n = detail::lower(name);
  if (n == "double") return MtpPrecision::Double;
  if (n == "mixed") return MtpPrecision::Mixed;
  throw Error("unknown MTP precision '" + name + "' (expected double or mixed)");
}

const char* precision_name(MtpPrecision precision) {
  return precision == MtpPrecision::Mixed ? "mixed" : "double";
}

std::unique_ptr<MtpPotential> make_mtp_potential(const MtpModel& model, const std::string& backend,
                                                 MtpPrecision precision) {
  if (!Kokkos::is_initialized()) throw Error("Kokkos is not initialised (create an mlpot::KokkosRuntime first)");
  std::string b = detail::lower(backend == "default" ? default_backend() : backend);
  const bool mixed = precision == MtpPrecision::Mixed;
  std::unique_ptr<MtpPotential> p;
  if (b == "serial") p = mixed ? kokkos::make_mtp_serial<float>(model) : kokkos::make_mtp_serial<double>(model);
  else if (b == "openmp") p = mixed ? kokkos::make_mtp_openmp<float>(model) : kokkos::make_mtp_openmp<double>(model);
  else if (b == "cuda") p = mixed ? kokkos::make_mtp_cuda<float>(model) : kokkos::make_mtp_cuda<double>(model);
  if (!p) {
    std::string avail;
    for (const auto& a : available_backends()) avail += (avail.empty() ? "" : ", ") + a;
    throw Error("backend '" + backend + "' is not available in this build (available: " + avail + ")");
  }
  return p;
}

KokkosRuntime::KokkosRuntime(int threads) {
  if (Kokkos::is_initialized()) return;
  Kokkos::InitializationSettings settings;
  if (threads > 0) settings.set_num_threads(threads);
  // Kokkos' advice on OMP_PROC_BIND is for tuning runs; it would only clutter tool output.
  settings.set_disable_warnings(true);
  Kokkos::initialize(settings);
  owner_ = true;
}

KokkosRuntime::~KokkosRuntime() {
  // A host program (LAMMPS at exit, for one) may already have finalised Kokkos for us.
  if (owner_ && Kokkos::is_initialized() && !Kokkos::is_finalized()) Kokkos::finalize();
}

}  // namespace mlpot
