#include "text_lexer.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace mlpot::detail {

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_punct(char c) { return c == '{' || c == '}' || c == ',' || c == '='; }
}  // namespace

std::string trim(const std::string& s) {
  // The C locale's isspace() set, as std::istream's word splitting uses: a line that trims to
  // something then always has a first word.
  const char* space = " \t\r\n\v\f";
  const size_t a = s.find_first_not_of(space);
  if (a == std::string::npos) return {};
  const size_t b = s.find_last_not_of(space);
  return s.substr(a, b - a + 1);
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

double parse_double(const std::string& token, bool* ok) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(token.c_str(), &end);
  *ok = !token.empty() && end == token.c_str() + token.size() && errno != ERANGE;
  return v;
}

long parse_long(const std::string& token, bool* ok) {
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(token.c_str(), &end, 10);
  *ok = !token.empty() && end == token.c_str() + token.size() && errno != ERANGE;
  return v;
}

void Lexer::skip_space() {
  while (pos_ < text_.size() && is_space(text_[pos_])) {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }
}

std::string Lexer::peek() {
  skip_space();
  if (pos_ >= text_.size()) return {};
  if (is_punct(text_[pos_])) return std::string(1, text_[pos_]);
  size_t end = pos_;
  while (end < text_.size() && !is_space(text_[end]) && !is_punct(text_[end])) ++end;
  return text_.substr(pos_, end - pos_);
}

std::string Lexer::word(const char* what) {
  std::string w = peek();
  if (w.empty()) fail(std::string("file ends where ") + what + " was expected (truncated file?)");
  pos_ += w.size();
  return w;
}

void Lexer::expect(const std::string& token, const char* context) {
  std::string w = peek();
  if (w != token) {
    if (w.empty()) fail("file ends where '" + token + "' was expected in " + context + " (truncated file?)");
    fail("expected '" + token + "' in " + context + ", found '" + w + "'");
  }
  pos_ += w.size();
}

void Lexer::expect_key(const std::string& key) {
  expect(key, ("the line '" + key + " = ...'").c_str());
  expect("=", ("the line '" + key + " = ...'").c_str());
}

double Lexer::number(const char* what) {
  std::string w = word(what);
  bool ok = false;
  double v = parse_double(w, &ok);
  if (!ok) fail(std::string("expected a number for ") + what + ", found '" + w + "'");
  if (!std::isfinite(v)) fail(std::string("non-finite value '") + w + "' for " + what);
  return v;
}

long Lexer::integer(const char* what) {
  std::string w = word(what);
  bool ok = false;
  long v = parse_long(w, &ok);
  if (!ok) fail(std::string("expected an integer for ") + what + ", found '" + w + "'");
  return v;
}

std::string Lexer::rest_of_line() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  size_t end = text_.find('\n', pos_);
  if (end == std::string::npos) end = text_.size();
  std::string s = text_.substr(pos_, end - pos_);
  pos_ = end;
  while (!s.empty() && is_space(s.back())) s.pop_back();
  return s;
}

std::vector<double> Lexer::number_list(const char* what) {
  std::vector<double> out;
  expect("{", what);
  if (peek() == "}") {
    word(what);
    return out;
  }
  for (;;) {
    out.push_back(number(what));
    std::string sep = word(what);
    if (sep == "}") break;
    if (sep != ",") fail(std::string("expected ',' or '}' in ") + what + ", found '" + sep + "'");
  }
  return out;
}

std::vector<long> Lexer::integer_list(const char* what) {
  std::vector<long> out;
  expect("{", what);
  if (peek() == "}") {
    word(what);
    return out;
  }
  for (;;) {
    out.push_back(integer(what));
    std::string sep = word(what);
    if (sep == "}") break;
    if (sep != ",") fail(std::string("expected ',' or '}' in ") + what + ", found '" + sep + "'");
  }
  return out;
}

void Lexer::fail(const std::string& message) const { throw InputError(source_, line_, message); }

}  // namespace mlpot::detail
