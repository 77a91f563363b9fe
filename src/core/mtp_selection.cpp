#include "mlpot/mtp_selection.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "mlpot/error.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mlpot/structure_io.hpp"
#include "text_lexer.hpp"

namespace mlpot {

namespace {

// Walks the selection-state text (model.selection_state) and reports positions as lines of the
// model file (text parts) or byte offsets in it (binary parts).
class StateReader {
 public:
  explicit StateReader(const MtpModel& m) : s_(m.selection_state), m_(m) {}

  const std::string& text() const { return s_; }
  size_t pos() const { return pos_; }
  size_t left() const { return s_.size() - std::min(pos_, s_.size()); }
  int line_at(size_t p) const {
    return m_.selection_line + int(std::count(s_.begin(), s_.begin() + std::min(p, s_.size()), '\n'));
  }
  size_t byte_at(size_t p) const { return m_.selection_offset + p; }
  [[noreturn]] void fail_at(size_t p, const std::string& msg) const { throw InputError(m_.source, line_at(p), msg); }
  [[noreturn]] void fail(const std::string& msg) const { fail_at(pos_, msg); }
  [[noreturn]] void fail_binary(size_t p, const std::string& msg) const {
    throw Error(m_.source + ": byte " + std::to_string(byte_at(p)) + ": " + msg);
  }

  bool at(const char* lit) const { return s_.compare(pos_, std::strlen(lit), lit) == 0; }
  void expect(const char* lit, const std::string& what) {
    if (!at(lit)) {
      if (left() < std::strlen(lit)) fail("file ends where " + what + " was expected (truncated file?)");
      fail("expected " + what);
    }
    pos_ += std::strlen(lit);
  }
  // One text line (without its '\n'); `start` receives where it began.
  std::string line(size_t* start) {
    if (pos_ >= s_.size()) fail("file ends inside the selection state (truncated file?)");
    *start = pos_;
    size_t e = s_.find('\n', pos_);
    if (e == std::string::npos) e = s_.size();
    std::string l = s_.substr(pos_, e - pos_);
    pos_ = std::min(e + 1, s_.size());
    if (!l.empty() && l.back() == '\r') l.pop_back();
    return l;
  }
  // "key value" on a line of its own.
  std::string keyed(const char* key) {
    size_t start;
    std::string l = line(&start);
    std::istringstream in(l);
    std::string k, v, extra;
    in >> k >> v;
    if (k != key || v.empty() || (in >> extra)) {
      fail_at(start, std::string("expected '") + key + " <value>' in the selection state, found '" + l + "'");
    }
    return v;
  }
  double keyed_double(const char* key) {
    size_t start = pos_;
    std::string v = keyed(key);
    bool ok = false;
    double d = detail::parse_double(v, &ok);
    if (!ok || !std::isfinite(d)) fail_at(start, std::string("bad number '") + v + "' for " + key);
    return d;
  }
  void read_doubles(double* dst, size_t count, const std::string& what) {
    const size_t bytes = count * sizeof(double);
    if (left() < bytes) {
      fail_binary(pos_, "truncated " + what + ": " + std::to_string(bytes) + " bytes expected, the file has only " +
                            std::to_string(left()) + " left");
    }
    std::memcpy(dst, s_.data() + pos_, bytes);
    pos_ += bytes;
  }
  // The binary block must be followed by `marker`; if it is not, say what size it has.
  void expect_after_block(const char* marker, size_t block_start, long n) {
    if (at(marker)) {
      pos_ += std::strlen(marker);
      return;
    }
    for (size_t q = s_.find(marker, block_start); q != std::string::npos; q = s_.find(marker, q + 1)) {
      const size_t bytes = q - block_start;
      if (bytes == 0 || bytes % 16 != 0) continue;
      const long m = std::lround(std::sqrt(double(bytes / 16)));
      if (size_t(m) * size_t(m) * 16 == bytes) {
        fail_binary(block_start, "the selection matrices are " + std::to_string(m) + " x " + std::to_string(m) +
                                     " but the potential has n = " + std::to_string(n) +
                                     " parameters (state and potential do not belong together)");
      }
    }
    fail_binary(pos_, "malformed selection state: the matrix block (2 x " + std::to_string(n) + " x " +
                          std::to_string(n) + " doubles for the potential's n = " + std::to_string(n) +
                          " parameters) is not followed by its end marker");
  }
  std::array<int, 2> int_pair(const std::string& what) {
    size_t start;
    std::string l = line(&start);
    std::istringstream in(l);
    long a, b;
    std::string extra;
    if (!(in >> a >> b) || (in >> extra)) fail_at(start, "expected two integers (" + what + "), found '" + l + "'");
    return {int(a), int(b)};
  }

