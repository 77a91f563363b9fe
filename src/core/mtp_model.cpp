#include "mlpot/mtp_model.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "mlpot/error.hpp"
#include "mlpot/model_file.hpp"
#include "text_lexer.hpp"

namespace mlpot {

using detail::Lexer;

namespace {

const char* const kKnownBases[] = {"RBChebyshev",       "RBChebyshev_repuls", "BChebyshev",
                                   "BChebyshev_repuls", "RBShapeev",          "RBTaylor"};

const char* const kMagneticRefusal =
    "magnetic MTP (mMTP: magnetic_basis_type) is not supported: its energy depends on each atom's magnetic "
    "moment, an input that mlpot's structure files and pair styles do not carry";

std::string fmt_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// "{{0, 1, 2, 3}, ...}" with exactly 4 integers per entry.
std::vector<std::array<int, 4>> read_quads(Lexer& lx, const char* what) {
  std::vector<std::array<int, 4>> out;
  lx.expect("{", what);
  if (lx.peek() == "}") {
    lx.word(what);
    return out;
  }
  for (;;) {
    int line = lx.line();
    std::vector<long> q = lx.integer_list(what);
    if (q.size() != 4) {
      throw InputError(lx.source(), line,
                       std::string("each entry of ") + what + " needs 4 integers, found " +
                           std::to_string(q.size()));
    }
    for (long v : q) {
      if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
        throw InputError(lx.source(), line, std::string("entry of ") + what + " out of range: " + std::to_string(v));
      }
    }
    out.push_back({int(q[0]), int(q[1]), int(q[2]), int(q[3])});
    std::string sep = lx.word(what);
    if (sep == "}") break;
    if (sep != ",") lx.fail(std::string("expected ',' or '}' in ") + what + ", found '" + sep + "'");
  }
  return out;
}

void check_count(const Lexer& lx, int line, const char* what, size_t got, long want, const char* because) {
  if (static_cast<long>(got) != want) {
    throw InputError(lx.source(), line,
                     std::string(what) + " has " + std::to_string(got) + " entries but " + because +
                         " = " + std::to_string(want));
  }
}

}  // namespace

// Both sum file integers, in 64 bits: a file may hold any int there (require_evaluable()
// bounds the rank the kernels take), and the sums are clamped to int.
int MtpModel::max_tensor_rank() const {
  long long r = 0;
  for (const auto& b : alpha_index_basic) r = std::max(r, 0LL + b[1] + b[2] + b[3]);
  return int(std::min<long long>(r, std::numeric_limits<int>::max()));
}

int MtpModel::level() const {
  std::vector<long long> lev(alpha_moments_count, 0);
  for (size_t b = 0; b < alpha_index_basic.size(); ++b) {
    const auto& q = alpha_index_basic[b];
    lev[b] = 2 + 4LL * q[0] + q[1] + q[2] + q[3];
  }
  // Saturating: a chain of products that square their input doubles the level each time.
  const long long top = std::numeric_limits<int>::max();
  for (auto& l : lev) l = std::min(l, top);
  for (const auto& t : alpha_index_times) lev[t[3]] = std::min(lev[t[0]] + lev[t[1]], top);
  long long level = 0;
  for (int m : alpha_moment_mapping) level = std::max(level, lev[m]);
  return int(std::min<long long>(level, std::numeric_limits<int>::max()));
}

