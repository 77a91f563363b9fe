#include "kernel_times.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

#include "mlpot/error.hpp"

namespace mlpot::cli {
namespace {

namespace kt = Kokkos::Tools::Experimental;
using Clock = std::chrono::steady_clock;

struct Row {
  long calls = 0;
  double seconds = 0.0;
};

// A kernel or copy being timed: its row's name and when it began.
using Open = std::pair<std::string, Clock::time_point>;

// Kokkos calls plain function pointers: the state is global, and one KernelTimes may exist.
struct State {
  bool exists = false;
  bool recording = false;
  std::map<std::string, Row> rows;
  std::map<uint64_t, Open> open;
  uint64_t next_id = 0;
  Open open_copy;
  long allocations = 0;
  double allocated_bytes = 0.0;
} g;

// Fenced at both ends: the work launched before is not counted, the work timed has finished.
Open start_timer(std::string name) {
  Kokkos::fence("mlpot::kernel_times");
  return {std::move(name), Clock::now()};
}

void stop_timer(const Open& o) {
  Kokkos::fence("mlpot::kernel_times");
  Row& r = g.rows[o.first];
  ++r.calls;
  r.seconds += std::chrono::duration<double>(Clock::now() - o.second).count();
}

void begin(const std::string& name, uint64_t* id) {
  *id = g.next_id++;
  // Kernels inside a deep copy (a fill) are the copy's time.
  if (!g.recording || !g.open_copy.first.empty()) return;
  g.open[*id] = start_timer(name);
}

void end(uint64_t id) {
  auto it = g.open.find(id);
  if (it == g.open.end()) return;
  stop_timer(it->second);
  g.open.erase(it);
}

void begin_for(const char* name, uint32_t, uint64_t* id) { begin(std::string("for    ") + name, id); }
void begin_reduce(const char* name, uint32_t, uint64_t* id) { begin(std::string("reduce ") + name, id); }
void begin_scan(const char* name, uint32_t, uint64_t* id) { begin(std::string("scan   ") + name, id); }

void begin_copy(Kokkos::Tools::SpaceHandle dst, const char* dst_name, const void*, Kokkos::Tools::SpaceHandle src, const char*, const void*,
                uint64_t) {
  if (!g.recording) return;
  g.open_copy = start_timer(std::string("copy   ") + src.name + " -> " + dst.name + " " + dst_name);
}

void end_copy() {
  if (!g.recording || g.open_copy.first.empty()) return;
  stop_timer(g.open_copy);
  g.open_copy.first.clear();
}

void allocate(Kokkos::Tools::SpaceHandle, const char*, const void*, uint64_t bytes) {
  if (!g.recording) return;
  ++g.allocations;
  g.allocated_bytes += double(bytes);
}

// Kokkos' tool callbacks: ours, or none.
void install_callbacks(bool on) {
  kt::set_begin_parallel_for_callback(on ? begin_for : nullptr);
  kt::set_end_parallel_for_callback(on ? end : nullptr);
  kt::set_begin_parallel_reduce_callback(on ? begin_reduce : nullptr);
  kt::set_end_parallel_reduce_callback(on ? end : nullptr);
  kt::set_begin_parallel_scan_callback(on ? begin_scan : nullptr);
  kt::set_end_parallel_scan_callback(on ? end : nullptr);
  kt::set_begin_deep_copy_callback(on ? begin_copy : nullptr);
  kt::set_end_deep_copy_callback(on ? end_copy : nullptr);
  kt::set_allocate_data_callback(on ? allocate : nullptr);
}

}  // namespace

KernelTimes::KernelTimes() {
  if (g.exists) throw Error("kernel timing is already active");
  g = State{};
  g.exists = true;
  install_callbacks(true);
}

KernelTimes::~KernelTimes() {
  install_callbacks(false);
  g = State{};
}

void KernelTimes::start() { g.recording = true; }
void KernelTimes::stop() {
  Kokkos::fence("mlpot::kernel_times");
  g.recording = false;
}

std::string KernelTimes::table(int steps, double step_seconds) const {
  std::vector<std::pair<std::string, Row>> rows(g.rows.begin(), g.rows.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "kernel times (Kokkos work of %d fenced steps, %.1f us/step in all)\n", steps,
                step_seconds / steps * 1e6);
  out += line;
  std::snprintf(line, sizeof line, "  %10s %10s %6s  %s\n", "calls/step", "us/step", "share", "kernel");
  out += line;
  double listed = 0.0;
  for (const auto& [name, r] : rows) {
    listed += r.seconds;
    std::snprintf(line, sizeof line, "  %10.2f %10.1f %5.1f%%  %s\n", double(r.calls) / steps, r.seconds / steps * 1e6,
                  100.0 * r.seconds / step_seconds, name.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "  %10s %10.1f %5.1f%%  (outside Kokkos kernels and copies)\n", "",
                (step_seconds - listed) / steps * 1e6, 100.0 * (step_seconds - listed) / step_seconds);
  out += line;
  std::snprintf(line, sizeof line, "  allocations per step: %.2f (%.3g bytes)\n", double(g.allocations) / steps,
                g.allocated_bytes / steps);
  out += line;
  return out;
}

}  // namespace mlpot::cli
