// Selection states (src/core/mtp_selection.cpp): MLIP-3 layout written and read back,
// validation errors. Grades themselves are checked against motep + numpy in
// tests/python/test_grade.py and against MLIP-3's own output (tests/python/test_mlip3_examples.py).
#include <gtest/gtest.h>

#include <random>

#include "mlpot/error.hpp"
#include "mlpot/mtp_selection.hpp"

namespace {

mlpot::MtpModel model_with_state(const mlpot::SelectionState& st, mlpot::MtpModel m) {
  m.selection_state = mlpot::format_selection_state(st);
  return mlpot::parse_mtp(mlpot::format_almtp(m), "state.almtp");
}

mlpot::MtpModel base_model() {
  mlpot::MtpModel t = mlpot::read_mtp(std::string(MLPOT_TEMPLATES) + "/08.almtp");
  t.species_count = 2;
  t.radial_coeffs.assign(size_t(4) * t.radial_funcs_count * t.radial_basis_size, 0.01);
  t.species_coeffs = {0.1, 0.2};
  t.moment_coeffs.assign(t.alpha_scalar_moments(), 0.03);
  t.species_labels = {0, 1};
  t.selection_state.clear();
  return mlpot::parse_mtp(mlpot::format_mtp(t), "base.mtp");
}

}  // namespace

TEST(MtpSelection, RoundTripOfMlip3Layout) {
  mlpot::MtpModel m = base_model();
  auto st = mlpot::initial_selection_state(m, mlpot::GradeMode::Neighborhood, 1e-3);
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-1, 1);
  st.rows[3] = {0, 7};
  mlpot::Structure s;
  s.cell = {{{4, 0, 0}, {0, 4, 0}, {0, 0, 4}}};
  s.pbc = {true, true, true};
  s.positions = {0, 0, 0, 2, 2, 2};
  s.species = {0, 1};
  st.selected.push_back(s);
  mlpot::MtpModel back = model_with_state(st, m);
  mlpot::SelectionState r = mlpot::parse_selection_state(back);
  EXPECT_EQ(r.format, "MVS_v1.1");
  EXPECT_EQ(r.mode, mlpot::GradeMode::Neighborhood);
  EXPECT_EQ(r.n, m.parameter_count());
  EXPECT_EQ(r.A, st.A);
  EXPECT_EQ(r.inv_A, st.inv_A);
  EXPECT_EQ(r.rows[3][1], 7);
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].positions, s.positions);
  // The potential part is unaffected by the state.
  EXPECT_EQ(back.moment_coeffs, m.moment_coeffs);
  // Configuration-mode scaling: energy_weight / N^(weight_scaling/2).
  r.energy_weight = 2.0;
  r.weight_scaling = 2;
  EXPECT_DOUBLE_EQ(r.energy_row_scale(8), 0.25);
  r.weight_scaling = 1;
  EXPECT_DOUBLE_EQ(r.energy_row_scale(16), 0.5);
}

TEST(MtpSelection, ErrorsNameTheProblem) {
  mlpot::MtpModel m = base_model();
  auto st = mlpot::initial_selection_state(m, mlpot::GradeMode::Configuration);
  mlpot::MtpModel good = model_with_state(st, m);
  auto expect_error = [](mlpot::MtpModel mm, const std::string& needle) {
    try {
      mlpot::parse_selection_state(mm);
      ADD_FAILURE() << "no error, expected '" << needle << "'";
    } catch (const mlpot::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("state.almtp"), std::string::npos) << e.what();
    }
  };
  mlpot::MtpModel trunc = good;
  trunc.selection_state.resize(trunc.selection_state.size() / 2);
  expect_error(trunc, "truncated");
  mlpot::MtpModel weights = good;
  weights.selection_state.replace(weights.selection_state.find("stress_weight 0"), 15, "stress_weight 1");
  expect_error(weights, "energy only");
  mlpot::MtpModel marker = good;
  marker.selection_state.replace(0, 9, "#MVS_v9.9");
  expect_error(marker, "expected '#MVS_v1.1'");
  mlpot::MtpModel scaling = good;
  scaling.selection_state.replace(scaling.selection_state.find("weight_scaling 2"), 16, "weight_scaling x");
  expect_error(scaling, "weight_scaling");
  mlpot::MtpModel none = m;
  none.source = "state.almtp";
  expect_error(none, "no selection state");
}
