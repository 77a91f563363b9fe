#pragma once
// Atomic configurations as read from MLIP .cfg or extended XYZ files, and the standalone
// evaluation driver that turns one into ghosts + a neighbour list for a Potential.
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mlpot/potential.hpp"

namespace mlpot {

using Mat3 = std::array<std::array<double, 3>, 3>;  // rows are the lattice vectors

struct Structure {
  std::vector<double> positions;     // [n][3] Cartesian, Angstrom
  std::vector<int> species;          // model species index per atom
  std::vector<std::string> symbols;  // element symbols when the input had them (xyz), else empty
  Mat3 cell{};                       // lattice vectors as rows
  std::array<bool, 3> pbc{false, false, false};
  // Reference data carried through from the input (written back unchanged when not recomputed).
  std::optional<double> energy;
  std::vector<double> forces;                     // [n][3] if present
  std::optional<std::array<double, 6>> plus_stress;  // MLIP PlusStress: xx yy zz yz xz xy, eV
  std::vector<double> nbh_grades;                 // [n] per-atom extrapolation grades, if present
  std::vector<std::pair<std::string, std::string>> features;  // cfg "Feature name value"
  std::map<std::string, std::string> info;                    // xyz comment key=value pairs
  std::string source;  // "FILE:LINE" where this configuration starts
  int size() const { return static_cast<int>(species.size()); }
};

// Result of evaluating a whole structure (ghost forces folded back onto their owners).
struct Evaluation {
  double energy = 0.0;
  std::vector<double> atom_energy;  // [n]
  std::vector<double> forces;       // [n][3]
  std::array<double, 6> virial{};   // xx yy zz xy xz yz, eV
  std::vector<double> atom_virial;  // [n][6] if requested
  std::vector<double> atom_centroid_virial;  // [n][9] if requested (OutputsRef::atom_centroid_virial)
};

// Checks the structure (finite coordinates, species in range, a usable cell), then builds
// periodic ghosts and a full neighbour list for the potential's cutoff, calls compute() and
// folds ghost forces and virials back. Throws mlpot::Error naming the atom on bad input.
Evaluation evaluate(Potential& potential, const Structure& s, bool atom_virial = false,
                    bool atom_centroid_virial = false);

// evaluate() for many structures (energy, atom energies, forces, virial of each), with one
// compute() per batch of structures: each structure's atoms and periodic images become one block
// of a combined system, and no atom of one block lists an atom of another, so a file of many
// small configurations costs one kernel launch per batch, threaded over all of its atoms, and
// the neighbour lists of a batch are built in parallel over its structures. A batch holds up
// to `batch_atoms` local atoms (a structure larger than that is a batch of its own). For
// potentials with site energies (MTP, OutputsRef::site_virial); others are evaluated one
// structure at a time. The first bad structure, in order, throws as evaluate() would.
std::vector<Evaluation> evaluate_many(Potential& potential, const std::vector<Structure>& structures,
                                      long batch_atoms = 16384);

// Throws mlpot::Error naming the structure and the first atom whose species index is outside
// the potential's 0..num_species-1.
void require_species_in_model(const Structure& s, const Potential& potential);

}  // namespace mlpot
