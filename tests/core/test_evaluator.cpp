// mlpot::Evaluator (its Verlet list) against evaluate(), which builds every list afresh: a random
// walk of Li2CO3 with a synthetic level-16 MTP, small steps that reuse the list and a jump that
// must rebuild it, in an orthorhombic and a sheared cell.
#include <gtest/gtest.h>

#include <random>

#include "mlpot/builders.hpp"
#include "mlpot/evaluator.hpp"
#include "mlpot/mtp_potential.hpp"

namespace {

double worst(const std::vector<double>& a, const std::vector<double>& b) {
  double w = 0;
  for (size_t k = 0; k < a.size(); ++k) w = std::max(w, std::abs(a[k] - b[k]));
  return w;
}

void walk(mlpot::Structure s) {
  mlpot::MtpModel t = mlpot::read_mtp(std::string(MLPOT_TEMPLATES) + "/16.almtp");
  auto pot = mlpot::make_mtp_potential(mlpot::make_synthetic_mtp(t, 6, 0.92, 5.0, 2025), "Serial");
  mlpot::Evaluator ev(*pot, 1.0);
  std::mt19937 rng(7);
  std::normal_distribution<double> step(0.0, 0.02);
  long expected_builds = 0;
  for (int call = 0; call < 12; ++call) {
    bool jump = call == 8;  // one atom 0.6 A away: beyond skin/2, a new list
    if (call > 0) {
      for (double& x : s.positions) x += step(rng);
      if (jump) s.positions[0] += 0.6;
    }
    if (call == 0 || jump) ++expected_builds;
    const mlpot::Evaluation got = ev.evaluate(s);
    const mlpot::Evaluation ref = mlpot::evaluate(*pot, s);
    EXPECT_NEAR(got.energy, ref.energy, 1e-12 * std::abs(ref.energy)) << "call " << call;
    EXPECT_LT(worst(got.forces, ref.forces), 1e-11) << "call " << call;
    EXPECT_LT(worst(got.atom_energy, ref.atom_energy), 1e-12) << "call " << call;
    EXPECT_LT(worst(std::vector<double>(got.virial.begin(), got.virial.end()),
                    std::vector<double>(ref.virial.begin(), ref.virial.end())),
              1e-10)
        << "call " << call;
    EXPECT_EQ(ev.builds(), expected_builds) << "call " << call;
  }
  // A changed cell rebuilds.
  s.cell[0][0] *= 1.01;
  ev.evaluate(s);
  EXPECT_EQ(ev.builds(), expected_builds + 1);
}

TEST(Evaluator, VerletListMatchesFreshListsOrthorhombic) {
  walk(mlpot::build_li2co3(1, 2, 1));
}

TEST(Evaluator, VerletListMatchesFreshListsSheared) {
  mlpot::Structure s = mlpot::build_li2co3(1, 1, 2);
  // Shear the cell (another periodic structure of the same atoms): images along a tilted vector.
  for (int d = 0; d < 3; ++d) s.cell[2][d] += 0.3 * s.cell[0][d];
  walk(s);
}

TEST(Evaluator, RefusesANegativeSkin) {
  mlpot::MtpModel t = mlpot::read_mtp(std::string(MLPOT_TEMPLATES) + "/08.almtp");
  auto pot = mlpot::make_mtp_potential(mlpot::make_synthetic_mtp(t, 6, 0.92, 5.0, 1), "Serial");
  EXPECT_THROW(mlpot::Evaluator(*pot, -1.0), mlpot::Error);
}

}  // namespace