MtpModel parse_mtp(const std::string& full_text, const std::string& source) {
  MtpModel m;
  m.source = source;
  // The potential text ends at the first '#' (MLIP-3 .almtp) or '^' (MLIP-2 .als); the
  // selection state follows.
  size_t hash = full_text.find_first_of("#^");
  std::string text = full_text.substr(0, hash);
  if (hash != std::string::npos) {
    m.selection_state = full_text.substr(hash);
    m.selection_offset = hash;
    m.selection_line = 1 + int(std::count(text.begin(), text.end(), '\n'));
  }

  Lexer lx(text, source);
  if (lx.at_end()) lx.fail("empty model file");
  std::string first = lx.word("'MTP'");
  if (is_zip_archive(first)) {
    // Most likely a MACE model given where an MTP belongs.
    lx.fail("not an MTP model: the file is a zip archive, as PyTorch writes them (a MACE model belongs to "
            "pair_style mace)");
  }
  if (first != "MTP") lx.fail("not an MTP model: expected 'MTP' on the first line, found '" + first + "'");
  lx.expect_key("version");
  int vline = lx.line();
  std::string version = lx.word("the version");
  if (version != "1.1.0") {
    throw InputError(source, vline, "unsupported MTP file version '" + version + "' (mlpot reads version 1.1.0)");
  }

  // Optional header fields, then the radial basis.
  for (;;) {
    int line = lx.line();
    std::string key = lx.word("'radial_basis_type'");
    if (key == "radial_basis_type") break;
    if (key == "potential_tag") {
      lx.expect("=", "the line 'potential_tag = ...'");
      m.has_potential_tag = true;
      m.potential_tag = lx.rest_of_line();
      continue;
    }
    lx.expect("=", ("the line '" + key + " = ...'").c_str());
    if (key == "potential_name") {
      m.potential_name = lx.word("potential_name");
    } else if (key == "scaling") {
      m.has_scaling = true;
      m.scaling = lx.number("scaling");
    } else if (key == "species_count") {
      long c = lx.integer("species_count");
      if (c < 0 || c > 1000) throw InputError(source, line, "species_count = " + std::to_string(c) + " is out of range");
      m.species_count = int(c);
    } else if (key == "magnetic_basis_type") {
      throw InputError(source, line, kMagneticRefusal);
    } else {
      throw InputError(source, line, "unknown field '" + key + "' in the MTP header");
    }
  }
  {
    lx.expect("=", "the line 'radial_basis_type = ...'");
    int line = lx.line();
    m.radial_basis_type = lx.word("the radial basis type");
    bool known = std::find(std::begin(kKnownBases), std::end(kKnownBases), m.radial_basis_type) != std::end(kKnownBases);
    if (!known) {
      throw InputError(source, line, "unknown radial basis type '" + m.radial_basis_type +
                                         "' (MLIP's are RBChebyshev, RBChebyshev_repuls, BChebyshev, "
                                         "BChebyshev_repuls, RBShapeev, RBTaylor)");
    }
  }
  bool have_min = false, have_max = false, have_size = false;
  for (;;) {
    int line = lx.line();
    std::string key = lx.word("'radial_funcs_count'");
    if (key == "radial_funcs_count") break;
    if (key == "magnetic_basis_type") throw InputError(source, line, kMagneticRefusal);
    lx.expect("=", ("the line '" + key + " = ...'").c_str());
    if (key == "scaling") {
      double s = lx.number("the basis scaling");
      m.scaling *= s;
      m.has_scaling = true;
    } else if (key == "min_dist" || key == "min_val" || key == "min") {
      m.min_dist = lx.number("min_dist");
      have_min = true;
    } else if (key == "max_dist" || key == "max_val" || key == "max") {
      m.max_dist = lx.number("max_dist");
      have_max = true;
    } else if (key == "radial_basis_size" || key == "basis_size" || key == "size") {
      long r = lx.integer("radial_basis_size");
      if (r < 2 || r > 64) throw InputError(source, line, "radial_basis_size = " + std::to_string(r) + " is out of range [2, 64]");
      m.radial_basis_size = int(r);
      have_size = true;
    } else {
      throw InputError(source, line, "unknown field '" + key + "' in the radial basis");
    }
  }
  if (!have_min || !have_max || !have_size) {
    lx.fail("the radial basis needs min_dist, max_dist and radial_basis_size before radial_funcs_count");
  }
  if (!(m.max_dist > m.min_dist) || m.min_dist < 0) {
    lx.fail("radial basis needs 0 <= min_dist < max_dist (got " + fmt_double(m.min_dist) + ", " + fmt_double(m.max_dist) + ")");
  }
  lx.expect("=", "the line 'radial_funcs_count = ...'");
  {
    long k = lx.integer("radial_funcs_count");
    if (k < 1 || k > 64) lx.fail("radial_funcs_count = " + std::to_string(k) + " is out of range [1, 64]");
    m.radial_funcs_count = int(k);
  }

  const int C = m.species_count, K = m.radial_funcs_count, R = m.radial_basis_size;
  if (lx.peek() == "radial_coeffs") {
    int coeffs_line = lx.line();
    lx.word("radial_coeffs");
    if (C == 0) throw InputError(source, coeffs_line, "radial_coeffs given but species_count is 0 or missing");
    m.radial_coeffs.reserve(size_t(C) * C * K * R);
    m.species_labels.assign(C, -1);
    for (int s1 = 0; s1 < C; ++s1) {
      for (int s2 = 0; s2 < C; ++s2) {
        int line = lx.line();
        std::string header = lx.peek();
        size_t dash = header.find('-', 1);
        bool ok1 = false, ok2 = false;
        long a = dash == std::string::npos ? 0 : detail::parse_long(header.substr(0, dash), &ok1);
        long b = dash == std::string::npos ? 0 : detail::parse_long(header.substr(dash + 1), &ok2);
        if (!ok1 || !ok2) {
          throw InputError(source, line,
                           "radial_coeffs: expected block header '" + std::to_string(s1) + "-" +
                               std::to_string(s2) + "' (species_count = " + std::to_string(C) + " needs " +
                               std::to_string(C * C) + " blocks), found '" + header + "'");
        }
        lx.word("radial_coeffs block header");
        // Labels come from the first row of blocks ("L0-Ls2"); every later header must agree.
        if (s1 == 0) {
          if (s2 == 0) m.species_labels[0] = int(a);
          m.species_labels[s2] = int(b);
        }
        if (a != m.species_labels[s1] || b != m.species_labels[s2]) {
          throw InputError(source, line,
                           "radial_coeffs: found block header '" + header + "' where block " + std::to_string(s1) +
                               "-" + std::to_string(s2) + " was expected (species_count = " + std::to_string(C) +
                               " needs " + std::to_string(C * C) + " blocks)");
        }
        for (int mu = 0; mu < K; ++mu) {
          int lline = lx.line();
          if (lx.peek() != "{") {
            throw InputError(source, lline,
                             "radial_coeffs block '" + header + "' has " + std::to_string(mu) +
                                 " rows but radial_funcs_count = " + std::to_string(K));
          }
          std::vector<double> row = lx.number_list("radial_coeffs");
          if (int(row.size()) != R) {
            throw InputError(source, lline,
                             "radial_coeffs row has " + std::to_string(row.size()) +
                                 " values but radial_basis_size = " + std::to_string(R));
          }
          m.radial_coeffs.insert(m.radial_coeffs.end(), row.begin(), row.end());
        }
      }
    }
    if (lx.peek() == "{") {
      lx.fail("radial_coeffs has more rows than species_count = " + std::to_string(C) +
              " and radial_funcs_count = " + std::to_string(K) + " allow");
    }
    if (lx.peek() != "alpha_moments_count" && lx.peek().find('-') != std::string::npos) {
      lx.fail("radial_coeffs has more blocks than species_count = " + std::to_string(C) + " allows (" +
              std::to_string(C * C) + ")");
    }
  }

  lx.expect_key("alpha_moments_count");
  long count = lx.integer("alpha_moments_count");
  if (count < 1 || count > 10000000) lx.fail("alpha_moments_count = " + std::to_string(count) + " is out of range");
  m.alpha_moments_count = int(count);
  lx.expect_key("alpha_index_basic_count");
  long basic_count = lx.integer("alpha_index_basic_count");
  lx.expect_key("alpha_index_basic");
  int line = lx.line();
  m.alpha_index_basic = read_quads(lx, "alpha_index_basic");
  check_count(lx, line, "alpha_index_basic", m.alpha_index_basic.size(), basic_count, "alpha_index_basic_count");
  lx.expect_key("alpha_index_times_count");
  long times_count = lx.integer("alpha_index_times_count");
  lx.expect_key("alpha_index_times");
  line = lx.line();
  m.alpha_index_times = read_quads(lx, "alpha_index_times");
  check_count(lx, line, "alpha_index_times", m.alpha_index_times.size(), times_count, "alpha_index_times_count");
  lx.expect_key("alpha_scalar_moments");
  long scalar_count = lx.integer("alpha_scalar_moments");
  lx.expect_key("alpha_moment_mapping");
  line = lx.line();
  std::vector<long> mapping = lx.integer_list("alpha_moment_mapping");
  check_count(lx, line, "alpha_moment_mapping", mapping.size(), scalar_count, "alpha_scalar_moments");

  // Consistency of the basis, checked here so the kernels can trust every index.
  int max_mu = -1;
  for (const auto& q : m.alpha_index_basic) {
    if (q[0] < 0 || q[0] >= K || q[1] < 0 || q[2] < 0 || q[3] < 0) {
      lx.fail("alpha_index_basic entry {" + std::to_string(q[0]) + ", " + std::to_string(q[1]) + ", " +
              std::to_string(q[2]) + ", " + std::to_string(q[3]) + "} is out of range (radial_funcs_count = " +
              std::to_string(K) + ")");
    }
    max_mu = std::max(max_mu, q[0]);
  }
  if (!m.alpha_index_basic.empty() && max_mu != K - 1) {
    lx.fail("alpha_index_basic uses radial functions 0.." + std::to_string(max_mu) +
            " but radial_funcs_count = " + std::to_string(K));
  }
  if (int(m.alpha_index_basic.size()) > m.alpha_moments_count) lx.fail("alpha_index_basic_count exceeds alpha_moments_count");
  // MLIP evaluates the entries in file order, so a moment must be complete before an entry reads
  // it: no entry may add to a moment that an earlier entry has read. (Our kernels sum each
  // moment's entries in parallel by level, which equals file order only for such files.)
  std::vector<char> read(size_t(std::max(m.alpha_moments_count, 0)), 0);
  for (const auto& t : m.alpha_index_times) {
    bool ok = t[0] >= 0 && t[1] >= 0 && t[3] >= int(m.alpha_index_basic.size()) && t[3] < m.alpha_moments_count &&
              t[0] < t[3] && t[1] < t[3] && !read[size_t(t[3])];
    if (!ok) {
      lx.fail("alpha_index_times entry {" + std::to_string(t[0]) + ", " + std::to_string(t[1]) + ", " +
              std::to_string(t[2]) + ", " + std::to_string(t[3]) + "} is out of range or not in evaluation order");
    }
    read[size_t(t[0])] = read[size_t(t[1])] = 1;
  }
  for (long q : mapping) {
    if (q < 0 || q >= m.alpha_moments_count) lx.fail("alpha_moment_mapping index " + std::to_string(q) + " is out of range");
    m.alpha_moment_mapping.push_back(int(q));
  }

  if (lx.peek() == "species_coeffs") {
    lx.expect_key("species_coeffs");
    line = lx.line();
    m.species_coeffs = lx.number_list("species_coeffs");
    check_count(lx, line, "species_coeffs", m.species_coeffs.size(), C, "species_count");
  }
  if (lx.peek() == "moment_coeffs") {
    lx.expect_key("moment_coeffs");
    line = lx.line();
    m.moment_coeffs = lx.number_list("moment_coeffs");
    check_count(lx, line, "moment_coeffs", m.moment_coeffs.size(), scalar_count, "alpha_scalar_moments");
  }
  if (!lx.at_end()) lx.fail("unexpected '" + lx.peek() + "' after the end of the MTP model");
  if (m.trained() && m.species_coeffs.empty()) {
    lx.fail("species_coeffs missing: a trained model needs species_coeffs and moment_coeffs");
  }
  return m;
}

