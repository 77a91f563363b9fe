#include "mlpot/structure_io.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "mlpot/error.hpp"
#include "text_lexer.hpp"

namespace mlpot {

namespace {

// %.17g (the same characters: to_chars' general format with a precision is printf's), several
// times faster than snprintf, which was a tenth of `mlpot eval`'s time outside the force call.
std::string fmt(double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 17);
  return std::string(buf, r.ptr);
}

// Words separated by white space (what `istream >> string` splits on, without a stream per line).
std::vector<std::string> split_ws(const std::string& line) {
  std::vector<std::string> out;
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  for (auto it = line.begin(); it != line.end();) {
    it = std::find_if_not(it, line.end(), space);
    if (it == line.end()) break;
    const auto end = std::find_if(it, line.end(), space);
    out.emplace_back(it, end);
    it = end;
  }
  return out;
}

using detail::trim;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream is(text);
  std::string l;
  while (std::getline(is, l)) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  return lines;
}

double to_double(const std::string& tok, const std::string& src, int line, const char* what) {
  bool ok = false;
  double v = detail::parse_double(tok, &ok);
  if (!ok) throw InputError(src, line, std::string("expected a number for ") + what + ", found '" + tok + "'");
  return v;
}

long to_long(const std::string& tok, const std::string& src, int line, const char* what) {
  bool ok = false;
  long v = detail::parse_long(tok, &ok);
  if (!ok) throw InputError(src, line, std::string("expected an integer for ") + what + ", found '" + tok + "'");
  return v;
}

}  // namespace

double cell_volume(const Mat3& m) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

StructureFormat format_from_path(const std::string& path) {
  auto ends = [&](const std::string& e) {
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".cfg")) return StructureFormat::Cfg;
  if (ends(".xyz") || ends(".extxyz")) return StructureFormat::ExtXyz;
  throw Error(path + ": unknown structure format (use .cfg or .xyz)");
}

