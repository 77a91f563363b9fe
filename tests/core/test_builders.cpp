// Built-in structures: the amorphous Li2EDC packing (composition, density, minimum distance,
// reproducibility, molecular geometry).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "mlpot/builders.hpp"
#include "mlpot/error.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/structure_io.hpp"

namespace {
double distance(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}
}  // namespace

TEST(Builders, Li2edcMoleculeGeometry) {
  auto mol = mlpot::li2edc_molecule();
  ASSERT_EQ(mol.size(), 16u);
  int count[4] = {0, 0, 0, 0};
  for (const auto& a : mol) ++count[a.first];
  EXPECT_EQ(count[0], 4);  // H
  EXPECT_EQ(count[1], 2);  // Li
  EXPECT_EQ(count[2], 4);  // C
  EXPECT_EQ(count[3], 6);  // O
  // C-C bond of the ethylene bridge and the shortest distances per element pair are chemical.
  EXPECT_NEAR(distance(mol[0].second, mol[8].second), 1.52, 1e-12);
  double min_any = 1e9;
  for (size_t i = 0; i < mol.size(); ++i)
    for (size_t j = i + 1; j < mol.size(); ++j) min_any = std::min(min_any, distance(mol[i].second, mol[j].second));
  EXPECT_GT(min_any, 1.0);  // C-H 1.09 is the shortest bond
  for (int li : {5, 13}) {
    double li_o = 1e9;
    for (const auto& a : mol)
      if (a.first == 3) li_o = std::min(li_o, distance(mol[li].second, a.second));
    EXPECT_GT(li_o, 1.8);
    EXPECT_LT(li_o, 2.2);
  }
}

TEST(Builders, AmorphousLi2edcPacking) {
  const int molecules = 72;
  mlpot::Structure s = mlpot::build_amorphous_li2edc(molecules, 1.7, 1.4, 7);
  ASSERT_EQ(s.size(), 16 * molecules);
  // Density from the box.
  const double masses[4] = {1.008, 6.94, 12.011, 15.999};
  double mass = 0;
  for (int sp : s.species) mass += masses[sp];
  const double rho = mass / 6.02214076e23 / (mlpot::cell_volume(s.cell) * 1e-24);
  EXPECT_NEAR(rho, 1.7, 1e-9);
  // Every pair closer than 1.4 A belongs to one molecule (atoms i/16 equal).
  mlpot::GhostedSystem g = mlpot::build_neighbor_list(s, 1.4, 1.4, false);
  int close_pairs = 0;
  for (int i = 0; i < g.n_local; ++i) {
    for (auto k = g.offsets[i]; k < g.offsets[i + 1]; ++k) {
      const int j = g.neighbors[k];
      double d2 = 0;
      for (int d = 0; d < 3; ++d) {
        double v = g.positions[3 * size_t(j) + d] - g.positions[3 * size_t(i) + d];
        d2 += v * v;
      }
      if (d2 < 1.4 * 1.4) {
        const int owner = g.owner[j];
        EXPECT_EQ(i / 16, owner / 16) << "atoms " << i << " and " << owner << " at " << std::sqrt(d2) << " A";
        ++close_pairs;
      }
    }
  }
  EXPECT_GT(close_pairs, 0);  // the bonds themselves
  // Reproducible from the seed; another seed gives another packing.
  EXPECT_EQ(s.positions, mlpot::build_amorphous_li2edc(molecules, 1.7, 1.4, 7).positions);
  EXPECT_NE(s.positions, mlpot::build_amorphous_li2edc(molecules, 1.7, 1.4, 8).positions);
  // Too full: a clear error, not a hang.
  EXPECT_THROW(mlpot::build_amorphous_li2edc(molecules, 3.0, 2.0, 1), mlpot::Error);
  // Not numbers: a zero box (infinite density) or no distance check (NaN) would be silent garbage.
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(mlpot::build_amorphous_li2edc(molecules, inf, 1.4, 1), mlpot::Error);
  EXPECT_THROW(mlpot::build_amorphous_li2edc(molecules, nan, 1.4, 1), mlpot::Error);
  EXPECT_THROW(mlpot::build_amorphous_li2edc(molecules, 1.7, nan, 1), mlpot::Error);
  EXPECT_THROW(mlpot::build_amorphous_li2edc(molecules, 1.7, -1.0, 1), mlpot::Error);
}
