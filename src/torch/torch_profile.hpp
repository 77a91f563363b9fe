#pragma once
// Where a MACE step's time goes (mlpot bench --torch-profile yes): extra steps under LibTorch's
// own profiler (Kineto), its events grouped by name. On a GPU the table lists the CUDA kernels,
// copies and fills with their GPU time, which is what the step's launches cost the device; CPU
// rows are the interpreter's operators, timed inclusively (an operator includes the ones it
// calls), so they overlap and do not add up. Part of libmlpot_mace.so; callers reach it through
// MacePotential::torch_profiler.
#include <memory>
#include <string>

#include "mlpot/step_profiler.hpp"

namespace mlpot {

class TorchProfile : public StepProfiler {
 public:
  // cuda: also record the CUDA activity (kernels, copies) of the run.
  explicit TorchProfile(bool cuda);
  ~TorchProfile() override;
  TorchProfile(const TorchProfile&) = delete;
  TorchProfile& operator=(const TorchProfile&) = delete;
  void start() override;
  void stop() override;
  // GPU rows first (kernels per step, busy time per step against the steps' wall time), then the
  // CPU operators; the 25 longest per group, calls and microseconds per step.
  std::string table(int steps, double step_seconds) const override;

 private:
  struct Data;
  std::unique_ptr<Data> d_;
};

}  // namespace mlpot