std::vector<Structure> parse_cfg(const std::string& text, const std::string& src) {
  std::vector<Structure> out;
  const auto lines = lines_of(text);
  size_t k = 0;
  const int nl = int(lines.size());
  auto line_no = [&](size_t idx) { return int(idx) + 1; };
  while (k < lines.size()) {
    std::string t = trim(lines[k]);
    if (t.empty()) { ++k; continue; }
    if (t != "BEGIN_CFG") throw InputError(src, line_no(k), "expected BEGIN_CFG, found '" + t + "'");
    Structure s;
    s.source = src + ":" + std::to_string(line_no(k));
    int begin_line = line_no(k);
    ++k;
    long size = -1;
    int cell_rows = 0;
    bool have_atoms = false;
    for (;;) {
      if (k >= lines.size()) throw InputError(src, nl, "file ends inside the configuration starting at line " + std::to_string(begin_line) + " (missing END_CFG)");
      std::string l = trim(lines[k]);
      if (l.empty()) { ++k; continue; }
      auto words = split_ws(l);
      const std::string& key = words[0];
      if (key == "END_CFG") { ++k; break; }
      if (key == "Size") {
        if (k + 1 >= lines.size()) throw InputError(src, line_no(k), "file ends after Size");
        ++k;
        size = to_long(trim(lines[k]), src, line_no(k), "Size");
        if (size < 0) throw InputError(src, line_no(k), "negative Size");
        // Every atom takes a line: a Size beyond the file's lines is an error, not an allocation.
        if (size_t(size) > lines.size()) {
          throw InputError(src, line_no(k), "Size " + std::to_string(size) + " is more atoms than the file has lines");
        }
        ++k;
      } else if (key == "Supercell") {
        ++k;
        while (k < lines.size()) {
          auto w = split_ws(lines[k]);
          if (w.size() != 3) break;
          bool ok = false;
          detail::parse_double(w[0], &ok);
          if (!ok) break;
          if (cell_rows == 3) throw InputError(src, line_no(k), "Supercell has more than 3 vectors");
          for (int d = 0; d < 3; ++d) s.cell[cell_rows][d] = to_double(w[d], src, line_no(k), "Supercell");
          s.pbc[cell_rows] = true;
          ++cell_rows;
          ++k;
        }
      } else if (key.rfind("AtomData", 0) == 0) {
        if (size < 0) throw InputError(src, line_no(k), "AtomData before Size");
        std::vector<std::string> cols(words.begin() + 1, words.end());
        if (key.size() > 9) cols.insert(cols.begin(), key.substr(9));  // "AtomData:id"
        std::map<std::string, int> col;
        for (size_t c = 0; c < cols.size(); ++c) col[cols[c]] = int(c);
        bool cart = col.count("cartes_x") && col.count("cartes_y") && col.count("cartes_z");
        bool direct = col.count("direct_x") && col.count("direct_y") && col.count("direct_z");
        if (!col.count("type") || (!cart && !direct)) {
          throw InputError(src, line_no(k), "AtomData needs columns type and cartes_x/y/z (or direct_x/y/z)");
        }
        if (direct && cell_rows != 3) throw InputError(src, line_no(k), "direct coordinates need a 3-vector Supercell");
        bool forces = col.count("fx") && col.count("fy") && col.count("fz");
        bool grades = col.count("nbh_grades") > 0;
        if (grades) s.nbh_grades.resize(size);
        ++k;
        s.positions.resize(3 * size);
        s.species.resize(size);
        if (forces) s.forces.resize(3 * size);
        for (long a = 0; a < size; ++a, ++k) {
          if (k >= lines.size()) throw InputError(src, nl, "file ends inside AtomData (expected " + std::to_string(size) + " atoms)");
          auto w = split_ws(lines[k]);
          if (w.size() != cols.size()) {
            throw InputError(src, line_no(k), "atom line has " + std::to_string(w.size()) + " columns, AtomData names " +
                                                  std::to_string(cols.size()));
          }
          long type = to_long(w[col["type"]], src, line_no(k), "type");
          if (type < 0) throw InputError(src, line_no(k), "negative atom type " + std::to_string(type));
          if (type > std::numeric_limits<int>::max()) {
            throw InputError(src, line_no(k), "atom type " + std::to_string(type) + " is out of range");
          }
          s.species[a] = int(type);
          const char* names[2][3] = {{"cartes_x", "cartes_y", "cartes_z"}, {"direct_x", "direct_y", "direct_z"}};
          double p[3];
          for (int d = 0; d < 3; ++d) p[d] = to_double(w[col[names[cart ? 0 : 1][d]]], src, line_no(k), "a coordinate");
          for (int d = 0; d < 3; ++d) {
            s.positions[3 * a + d] = cart ? p[d] : p[0] * s.cell[0][d] + p[1] * s.cell[1][d] + p[2] * s.cell[2][d];
            if (!std::isfinite(s.positions[3 * a + d])) {
              throw InputError(src, line_no(k), "atom " + std::to_string(a + 1) + " has a non-finite coordinate");
            }
          }
          if (forces) {
            const char* fn[3] = {"fx", "fy", "fz"};
            for (int d = 0; d < 3; ++d) s.forces[3 * a + d] = to_double(w[col[fn[d]]], src, line_no(k), "a force");
          }
          if (grades) s.nbh_grades[a] = to_double(w[col["nbh_grades"]], src, line_no(k), "nbh_grades");
        }
        have_atoms = true;
      } else if (key == "Energy") {
        ++k;
        if (k >= lines.size()) throw InputError(src, nl, "file ends after Energy");
        s.energy = to_double(trim(lines[k]), src, line_no(k), "Energy");
        ++k;
      } else if (key.rfind("PlusStress", 0) == 0) {
        ++k;
        if (k >= lines.size()) throw InputError(src, nl, "file ends after PlusStress");
        auto w = split_ws(lines[k]);
        if (w.size() != 6) throw InputError(src, line_no(k), "PlusStress needs 6 values");
        std::array<double, 6> ps;
        for (int c = 0; c < 6; ++c) ps[c] = to_double(w[c], src, line_no(k), "PlusStress");
        s.plus_stress = ps;
        ++k;
      } else if (key == "Feature") {
        std::string rest = trim(l.substr(7));
        size_t sp = rest.find_first_of(" \t");
        s.features.emplace_back(rest.substr(0, sp), sp == std::string::npos ? "" : trim(rest.substr(sp)));
        ++k;
      } else {
        throw InputError(src, line_no(k), "unknown cfg section '" + key + "'");
      }
    }
    if (size < 0) throw InputError(src, begin_line, "configuration has no Size");
    if (size == 0 || !have_atoms) throw InputError(src, begin_line, "configuration has no atoms");
    out.push_back(std::move(s));
  }
  if (out.empty()) throw InputError(src, 1, "no configurations (expected BEGIN_CFG)");
  return out;
}