 private:
  const std::string& s_;
  const MtpModel& m_;
  size_t pos_ = 0;
};

GradeMode mode_from_weights(const SelectionState& st, const StateReader& r) {
  const bool e = st.energy_weight != 0, f = st.force_weight != 0, s = st.stress_weight != 0, nb = st.site_en_weight != 0;
  if (e && !f && !s && !nb) return GradeMode::Configuration;
  if (nb && !e && !f && !s) return GradeMode::Neighborhood;
  std::ostringstream o;
  o << "selection weights energy " << st.energy_weight << ", force " << st.force_weight << ", stress "
    << st.stress_weight << ", site energy " << st.site_en_weight
    << ": mlpot grades states selected by energy only (MLIP --al_mode=cfg) or by site energies only "
       "(--al_mode=nbh)";
  r.fail_at(0, o.str());
}

void check_inverse(const SelectionState& st, const StateReader& r, size_t block_start) {
  // diag(A inv_A^T) must be 1: catches swapped, corrupt or foreign matrices in O(n^2).
  const long n = st.n;
  for (long i = 0; i < n; ++i) {
    double d = 0.0;
    for (long k = 0; k < n; ++k) d += st.A[i * n + k] * st.inv_A[i * n + k];
    if (!(std::abs(d - 1.0) < 1e-6)) {
      r.fail_binary(block_start, "the stored inverse does not match A (row " + std::to_string(i) +
                                     " of A inv_A^T has diagonal " + std::to_string(d) + ", expected 1)");
    }
  }
}

// A then inv(A), raw native doubles (MaxVol::WriteData), followed by `end_marker`.
void read_matrices(SelectionState& st, StateReader& r, const char* end_marker) {
  const size_t block = r.pos();
  st.A.resize(size_t(st.n) * st.n);
  st.inv_A.resize(size_t(st.n) * st.n);
  r.read_doubles(st.A.data(), st.A.size(), "selection matrix A");
  r.read_doubles(st.inv_A.data(), st.inv_A.size(), "selection matrix inv(A)");
  r.expect_after_block(end_marker, block, st.n);
  check_inverse(st, r, block);
}

void read_selected(SelectionState& st, const StateReader& r, size_t from, const MtpModel& m) {
  // Pad with newlines so the cfg parser's line numbers are lines of the model file.
  if (r.text().find_first_not_of(" \t\r\n", from) == std::string::npos) return;  // none stored yet
  const int first_line = r.line_at(from);
  std::string text(size_t(std::max(0, first_line - 1)), '\n');
  text += r.text().substr(from);
  st.selected = parse_cfg(text, m.source);
  for (size_t c = 0; c < st.selected.size(); ++c) {
    for (int s : st.selected[c].species) {
      if (s >= m.species_count) {
        throw InputError(m.source, first_line, "selected configuration " + std::to_string(c) + " has type " +
                                                   std::to_string(s) + " but the potential has " +
                                                   std::to_string(m.species_count) + " species");
      }
    }
  }
}

void parse_mvs(SelectionState& st, StateReader& r, const MtpModel& m) {
  st.format = "MVS_v1.1";
  r.expect("#MVS_v1.1\n", "'#MVS_v1.1' (MLIP-3 selection state)");
  st.energy_weight = r.keyed_double("energy_weight");
  st.force_weight = r.keyed_double("force_weight");
  st.stress_weight = r.keyed_double("stress_weight");
  st.site_en_weight = r.keyed_double("site_en_weight");
  {
    size_t start = r.pos();
    std::string v = r.keyed("weight_scaling");
    bool ok = false;
    long w = detail::parse_long(v, &ok);
    if (!ok || w < 0 || w > 2) r.fail_at(start, "weight_scaling must be 0, 1 or 2, found '" + v + "'");
    st.weight_scaling = int(w);
  }
  r.expect("#", "'#' before the selection matrices");
  read_matrices(st, r, "\n#\n");
  st.rows.resize(st.n);
  for (long i = 0; i < st.n; ++i) {
    if (r.at("#")) r.fail("only " + std::to_string(i) + " of n = " + std::to_string(st.n) + " row entries before '#'");
    st.rows[i] = r.int_pair("configuration index and equation index of a selected row");
  }
  r.expect("#\n", "'#' after the " + std::to_string(st.n) + " row entries");
  read_selected(st, r, r.pos(), m);
  for (long i = 0; i < st.n; ++i) {
    const auto [c, e] = st.rows[i];
    if ((c < 0) != (e < 0) || c < -1 || c >= int(st.selected.size())) {
      r.fail_at(0, "row " + std::to_string(i) + " refers to configuration " + std::to_string(c) + " (equation " +
                       std::to_string(e) + ") but the state stores " + std::to_string(st.selected.size()));
    }
  }
}

void parse_als(SelectionState& st, StateReader& r, const MtpModel& m) {
  st.format = "als";
  st.weight_scaling = 2;  // MLIP-2 ("vibrations" weighting) divides the energy row by N
  r.expect("^", "'^' (MLIP-2 selection state)");
  double w[4];
  r.read_doubles(w, 4, "selection weights");
  st.site_en_weight = w[0];
  st.energy_weight = w[1];
  st.force_weight = w[2];
  st.stress_weight = w[3];
  for (double v : w) {
    if (!std::isfinite(v)) r.fail_binary(r.pos() - 32, "selection weights are not finite numbers");
  }
  r.expect("\n#", "'#' before the selection matrices");
  read_matrices(st, r, "\n");
  st.rows.resize(st.n);
  for (long i = 0; i < st.n; ++i) st.rows[i] = r.int_pair("row and configuration number");
  read_selected(st, r, r.pos(), m);
  for (long i = 0; i < st.n; ++i) {
    if (st.rows[i][1] < -1 || st.rows[i][1] >= int(st.selected.size())) {
      r.fail_at(0, "row " + std::to_string(i) + " refers to configuration " + std::to_string(st.rows[i][1]) +
                       " but the state stores " + std::to_string(st.selected.size()));
    }
  }
}

}  // namespace

double SelectionState::energy_row_scale(long n_atoms) const {
  return n_atoms > 0 ? energy_weight / std::pow(double(n_atoms), weight_scaling / 2.0) : 0.0;
}

SelectionState parse_selection_state(const MtpModel& model) {
  if (model.selection_state.empty()) {
    throw Error(model.source + ": no selection state (an .almtp or .als file written by MLIP's training or selection "
                               "carries one; a plain .mtp does not)");
  }
  require_evaluable(model);
  SelectionState st;
  st.n = model.parameter_count();
  StateReader r(model);
  if (r.at("#MVS")) {
    parse_mvs(st, r, model);
  } else if (r.at("^")) {
    parse_als(st, r, model);
  } else {
    r.fail("unknown selection-state format (expected '#MVS_v1.1' of MLIP-3 or '^' of MLIP-2)");
  }
  st.mode = mode_from_weights(st, r);
  return st;
}

SelectionState read_selection_state(const std::string& path, MtpModel* model_out) {
  MtpModel m = read_mtp(path);
  SelectionState st = parse_selection_state(m);
  if (model_out) *model_out = std::move(m);
  return st;
}

double grade_of_row(const SelectionState& st, const std::vector<double>& row) {
  if (long(row.size()) != st.n) throw Error("grade_of_row: row length does not match the selection state");
  double g = 0.0;
  for (long l = 0; l < st.n; ++l) {
    double c = 0.0;
    for (long k = 0; k < st.n; ++k) c += row[k] * st.inv_A[l * st.n + k];
    g = std::max(g, std::abs(c));
  }
  return g;
}

SelectionState initial_selection_state(const MtpModel& model, GradeMode mode, double init_value) {
  SelectionState st;
  st.format = "MVS_v1.1";
  st.n = model.parameter_count();
  st.mode = mode;
  (mode == GradeMode::Configuration ? st.energy_weight : st.site_en_weight) = 1.0;
  st.A.assign(size_t(st.n) * st.n, 0.0);
  st.inv_A.assign(size_t(st.n) * st.n, 0.0);
  for (long i = 0; i < st.n; ++i) {
    st.A[i * st.n + i] = init_value;
    st.inv_A[i * st.n + i] = 1.0 / init_value;
  }
  st.rows.assign(st.n, {-1, -1});
  return st;
}

std::string format_selection_state(const SelectionState& st) {
  std::ostringstream o;
  char buf[64];
  auto w = [&](const char* key, double v) {
    std::snprintf(buf, sizeof buf, "%.16e", v);
    o << key << ' ' << buf << '\n';
  };
  o << "#MVS_v1.1\n";
  w("energy_weight", st.energy_weight);
  w("force_weight", st.force_weight);
  w("stress_weight", st.stress_weight);
  w("site_en_weight", st.site_en_weight);
  o << "weight_scaling " << st.weight_scaling << "\n#";
  o.write(reinterpret_cast<const char*>(st.A.data()), std::streamsize(st.A.size() * sizeof(double)));
  o.write(reinterpret_cast<const char*>(st.inv_A.data()), std::streamsize(st.inv_A.size() * sizeof(double)));
  o << "\n#\n";
  for (const auto& r : st.rows) o << r[0] << ' ' << r[1] << '\n';
  o << "#\n";
  for (const auto& s : st.selected) write_cfg(o, s);
  return o.str();
}

StructureGrade grade_structure(MtpPotential& potential, const Structure& s) {
  const SelectionState* st = potential.selection();
  if (!st) throw Error("grade_structure: the potential has no selection state");
  StructureGrade g;
  g.evaluation = evaluate(potential, s);
  if (st->mode == GradeMode::Configuration) {
    std::vector<double> row = potential.energy_gradient();
    const double scale = st->energy_row_scale(s.size());
    for (double& v : row) v *= scale;
    g.grade = s.size() > 0 ? potential.row_grade(row) : 0.0;
  } else {
    g.atom_grades.resize(s.size());
    g.grade = potential.neighborhood_grades(g.atom_grades.data());
  }
  return g;
}

}  // namespace mlpot
