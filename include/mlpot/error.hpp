#pragma once
// Errors raised by mlpot. Every error caused by input names where it came from
// (file and line, or atom index) so a user can fix the input without a debugger.
#include <new>
#include <stdexcept>
#include <string>

namespace mlpot {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error located in an input file: "FILE:LINE: message".
class InputError : public Error {
 public:
  InputError(const std::string& file, int line, const std::string& message)
      : Error(file + ":" + std::to_string(line) + ": " + message), file_(file), line_(line) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string file_;
  int line_;
};

// The message to show for any exception: e.what(), except that a failed host allocation, whose
// what() is only "std::bad_alloc", says what happened. (Kokkos' failed allocations name the
// View and the memory space themselves; LibTorch's name the device.)
inline std::string error_message(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) {
    return "out of host memory (an allocation failed: " + std::string(e.what()) +
           "); the system, its neighbour list or the model needs more memory than this process can get";
  }
  return e.what();
}

}  // namespace mlpot
