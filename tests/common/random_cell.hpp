#pragma once
// A random triclinic periodic cell for neighbour-list tests: atoms at fractional coordinates in
// [-0.5, 1.5) (so some lie outside the cell), species i % n_species.
#include <random>

#include "mlpot/structure.hpp"

namespace mlpot_test {

inline mlpot::Structure random_cell(double scale, unsigned seed, int n, int n_species = 1) {
  mlpot::Structure s;
  s.cell = {{{4.0 * scale, 0, 0}, {1.5 * scale, 3.5 * scale, 0}, {-1.0 * scale, 0.7 * scale, 3.8 * scale}}};
  s.pbc = {true, true, true};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-0.5, 1.5);
  for (int i = 0; i < n; ++i) {
    double f[3] = {u(rng), u(rng), u(rng)};
    for (int d = 0; d < 3; ++d) s.positions.push_back(f[0] * s.cell[0][d] + f[1] * s.cell[1][d] + f[2] * s.cell[2][d]);
    s.species.push_back(i % n_species);
  }
  return s;
}

}  // namespace mlpot_test
