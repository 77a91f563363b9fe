#pragma once
// Per-kernel wall times of a benchmark's steps (mlpot bench --kernel-times yes), through
// Kokkos' tool callbacks: every Kokkos kernel (parallel_for/reduce/scan) and deep copy between
// start() and stop() is fenced before and after and timed, so asynchronous GPU kernels are
// timed whole, launch included; allocations are counted. The fences slow the steps down, so
// the bench times its steps without this and runs extra steps for the table. Only Kokkos work
// is seen (not Thrust or LibTorch kernels).
#include <string>

#include "mlpot/step_profiler.hpp"

namespace mlpot::cli {

class KernelTimes : public StepProfiler {
 public:
  KernelTimes();
  ~KernelTimes() override;
  KernelTimes(const KernelTimes&) = delete;
  KernelTimes& operator=(const KernelTimes&) = delete;
  void start() override;
  void stop() override;
  // One row per kernel name: calls and microseconds per step, share of the steps' wall time
  // `step_seconds` (the summed wall time of the `steps` recorded steps), longest first.
  std::string table(int steps, double step_seconds) const override;
};

}  // namespace mlpot::cli
