// The standalone neighbour list against brute force over lattice images.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "mlpot/error.hpp"
#include "mlpot/neighbor_list.hpp"
#include "random_cell.hpp"

namespace {

using mlpot_test::random_cell;

// Multiset of (owner, rounded distance) per local atom, by brute force over images.
std::map<std::pair<int, long>, int> brute(const mlpot::Structure& s, int i, double rc) {
  std::map<std::pair<int, long>, int> out;
  for (int j = 0; j < s.size(); ++j)
    for (int a = -6; a <= 6; ++a)
      for (int b = -6; b <= 6; ++b)
        for (int c = -6; c <= 6; ++c) {
          if (j == i && a == 0 && b == 0 && c == 0) continue;
          double r2 = 0;
          for (int d = 0; d < 3; ++d) {
            double x = s.positions[3 * j + d] + a * s.cell[0][d] + b * s.cell[1][d] + c * s.cell[2][d] - s.positions[3 * i + d];
            r2 += x * x;
          }
          if (r2 < rc * rc) ++out[{j, std::lround(std::sqrt(r2) * 1e6)}];
        }
  return out;
}

}  // namespace

TEST(NeighborList, MatchesBruteForceIncludingCellsSmallerThanTheCutoff) {
  for (double scale : {1.6, 0.6}) {
    mlpot::Structure s = random_cell(scale, 3, 5);
    const double rc = 5.0;
    mlpot::GhostedSystem g = mlpot::build_neighbor_list(s, rc);
    for (int i = 0; i < s.size(); ++i) {
      std::map<std::pair<int, long>, int> got;
      for (auto k = g.offsets[i]; k < g.offsets[i + 1]; ++k) {
        int j = g.neighbors[k];
        double r2 = 0;
        for (int d = 0; d < 3; ++d) {
          double x = g.positions[3 * j + d] - g.positions[3 * i + d];
          r2 += x * x;
        }
        ++got[{g.owner[j], std::lround(std::sqrt(r2) * 1e6)}];
      }
      EXPECT_EQ(got, brute(s, i, rc)) << "scale " << scale << " atom " << i;
    }
  }
}

TEST(NeighborList, OpenBoundariesHaveNoImages) {
  mlpot::Structure s;
  s.positions = {0, 0, 0, 1.5, 0, 0, 10, 0, 0};
  s.species = {0, 0, 0};
  mlpot::GhostedSystem g = mlpot::build_neighbor_list(s, 2.0);
  EXPECT_EQ(g.n_total(), 3);
  EXPECT_EQ(g.offsets, (std::vector<std::int64_t>{0, 1, 2, 2}));
}

TEST(NeighborList, RejectsBadGeometry) {
  mlpot::Structure s = random_cell(1.0, 1, 2);
  s.positions[3] = s.positions[0];
  s.positions[4] = s.positions[1];
  s.positions[5] = s.positions[2];
  EXPECT_THROW(mlpot::build_neighbor_list(s, 3.0), mlpot::Error);
  s = random_cell(1.0, 1, 2);
  s.cell[2] = s.cell[0];
  EXPECT_THROW(mlpot::build_neighbor_list(s, 3.0), mlpot::Error);
}

namespace {
std::string list_error(const mlpot::Structure& s, double rc) {
  try {
    mlpot::build_neighbor_list(s, rc);
  } catch (const mlpot::Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

// Geometry that hung, overflowed or gave a wrong message before (2026-11-26): a cell far
// smaller than the cutoff (1e9 image cells), an atom 1e300 A out in a periodic cell (wrapped to
// round-off, then "atoms at the same position"), and a 1e9 A vacuum box (the bin count
// overflowed a long: "cannot create std::vector larger than max_size()").
TEST(NeighborList, ExtremeGeometryIsAnErrorOrWorks) {
  mlpot::Structure tiny;
  tiny.positions = {0, 0, 0};
  tiny.species = {0};
  tiny.cell = {{{0.01, 0, 0}, {0, 0.01, 0}, {0, 0, 0.01}}};
  tiny.pbc = {true, true, true};
  tiny.source = "tiny.cfg:1";
  EXPECT_NE(list_error(tiny, 5.0).find("tiny.cfg:1: the cutoff (5 A) reaches 1e+09 periodic images"), std::string::npos)
      << list_error(tiny, 5.0);

  mlpot::Structure far = tiny;
  far.cell = {{{5, 0, 0}, {0, 5, 0}, {0, 0, 5}}};
  far.positions = {0, 0, 0, 1e300, 0, 0};
  far.species = {0, 0};
  EXPECT_NE(list_error(far, 5.0).find("atom 2 lies 2e+299 cells from the origin along lattice vector 1"),
            std::string::npos)
      << list_error(far, 5.0);

  // Found by fuzz_structure_eval: a lattice vector of 3.7e20 A made the image margin overflow
  // the int it was converted to (undefined behaviour) before the "too thin" check.
  mlpot::Structure skewed = far;
  skewed.cell = {{{8.359, 0, 0}, {49.0, 0.77, 0}, {3.72e20, 239, 0.065}}};
  skewed.positions = {0, 0, 0};
  skewed.species = {0};
  EXPECT_NE(list_error(skewed, 5.0).find("periodic cell is too thin for the cutoff"), std::string::npos)
      << list_error(skewed, 5.0);

  mlpot::Structure vacuum = far;
  vacuum.cell = {{{1e9, 0, 0}, {0, 1e9, 0}, {0, 0, 1e9}}};
  vacuum.positions = {0, 0, 0, 1.5, 0, 0};
  const mlpot::GhostedSystem g = mlpot::build_neighbor_list(vacuum, 5.0);
  EXPECT_EQ(g.offsets[g.n_local], 2);  // the pair, once from each side
}