MtpModel read_mtp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open model file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_mtp(ss.str(), path);
}

std::string format_mtp(const MtpModel& m) {
  std::ostringstream o;
  auto list = [&](const std::vector<double>& v) {
    o << '{';
    for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << fmt_double(v[i]);
    o << '}';
  };
  auto quads = [&](const std::vector<std::array<int, 4>>& v) {
    o << '{';
    for (size_t i = 0; i < v.size(); ++i) {
      o << (i ? ", " : "") << '{' << v[i][0] << ", " << v[i][1] << ", " << v[i][2] << ", " << v[i][3] << '}';
    }
    o << '}';
  };
  o << "MTP\nversion = 1.1.0\n";
  if (!m.potential_name.empty()) o << "potential_name = " << m.potential_name << '\n';
  if (m.has_scaling) o << "scaling = " << fmt_double(m.scaling) << '\n';
  if (m.species_count > 0) o << "species_count = " << m.species_count << '\n';
  if (m.has_potential_tag) o << "potential_tag = " << m.potential_tag << '\n';
  o << "radial_basis_type = " << m.radial_basis_type << '\n';
  o << "\tmin_dist = " << fmt_double(m.min_dist) << '\n';
  o << "\tmax_dist = " << fmt_double(m.max_dist) << '\n';
  o << "\tradial_basis_size = " << m.radial_basis_size << '\n';
  o << "\tradial_funcs_count = " << m.radial_funcs_count << '\n';
  if (!m.radial_coeffs.empty()) {
    const int C = m.species_count, K = m.radial_funcs_count, R = m.radial_basis_size;
    o << "\tradial_coeffs\n";
    for (int s1 = 0; s1 < C; ++s1) {
      for (int s2 = 0; s2 < C; ++s2) {
        int a = m.species_labels.empty() ? s1 : m.species_labels[s1];
        int b = m.species_labels.empty() ? s2 : m.species_labels[s2];
        o << "\t\t" << a << '-' << b << '\n';
        for (int mu = 0; mu < K; ++mu) {
          o << "\t\t\t";
          auto first = m.radial_coeffs.begin() + ((size_t(s1) * C + s2) * K + mu) * R;
          list(std::vector<double>(first, first + R));
          o << '\n';
        }
      }
    }
  }
  o << "alpha_moments_count = " << m.alpha_moments_count << '\n';
  o << "alpha_index_basic_count = " << m.alpha_index_basic.size() << '\n';
  o << "alpha_index_basic = ";
  quads(m.alpha_index_basic);
  o << "\nalpha_index_times_count = " << m.alpha_index_times.size() << '\n';
  o << "alpha_index_times = ";
  quads(m.alpha_index_times);
  o << "\nalpha_scalar_moments = " << m.alpha_moment_mapping.size() << '\n';
  o << "alpha_moment_mapping = {";
  for (size_t i = 0; i < m.alpha_moment_mapping.size(); ++i) o << (i ? ", " : "") << m.alpha_moment_mapping[i];
  o << "}\n";
  if (!m.species_coeffs.empty()) {
    o << "species_coeffs = ";
    list(m.species_coeffs);
    o << '\n';
  }
  if (!m.moment_coeffs.empty()) {
    o << "moment_coeffs = ";
    list(m.moment_coeffs);
    o << '\n';
  }
  return o.str();
}

