#pragma once
// A profiling tool over a benchmark's extra steps (mlpot bench --kernel-times, --torch-profile):
// it records between start() and stop(), and table() reports what it saw per step.
#include <string>

namespace mlpot {

class StepProfiler {
 public:
  virtual ~StepProfiler() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  // What the `steps` recorded steps did, against their summed wall time `step_seconds`.
  virtual std::string table(int steps, double step_seconds) const = 0;
};

}  // namespace mlpot
