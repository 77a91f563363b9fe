#pragma once
// Standalone neighbour list for periodic (triclinic) or open cells, host side.
//
// Ghost atoms are explicit periodic images, so a cell smaller than the cutoff simply yields
// several images of the same atom. The result has the shape the Potential interface expects:
// local atoms first, ghosts after them, and a CSR full list of the local atoms.
#include <cstdint>
#include <vector>

#include "mlpot/structure.hpp"

namespace mlpot {

struct GhostedSystem {
  int n_local = 0;
  int n_listed = 0;  // atoms with a neighbour list (a prefix): the locals, plus with ghost lists the
                     // ghosts within ghost_cutoff - cutoff of the cell
  std::vector<double> positions;  // [n_total][3]; local atoms wrapped into the cell
  std::vector<int> species;       // [n_total]
  std::vector<int> owner;         // [n_total]: local atom each atom is an image of
  std::vector<std::int64_t> offsets;  // [n_listed+1]
  std::vector<int> neighbors;         // CSR, indices into [0, n_total)
  int n_total() const { return static_cast<int>(owner.size()); }
};

// Every pair closer than `cutoff` appears (both directions: full list). Ghosts are all periodic
// images within `ghost_cutoff` (>= cutoff; 0 means cutoff) of the cell; with `ghost_lists` the
// ghosts within ghost_cutoff - cutoff of the cell get neighbour lists too (ordered right after
// the local atoms), which is what a message-passing model needs for exact local energies. Throws on non-finite coordinates, degenerate periodic cells,
// or two atoms at the same position.
GhostedSystem build_neighbor_list(const Structure& s, double cutoff, double ghost_cutoff = 0.0,
                                  bool ghost_lists = false);

}  // namespace mlpot