std::string format_almtp(const MtpModel& m) {
  std::string text = format_mtp(m);
  if (m.selection_state.empty()) return text;
  // MLIP-3 writes the potential without a trailing newline, then "\n#MVS_v1.1\n...".
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text + "\n" + m.selection_state;
}

void write_mtp(const MtpModel& model, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(path + ": cannot write model file");
  out << format_mtp(model);
  if (!out) throw Error(path + ": write failed");
}

bool same_potential(const MtpModel& a, const MtpModel& b) {
  return a.scaling == b.scaling && a.species_count == b.species_count && a.radial_basis_type == b.radial_basis_type &&
         a.min_dist == b.min_dist && a.max_dist == b.max_dist && a.radial_basis_size == b.radial_basis_size &&
         a.radial_funcs_count == b.radial_funcs_count && a.radial_coeffs == b.radial_coeffs &&
         a.alpha_moments_count == b.alpha_moments_count && a.alpha_index_basic == b.alpha_index_basic &&
         a.alpha_index_times == b.alpha_index_times && a.alpha_moment_mapping == b.alpha_moment_mapping &&
         a.species_coeffs == b.species_coeffs && a.moment_coeffs == b.moment_coeffs;
}

void require_evaluable(const MtpModel& m) {
  // MLIP-3 defines RBShapeev's functions for n < 12 only (basis.cpp's table).
  if (m.radial_basis_type == "RBShapeev" && m.radial_basis_size > 12) {
    throw Error(m.source + ": radial basis 'RBShapeev' with radial_basis_size = " + std::to_string(m.radial_basis_size) +
                ": MLIP-3 defines RBShapeev for at most 12 functions");
  }
  if (m.species_count < 1) throw Error(m.source + ": species_count is missing or 0 (an untrained template cannot be evaluated)");
  if (!m.trained()) throw Error(m.source + ": model has no radial_coeffs/moment_coeffs (an untrained template cannot be evaluated)");
  // The kernels' product tables hold a term's two moment indices in 32 bits and its
  // multiplicity in 16 (a GPU warp reads a term in one go; mtp_parameters.hpp).
  if (m.alpha_moments_count > 65536) {
    throw Error(m.source + ": alpha_moments_count = " + std::to_string(m.alpha_moments_count) +
                " is more than the 65536 moments mlpot evaluates (MLIP's largest template, level 28, has 17366)");
  }
  // The kernels tabulate every monomial up to the largest rank: (r+1)(r+2)(r+3)/6 of them.
  if (m.max_tensor_rank() > 32) {
    throw Error(m.source + ": alpha_index_basic has a tensor of rank " + std::to_string(m.max_tensor_rank()) +
                ", more than the 32 mlpot evaluates (MLIP's largest template, level 28, needs 10)");
  }
  for (const auto& t : m.alpha_index_times) {
    if (t[2] < -32768 || t[2] > 32767) {
      throw Error(m.source + ": alpha_index_times entry {" + std::to_string(t[0]) + ", " + std::to_string(t[1]) + ", " +
                  std::to_string(t[2]) + ", " + std::to_string(t[3]) +
                  "} has a multiplicity outside the 16 bits mlpot evaluates (MLIP's templates use at most 4200)");
    }
  }
}

}  // namespace mlpot
