// What a fuzz target did with its last input: the last stage it completed and the message of
// the mlpot::Error that refused it, if one did. libFuzzer ignores this; the suite's replay
// (replay_main.cpp) checks it against tests/fuzz/inputs/expected.txt, so that a valid seed
// that began to be refused, or a finding refused for another reason, fails the replay.
#pragma once
#include <string>

#include "mlpot/error.hpp"

namespace mlpot_fuzz {

struct Outcome {
  std::string reached;  // the last stage completed ("" before the first)
  std::string refused;  // the first refusal's message ("" if none)
};

inline Outcome& outcome() {
  static Outcome o;
  return o;
}

inline void start() { outcome() = Outcome{}; }
inline void reached(const char* stage) { outcome().reached = stage; }
inline void refused(const mlpot::Error& e) {
  if (outcome().refused.empty()) outcome().refused = mlpot::error_message(e);
}

}  // namespace mlpot_fuzz