namespace {

// key=value pairs of an extended-XYZ comment line; values may be "quoted".
std::map<std::string, std::string> parse_kv(const std::string& line, const std::string& src, int ln) {
  std::map<std::string, std::string> kv;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size()) break;
    size_t k0 = i;
    while (i < line.size() && line[i] != '=' && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    std::string key = line.substr(k0, i - k0);
    std::string value = "T";
    if (i < line.size() && line[i] == '=') {
      ++i;
      if (i < line.size() && (line[i] == '"' || line[i] == '\'')) {
        char q = line[i++];
        size_t v0 = i;
        while (i < line.size() && line[i] != q) ++i;
        if (i >= line.size()) throw InputError(src, ln, "unterminated quote in the value of '" + key + "'");
        value = line.substr(v0, i - v0);
        ++i;
      } else {
        size_t v0 = i;
        while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        value = line.substr(v0, i - v0);
      }
    }
    kv[key] = value;
  }
  return kv;
}

}  // namespace

std::vector<Structure> parse_extxyz(const std::string& text, const std::string& src,
                                    const std::vector<std::string>& elements) {
  std::vector<Structure> out;
  const auto lines = lines_of(text);
  size_t k = 0;
  while (k < lines.size()) {
    if (trim(lines[k]).empty()) { ++k; continue; }
    int head = int(k) + 1;
    long n = to_long(trim(lines[k]), src, head, "the atom count");
    if (n <= 0) throw InputError(src, head, "configuration has no atoms");
    if (k + 1 >= lines.size()) throw InputError(src, head, "file ends after the atom count");
    // Checked before anything is allocated for the n atoms.
    if (size_t(n) > lines.size() - (k + 2)) {
      throw InputError(src, int(lines.size()), "file ends inside a configuration (expected " + std::to_string(n) + " atoms)");
    }
    auto kv = parse_kv(lines[k + 1], src, head + 1);
    Structure s;
    s.source = src + ":" + std::to_string(head);
    if (kv.count("Lattice")) {
      auto w = split_ws(kv["Lattice"]);
      if (w.size() != 9) throw InputError(src, head + 1, "Lattice needs 9 numbers");
      for (int a = 0; a < 9; ++a) s.cell[a / 3][a % 3] = to_double(w[a], src, head + 1, "Lattice");
      s.pbc = {true, true, true};
    }
    if (kv.count("pbc")) {
      auto w = split_ws(kv["pbc"]);
      if (w.size() != 3) throw InputError(src, head + 1, "pbc needs 3 flags");
      for (int a = 0; a < 3; ++a) s.pbc[a] = (w[a] == "T" || w[a] == "True" || w[a] == "1");
    }
    // Properties=name:type:count:...
    std::string props = kv.count("Properties") ? kv["Properties"] : "species:S:1:pos:R:3";
    std::vector<std::string> parts;
    {
      std::string cur;
      for (char c : props) {
        if (c == ':') { parts.push_back(cur); cur.clear(); } else cur += c;
      }
      parts.push_back(cur);
    }
    if (parts.size() % 3 != 0) throw InputError(src, head + 1, "malformed Properties");
    int col = 0, c_species = -1, c_pos = -1, c_forces = -1, ncols = 0;
    for (size_t p = 0; p < parts.size(); p += 3) {
      const long cnt = to_long(parts[p + 2], src, head + 1, "a Properties count");
      // species is one column, pos and forces three (what the atom lines are read with).
      const long needed = parts[p] == "species" ? 1 : parts[p] == "pos" || parts[p] == "forces" ? 3 : 0;
      if (cnt < 1 || cnt > 1000 || (needed && cnt != needed)) {
        throw InputError(src, head + 1, "Properties: '" + parts[p] + "' has " + parts[p + 2] + " columns" +
                                            (needed ? ", expected " + std::to_string(needed) : ""));
      }
      if (parts[p] == "species") c_species = col;
      if (parts[p] == "pos") c_pos = col;
      if (parts[p] == "forces") c_forces = col;
      col += cnt;
    }
    ncols = col;
    if (c_species < 0 || c_pos < 0) throw InputError(src, head + 1, "Properties must include species and pos");
    if (kv.count("energy")) s.energy = to_double(kv["energy"], src, head + 1, "energy");
    for (auto& [key, value] : kv) {
      if (key != "Lattice" && key != "Properties" && key != "pbc" && key != "energy" && key != "stress" &&
          key != "virial") {
        s.info[key] = value;
      }
    }
    s.positions.resize(3 * n);
    s.species.resize(n);
    s.symbols.resize(n);
    if (c_forces >= 0) s.forces.resize(3 * n);
    for (long a = 0; a < n; ++a) {
      size_t li = k + 2 + a;
      if (li >= lines.size()) throw InputError(src, int(lines.size()), "file ends inside a configuration (expected " + std::to_string(n) + " atoms)");
      int ln = int(li) + 1;
      auto w = split_ws(lines[li]);
      if (int(w.size()) != ncols) throw InputError(src, ln, "atom line has " + std::to_string(w.size()) + " columns, Properties names " + std::to_string(ncols));
      const std::string& sym = w[c_species];
      s.symbols[a] = sym;
      int sp = -1;
      for (size_t e = 0; e < elements.size(); ++e) {
        if (elements[e] == sym) sp = int(e);
      }
      if (elements.empty()) throw InputError(src, ln, "element symbols need a species map (pass --elements, e.g. H,Li,C,O,F,P)");
      if (sp < 0) throw InputError(src, ln, "atom " + std::to_string(a + 1) + ": element '" + sym + "' is not in the model's species list");
      s.species[a] = sp;
      for (int d = 0; d < 3; ++d) {
        s.positions[3 * a + d] = to_double(w[c_pos + d], src, ln, "a coordinate");
        if (!std::isfinite(s.positions[3 * a + d])) throw InputError(src, ln, "atom " + std::to_string(a + 1) + " has a non-finite coordinate");
      }
      if (c_forces >= 0) {
        for (int d = 0; d < 3; ++d) s.forces[3 * a + d] = to_double(w[c_forces + d], src, ln, "a force");
      }
    }
    k += 2 + n;
    out.push_back(std::move(s));
  }
  if (out.empty()) throw InputError(src, 1, "no configurations");
  return out;
}

