#pragma once
// Reading and writing atomic configurations: MLIP .cfg (many per file) and extended XYZ.
#include <iosfwd>
#include <string>
#include <vector>

#include "mlpot/structure.hpp"

namespace mlpot {

enum class StructureFormat { Cfg, ExtXyz };

// By extension: .cfg -> Cfg, .xyz/.extxyz -> ExtXyz. Throws for anything else.
StructureFormat format_from_path(const std::string& path);

// MLIP .cfg: species = the `type` column. Throws mlpot::InputError naming file and line.
std::vector<Structure> parse_cfg(const std::string& text, const std::string& source);
// Extended XYZ: element symbols are mapped to species by their position in `elements`
// (e.g. {"H","Li","C","O","F","P"}); an empty list is an error if the file has symbols.
std::vector<Structure> parse_extxyz(const std::string& text, const std::string& source,
                                    const std::vector<std::string>& elements);
std::vector<Structure> read_structures(const std::string& path, const std::vector<std::string>& elements);

// Writers, all doubles in round-trip precision. Structure::energy/forces/plus_stress are written
// when present. For xyz, symbols come from Structure::symbols, else from `elements`.
void write_cfg(std::ostream& out, const Structure& s);
void write_extxyz(std::ostream& out, const Structure& s, const std::vector<std::string>& elements);

double cell_volume(const Mat3& cell);

}  // namespace mlpot
