#pragma once
// Factory for the Kokkos MTP potential.
#include <memory>
#include <string>
#include <vector>

#include "mlpot/mtp_model.hpp"
#include "mlpot/potential.hpp"

namespace mlpot {

// Execution spaces compiled into this build, e.g. {"Serial", "OpenMP"} or {"Serial", "Cuda"}.
std::vector<std::string> available_backends();
// The fastest available backend: Cuda, else OpenMP, else Serial.
std::string default_backend();

// Kokkos must be initialised (see KokkosRuntime). `backend` is one of available_backends(),
// case-insensitive, or "default".
std::unique_ptr<Potential> make_mtp_potential(const MtpModel& model, const std::string& backend = "default");

// Initialises Kokkos for the lifetime of the object unless it is already initialised
// (as inside LAMMPS-Kokkos). `threads` <= 0 keeps Kokkos' default.
class KokkosRuntime {
 public:
  explicit KokkosRuntime(int threads = 0);
  ~KokkosRuntime();
  KokkosRuntime(const KokkosRuntime&) = delete;
  KokkosRuntime& operator=(const KokkosRuntime&) = delete;

 private:
  bool owner_ = false;
};

}  // namespace mlpot
