#pragma once
// Standalone neighbour list for periodic (triclinic) or open cells, host side.
//
// Ghost atoms are explicit periodic images, so a cell smaller than the cutoff simply yields
// several images of the same atom. The result has the shape the Potential interface expects:
// local atoms first, ghosts after them, and a CSR full list of the local atoms.
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "mlpot/structure.hpp"

// Functions shared with device code (src/cuda/, compiled by nvcc in the CUDA build).
#if defined(__CUDACC__)
#define MLPOT_HOST_DEVICE __host__ __device__
#else
#define MLPOT_HOST_DEVICE
#endif

namespace mlpot {

struct GhostedSystem {
  int n_local = 0;
  int n_listed = 0;  // atoms with a neighbour list (a prefix): the locals, plus with ghost lists the
                     // ghosts within ghost_cutoff - cutoff of the cell
  std::vector<double> positions;  // [n_total][3]; local atoms wrapped into the cell
  std::vector<int> species;       // [n_total]
  std::vector<int> owner;         // [n_total]: local atom each atom is an image of
  std::vector<int> image;         // [n_total][3]: lattice translation from the owner (empty if unknown)
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

// Potential::compute on `g`'s atoms with the CSR lists `offsets`/`neighbors` of its first
// g.n_listed atoms (g's own, or a subset of them), the images' forces and per-atom virials folded
// onto their owners: what evaluate() and Evaluator do once they have lists.
Evaluation evaluate_system(Potential& potential, const GhostedSystem& g, const std::int64_t* offsets,
                           const int* neighbors, bool with_virial, bool atom_virial = false,
                           bool atom_centroid_virial = false);

// The geometry behind the list, shared by the host builder and the Thrust builder
// (src/cuda/device_graph.cpp), so that both make the same ghosts in the same order and the same
// bins: the two then give identical lists.
struct ImageFrame {
  bool periodic = false;
  Mat3 cell{};                     // rows are the lattice vectors
  Mat3 inverse{};                  // fractional = x * inverse (periodic only)
  std::array<bool, 3> pbc{};
  std::array<int, 3> n_img{};      // images -n_img..n_img along each periodic axis
  std::array<double, 3> margin{};  // ghost shell in lattice units: -margin <= frac <= 1 + margin
  std::array<double, 3> inner{};   // the part of the shell whose ghosts get lists (ghost_lists)
};

// Validates the structure (sizes, finite coordinates, a usable periodic cell, cutoff) and
// returns the image frame; throws mlpot::Error naming the structure and atom.
ImageFrame image_frame(const Structure& s, double cutoff, double ghost_cutoff);
// The same for a cell alone (positions checked elsewhere); `where` names the input in errors.
ImageFrame image_frame(const Mat3& cell, const std::array<bool, 3>& pbc, double cutoff, double ghost_cutoff,
                       const std::string& where);

// Fractional coordinate of atom i along axis a, wrapped into [0, 1) on periodic axes, and the
// wrapped Cartesian position: the same arithmetic on host and device.
MLPOT_HOST_DEVICE inline void wrap_position(const double* x, const double inv[3][3], const double cell[3][3],
                                            const bool pbc[3], double frac[3], double wrapped[3]) {
  for (int a = 0; a < 3; ++a) {
    double f = 0;
    for (int d = 0; d < 3; ++d) f += x[d] * inv[d][a];
    double shift = pbc[a] ? floor(f) : 0.0;
    f -= shift;
    if (pbc[a] && f >= 1.0) f = 0.0;  // floor round-off at the upper edge
    frac[a] = f;
  }
  for (int d = 0; d < 3; ++d) {
    double w = 0;
    for (int a = 0; a < 3; ++a) w += frac[a] * cell[a][d];
    wrapped[d] = w;
  }
}

// Cell-list bins over the bounding box [lo, hi] of all atoms: about `cutoff` wide, coarser for
// sparse open systems (at most 8 * n_total + 64 bins).
struct BinGrid {
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
  long nb[3] = {1, 1, 1};
  long count() const { return nb[0] * nb[1] * nb[2]; }
};
BinGrid bin_grid(const double lo[3], const double hi[3], double cutoff, long n_total);

MLPOT_HOST_DEVICE inline long bin_coordinate(const BinGrid& g, double x, int d) {
  long b = long((x - g.lo[d]) / (g.hi[d] - g.lo[d] + 1e-300) * g.nb[d]);
  return b < 0 ? 0 : (b > g.nb[d] - 1 ? g.nb[d] - 1 : b);
}

}  // namespace mlpot
