#pragma once
// Errors raised by mlpot. Every error caused by input names where it came from
// (file and line, or atom index) so a user can fix the input without a debugger.
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

}  // namespace mlpot
