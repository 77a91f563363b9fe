#include "torch_profile.hpp"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "mlpot/error.hpp"

namespace mlpot {

namespace prof = torch::autograd::profiler;
namespace impl = torch::profiler::impl;

struct TorchProfile::Data {
  bool cuda = false;
  bool running = false;
  struct Row {
    double ns = 0.0;
    long calls = 0;
  };
  std::map<std::string, Row> gpu, cpu;
};

TorchProfile::TorchProfile(bool cuda) : d_(new Data) { d_->cuda = cuda; }

TorchProfile::~TorchProfile() {
  if (d_->running) prof::disableProfiler();
}

namespace {
std::set<impl::ActivityType> activities(bool cuda) {
  std::set<impl::ActivityType> a{impl::ActivityType::CPU};
  if (cuda) a.insert(impl::ActivityType::CUDA);
  return a;
}
impl::ProfilerConfig config() { return impl::ProfilerConfig(impl::ProfilerState::KINETO); }
}  // namespace

void TorchProfile::start() {
  prof::prepareProfiler(config(), activities(d_->cuda));
  prof::enableProfiler(config(), activities(d_->cuda));
  d_->running = true;
}

void TorchProfile::stop() {
  if (!d_->running) throw Error("torch profile: stop() without start()");
  std::unique_ptr<prof::ProfilerResult> result = prof::disableProfiler();
  d_->running = false;
  for (const prof::KinetoEvent& e : result->events()) {
    auto& group = e.deviceType() == c10::DeviceType::CUDA ? d_->gpu : d_->cpu;
    Data::Row& row = group[e.name()];
    row.ns += double(e.durationNs());
    row.calls += 1;
  }
}

std::string TorchProfile::table(int steps, double step_seconds) const {
  const int rows = 25;
  std::string s;
  char line[512];
  auto group = [&](const std::map<std::string, Data::Row>& g, const char* title) {
    std::vector<std::pair<std::string, Data::Row>> v(g.begin(), g.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
    // Totals, and what TorchScript's fuser made of the graph: its generated kernels are named
    // fused_<ops> (NNC) and its groups run as TensorExprGroup operators. Whether the executor
    // fused the element-wise chains at all is the first question about a step of many small kernels.
    double total_ns = 0.0, fused_ns = 0.0;
    long calls = 0, fused_calls = 0, fused_names = 0;
    for (const auto& [name, r] : v) {
      total_ns += r.ns;
      calls += r.calls;
      if (name.rfind("fused_", 0) == 0 || name.find("TensorExpr") != std::string::npos ||
          name.find("FusionGroup") != std::string::npos) {
        fused_ns += r.ns;
        fused_calls += r.calls;
        ++fused_names;
      }
    }
    std::snprintf(line, sizeof line, "%s: %zu names, %.1f calls and %.1f us per step (steps' wall time %.1f us/step)\n",
                  title, v.size(), double(calls) / steps, total_ns * 1e-3 / steps, step_seconds * 1e6 / steps);
    s += line;
    std::snprintf(line, sizeof line, "  fused by TorchScript: %ld names, %.1f calls and %.1f us per step\n", fused_names,
                  double(fused_calls) / steps, fused_ns * 1e-3 / steps);
    s += line;
    s += "  calls/step    us/step  share  name\n";
    for (size_t k = 0; k < v.size() && int(k) < rows; ++k) {
      std::string name = v[k].first;
      if (name.size() > 100) name = name.substr(0, 97) + "...";
      std::snprintf(line, sizeof line, "  %10.2f %10.1f %5.1f%%  %s\n", double(v[k].second.calls) / steps,
                    v[k].second.ns * 1e-3 / steps, 100.0 * v[k].second.ns * 1e-9 / step_seconds, name.c_str());
      s += line;
    }
  };
  if (d_->cuda) group(d_->gpu, "GPU (kernels, copies, fills; GPU time)");
  group(d_->cpu, "CPU (operators, inclusive: rows overlap)");
  return s;
}

}  // namespace mlpot