std::vector<Structure> read_structures(const std::string& path, const std::vector<std::string>& elements) {
  StructureFormat f = format_from_path(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open structure file");
  std::stringstream ss;
  ss << in.rdbuf();
  return f == StructureFormat::Cfg ? parse_cfg(ss.str(), path) : parse_extxyz(ss.str(), path, elements);
}

void write_cfg(std::ostream& o, const Structure& s) {
  const int n = s.size();
  o << "BEGIN_CFG\n Size\n    " << n << "\n";
  int rows = 0;
  for (int a = 0; a < 3; ++a) rows += s.pbc[a] ? 1 : 0;
  if (rows > 0) {
    o << " Supercell\n";
    for (int a = 0; a < 3; ++a) {
      if (s.pbc[a]) o << "    " << fmt(s.cell[a][0]) << ' ' << fmt(s.cell[a][1]) << ' ' << fmt(s.cell[a][2]) << '\n';
    }
  }
  bool forces = int(s.forces.size()) == 3 * n;
  bool grades = int(s.nbh_grades.size()) == n;
  o << " AtomData:  id type cartes_x cartes_y cartes_z" << (forces ? " fx fy fz" : "") << (grades ? " nbh_grades" : "")
    << '\n';
  for (int a = 0; a < n; ++a) {
    o << "    " << a + 1 << ' ' << s.species[a];
    for (int d = 0; d < 3; ++d) o << ' ' << fmt(s.positions[3 * a + d]);
    if (forces) {
      for (int d = 0; d < 3; ++d) o << ' ' << fmt(s.forces[3 * a + d]);
    }
    if (grades) o << ' ' << fmt(s.nbh_grades[a]);
    o << '\n';
  }
  if (s.energy) o << " Energy\n    " << fmt(*s.energy) << '\n';
  if (s.plus_stress) {
    o << " PlusStress:  xx yy zz yz xz xy\n   ";
    for (double v : *s.plus_stress) o << ' ' << fmt(v);
    o << '\n';
  }
  for (const auto& [name, value] : s.features) o << " Feature   " << name << '\t' << value << '\n';
  o << "END_CFG\n\n";
}

namespace {

// An info value as parse_kv() reads it back: bare when it has no white space and does not start
// with a quote, else quoted with a quote character it does not contain (a value read from a
// file always has one: a quoted value holds no closing quote, a bare one no white space).
std::string xyz_value(const std::string& key, const std::string& v) {
  const bool space = std::any_of(v.begin(), v.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (!v.empty() && !space && v[0] != '"' && v[0] != '\'') return v;
  if (v.find('"') == std::string::npos) return '"' + v + '"';
  if (v.find('\'') == std::string::npos) return '\'' + v + '\'';
  throw Error("extended XYZ: the value of '" + key + "' holds white space and both quote characters");
}

}  // namespace

void write_extxyz(std::ostream& o, const Structure& s, const std::vector<std::string>& elements) {
  const int n = s.size();
  bool forces = int(s.forces.size()) == 3 * n;
  o << n << '\n';
  bool periodic = s.pbc[0] || s.pbc[1] || s.pbc[2];
  if (periodic) {
    o << "Lattice=\"";
    for (int a = 0; a < 9; ++a) o << (a ? " " : "") << fmt(s.cell[a / 3][a % 3]);
    o << "\" ";
  }
  o << "Properties=species:S:1:pos:R:3" << (forces ? ":forces:R:3" : "");
  if (s.energy) o << " energy=" << fmt(*s.energy);
  if (s.plus_stress && periodic) {
    // ASE convention: stress = -virial / volume (eV/A^3), full 3x3.
    const auto& p = *s.plus_stress;  // xx yy zz yz xz xy
    double vol = std::fabs(cell_volume(s.cell));
    double m[9] = {p[0], p[5], p[4], p[5], p[1], p[3], p[4], p[3], p[2]};
    o << " stress=\"";
    for (int a = 0; a < 9; ++a) o << (a ? " " : "") << fmt(-m[a] / vol);
    o << "\"";
  }
  for (const auto& [k, v] : s.info) o << ' ' << k << '=' << xyz_value(k, v);
  o << " pbc=\"" << (s.pbc[0] ? 'T' : 'F') << ' ' << (s.pbc[1] ? 'T' : 'F') << ' ' << (s.pbc[2] ? 'T' : 'F') << "\"\n";
  for (int a = 0; a < n; ++a) {
    std::string sym = !s.symbols.empty() ? s.symbols[a]
                      : (s.species[a] < int(elements.size()) ? elements[s.species[a]] : "X" + std::to_string(s.species[a]));
    o << sym;
    for (int d = 0; d < 3; ++d) o << ' ' << fmt(s.positions[3 * a + d]);
    if (forces) {
      for (int d = 0; d < 3; ++d) o << ' ' << fmt(s.forces[3 * a + d]);
    }
    o << '\n';
  }
}

}  // namespace mlpot
