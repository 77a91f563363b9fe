#pragma once
// A small lexer over a whole text file that tracks line numbers, shared by the model and
// configuration readers so that every parse error says "FILE:LINE: what was expected".
#include <string>
#include <vector>

#include "mlpot/error.hpp"

namespace mlpot::detail {

class Lexer {
 public:
  Lexer(const std::string& text, std::string source) : text_(text), source_(std::move(source)) {}

  void skip_space();
  bool at_end() {
    skip_space();
    return pos_ >= text_.size();
  }
  int line() const { return line_; }
  const std::string& source() const { return source_; }
  // Next token: a run of characters other than whitespace and the punctuation "{},=".
  // Empty at end of text; a punctuation character is returned alone.
  std::string peek();
  std::string word(const char* what);
  void expect(const std::string& token, const char* context);
  void expect_key(const std::string& key);  // "key ="
  double number(const char* what);
  long integer(const char* what);
  // Rest of the current line after the cursor (spaces trimmed), without consuming the newline.
  std::string rest_of_line();
  // "{a, b, ...}" of doubles or integers; empty braces allowed.
  std::vector<double> number_list(const char* what);
  std::vector<long> integer_list(const char* what);
  [[noreturn]] void fail(const std::string& message) const;

 private:
  const std::string& text_;
  std::string source_;
  size_t pos_ = 0;
  int line_ = 1;
};

double parse_double(const std::string& token, bool* ok);
long parse_long(const std::string& token, bool* ok);
// The text without leading and trailing white space (the C locale's isspace() characters).
std::string trim(const std::string& s);
// ASCII lower case.
std::string lower(std::string s);

}  // namespace mlpot::detail
