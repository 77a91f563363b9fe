#include <gtest/gtest.h>


#include "mlpot/error.hpp"
#include "mlpot/mtp_model.hpp"

namespace {

std::string templ(const char* level) { return std::string(MLPOT_TEMPLATES) + "/" + level + ".almtp"; }

// A small trained level-6-like model with 2 species, written by hand.
const char* kTwoSpecies = R"(MTP
version = 1.1.0
potential_name = test
scaling = 0.5
species_count = 2
potential_tag = 
radial_basis_type = RBChebyshev
	min_dist = 1.5
	max_dist = 5
	radial_basis_size = 3
	radial_funcs_count = 1
	radial_coeffs
		0-0
			{0.1, 0.2, 0.3}
		0-1
			{0.4, 0.5, 0.6}
		1-0
			{0.7, 0.8, 0.9}
		1-1
			{1.0, 1.1, 1.2}
alpha_moments_count = 2
alpha_index_basic_count = 1
alpha_index_basic = {{0, 0, 0, 0}}
alpha_index_times_count = 1
alpha_index_times = {{0, 0, 1, 1}}
alpha_scalar_moments = 2
alpha_moment_mapping = {0, 1}
species_coeffs = {-1, -2}
moment_coeffs = {0.25, 0.125}
)";

std::string error_of(const std::string& text) {
  try {
    mlpot::parse_mtp(text, "bad.mtp");
  } catch (const mlpot::InputError& e) {
    return e.what();
  }
  return "no error";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  return s.replace(p, from.size(), to);
}

}  // namespace

TEST(MtpModel, TemplatesHaveTheDocumentedCounts) {
  struct Row { const char* level; int K, moments, basic, times, scalar, lev; };
  const Row rows[] = {{"08", 2, 18, 11, 14, 9, 8},         {"10", 3, 41, 25, 42, 16, 10},
                      {"16", 4, 350, 130, 969, 92, 16},   {"20", 5, 1352, 295, 6349, 288, 20},
                      {"28", 6, 17366, 866, 180069, 2445, 28}};
  for (const Row& r : rows) {
    mlpot::MtpModel m = mlpot::read_mtp(templ(r.level));
    EXPECT_EQ(m.radial_funcs_count, r.K) << r.level;
    EXPECT_EQ(m.alpha_moments_count, r.moments) << r.level;
    EXPECT_EQ(int(m.alpha_index_basic.size()), r.basic) << r.level;
    EXPECT_EQ(int(m.alpha_index_times.size()), r.times) << r.level;
    EXPECT_EQ(m.alpha_scalar_moments(), r.scalar) << r.level;
    EXPECT_EQ(m.level(), r.lev) << r.level;
    EXPECT_FALSE(m.trained());
    EXPECT_EQ(m.min_dist, 2.0);
    EXPECT_EQ(m.max_dist, 5.0);
  }
}

TEST(MtpModel, ParsesEveryField) {
  mlpot::MtpModel m = mlpot::parse_mtp(kTwoSpecies, "two.mtp");
  EXPECT_EQ(m.potential_name, "test");
  EXPECT_EQ(m.scaling, 0.5);
  EXPECT_EQ(m.species_count, 2);
  EXPECT_TRUE(m.has_potential_tag);
  EXPECT_EQ(m.potential_tag, "");
  EXPECT_EQ(m.radial_coeff(1, 0, 0, 2), 0.9);
  EXPECT_EQ(m.radial_coeff(0, 1, 0, 0), 0.4);
  EXPECT_EQ(m.species_coeffs[1], -2.0);
  EXPECT_EQ(m.moment_coeffs[1], 0.125);
  EXPECT_EQ(m.parameter_count(), 2 * 2 * 1 * 3 + 2 + 2);
  EXPECT_TRUE(m.trained());
}

TEST(MtpModel, WriteReadRoundTripIsExact) {
  mlpot::MtpModel m = mlpot::parse_mtp(kTwoSpecies, "two.mtp");
  // Values that need all 17 significant digits.
  m.radial_coeffs[3] = 0.1 + 0.2;
  m.moment_coeffs[0] = 1.0 / 3.0;
  m.scaling = 2.0 / 7.0;
  std::string text = mlpot::format_mtp(m);
  mlpot::MtpModel back = mlpot::parse_mtp(text, "round.mtp");
  EXPECT_EQ(back.radial_coeffs, m.radial_coeffs);
  EXPECT_EQ(back.moment_coeffs, m.moment_coeffs);
  EXPECT_EQ(back.species_coeffs, m.species_coeffs);
  EXPECT_EQ(back.scaling, m.scaling);
  EXPECT_EQ(back.alpha_index_times, m.alpha_index_times);
  EXPECT_EQ(back.potential_name, m.potential_name);
  EXPECT_EQ(mlpot::format_mtp(back), text);
  // A template (no coefficients) round-trips too.
  mlpot::MtpModel t = mlpot::read_mtp(templ("16"));
  EXPECT_EQ(mlpot::format_mtp(mlpot::parse_mtp(mlpot::format_mtp(t), "t")), mlpot::format_mtp(t));
}

TEST(MtpModel, KeepsAlmtpSelectionStateByteForByte) {
  std::string state("#MVS_v1.1\nenergy_weight 1\n#\x01\x02\0binary\xff", 34);
  std::string text = std::string(kTwoSpecies) + "\n" + state;
  mlpot::MtpModel m = mlpot::parse_mtp(text, "pot.almtp");
  EXPECT_EQ(m.selection_state, state);
  EXPECT_EQ(m.species_count, 2);
  mlpot::MtpModel again = mlpot::parse_mtp(mlpot::format_almtp(m), "again.almtp");
  EXPECT_EQ(again.selection_state, state);
}

TEST(MtpModel, TruncatedFileNamesFileAndLine) {
  std::string text = kTwoSpecies;
  std::string cut = text.substr(0, text.find("alpha_index_times ="));
  std::string msg = error_of(cut);
  EXPECT_NE(msg.find("bad.mtp:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  // Cut in the middle of a list.
  msg = error_of(text.substr(0, text.find("0.125")));
  EXPECT_NE(msg.find("bad.mtp:29"), std::string::npos) << msg;
}

TEST(MtpModel, WrongVersionIsRejected) {
  std::string msg = error_of(replace(kTwoSpecies, "version = 1.1.0", "version = 2.0.0"));
  EXPECT_NE(msg.find("bad.mtp:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("version '2.0.0'"), std::string::npos) << msg;
  msg = error_of("not an mtp\n");
  EXPECT_NE(msg.find("expected 'MTP'"), std::string::npos) << msg;
}

TEST(MtpModel, SpeciesCountInconsistentWithRadialCoeffs) {
  std::string msg = error_of(replace(kTwoSpecies, "species_count = 2", "species_count = 3"));
  EXPECT_NE(msg.find("bad.mtp:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("species_count = 3"), std::string::npos) << msg;
  msg = error_of(replace(replace(kTwoSpecies, "species_count = 2", "species_count = 1"), "species_coeffs = {-1, -2}",
                         "species_coeffs = {-1}"));
  EXPECT_NE(msg.find("more blocks than species_count = 1"), std::string::npos) << msg;
  msg = error_of(replace(kTwoSpecies, "{0.4, 0.5, 0.6}", "{0.4, 0.5}"));
  EXPECT_NE(msg.find("bad.mtp:15: radial_coeffs row has 2 values"), std::string::npos) << msg;
}

TEST(MtpModel, EveryMlipBasisIsReadAndEvaluable) {
  std::string msg = error_of(replace(kTwoSpecies, "= RBChebyshev", "= RBBessel"));
  EXPECT_NE(msg.find("bad.mtp:7: unknown radial basis type 'RBBessel'"), std::string::npos) << msg;
  for (const char* basis : {"RBChebyshev_repuls", "BChebyshev", "BChebyshev_repuls", "RBShapeev", "RBTaylor"}) {
    mlpot::MtpModel m = mlpot::parse_mtp(replace(kTwoSpecies, "= RBChebyshev", std::string("= ") + basis), "ok.mtp");
    EXPECT_EQ(m.radial_basis_type, basis);
    EXPECT_NO_THROW(mlpot::require_evaluable(m)) << basis;
    // The writer keeps the basis: read back, the same potential.
    EXPECT_TRUE(mlpot::same_potential(m, mlpot::parse_mtp(mlpot::format_mtp(m), "again.mtp"))) << basis;
  }
  // MLIP-3 defines RBShapeev for 12 functions at most.
  mlpot::MtpModel shapeev = mlpot::parse_mtp(replace(kTwoSpecies, "= RBChebyshev", "= RBShapeev"), "shapeev.mtp");
  shapeev.radial_basis_size = 13;
  try {
    mlpot::require_evaluable(shapeev);
    ADD_FAILURE() << "RBShapeev with 13 functions evaluated";
  } catch (const mlpot::Error& e) {
    EXPECT_NE(std::string(e.what()).find("shapeev.mtp: radial basis 'RBShapeev' with radial_basis_size = 13"),
              std::string::npos)
        << e.what();
  }
}

// mMTP needs per-atom magnetic moments, which no input carries: refused, saying so, wherever
// the magnetic block sits (MLIP-3 writes it after the radial basis).
TEST(MtpModel, MagneticMtpIsRefusedWithTheReason) {
  for (const std::string& where : {std::string("radial_basis_type"), std::string("radial_funcs_count")}) {
    std::string text = replace(kTwoSpecies, where, "magnetic_basis_type = BChebyshev\n" + where);
    std::string msg = error_of(text);
    EXPECT_NE(msg.find("magnetic MTP"), std::string::npos) << msg;
    EXPECT_NE(msg.find("magnetic moment"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bad.mtp:"), std::string::npos) << msg;
  }
}

TEST(MtpModel, InconsistentBasisIndicesAreRejected) {
  EXPECT_NE(error_of(replace(kTwoSpecies, "{{0, 0, 1, 1}}", "{{0, 3, 1, 1}}")).find("alpha_index_times entry"), std::string::npos);
  EXPECT_NE(error_of(replace(kTwoSpecies, "{0, 1}\nspecies", "{0, 7}\nspecies")).find("alpha_moment_mapping index 7"), std::string::npos);
  EXPECT_NE(error_of(replace(kTwoSpecies, "moment_coeffs = {0.25, 0.125}", "moment_coeffs = {0.25}")).find("moment_coeffs has 1 entries"), std::string::npos);
  EXPECT_NE(error_of(replace(kTwoSpecies, "alpha_index_basic_count = 1", "alpha_index_basic_count = 2")).find("alpha_index_basic has 1 entries"), std::string::npos);
  // Beyond an int: it was truncated (4294967296 read as 0).
  EXPECT_NE(error_of(replace(kTwoSpecies, "{{0, 0, 0, 0}}", "{{0, 4294967296, 0, 0}}"))
                .find("bad.mtp:23: entry of alpha_index_basic out of range: 4294967296"),
            std::string::npos)
      << error_of(replace(kTwoSpecies, "{{0, 0, 0, 0}}", "{{0, 4294967296, 0, 0}}"));
}

// MLIP evaluates alpha_index_times in file order; an entry that adds to a moment an earlier
// entry has already read would make that order matter, and our level-parallel products differ.
TEST(MtpModel, ProductsMustBeInEvaluationOrder) {
  auto with_times = [](const std::string& times) {
    std::string t = replace(kTwoSpecies, "alpha_moments_count = 2", "alpha_moments_count = 3");
    t = replace(t, "alpha_index_times_count = 1", "alpha_index_times_count = 3");
    return replace(t, "{{0, 0, 1, 1}}", times);
  };
  EXPECT_EQ(error_of(with_times("{{0, 0, 1, 1}, {0, 0, 2, 1}, {1, 1, 1, 2}}")), "no error");
  std::string msg = error_of(with_times("{{0, 0, 1, 1}, {1, 1, 1, 2}, {0, 0, 2, 1}}"));
  EXPECT_NE(msg.find("bad.mtp:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("entry {0, 0, 2, 1} is out of range or not in evaluation order"), std::string::npos) << msg;
}

TEST(MtpModel, UntrainedTemplateCannotBeEvaluated) {
  mlpot::MtpModel t = mlpot::read_mtp(templ("08"));
  EXPECT_THROW(mlpot::require_evaluable(t), mlpot::Error);
  EXPECT_THROW(mlpot::read_mtp("/nonexistent/model.mtp"), mlpot::Error);
}

// The kernels' product tables hold a term's moment indices and multiplicity in 16 bits each;
// a model beyond them is refused before any table is built, naming the file and the entry.
TEST(MtpModel, ProductTableLimits) {
  mlpot::MtpModel m = mlpot::parse_mtp(kTwoSpecies, "two.mtp");
  EXPECT_NO_THROW(mlpot::require_evaluable(m));
  mlpot::MtpModel big = m;
  big.alpha_index_times[0][2] = 40000;
  try {
    mlpot::require_evaluable(big);
    ADD_FAILURE() << "a multiplicity of 40000 was accepted";
  } catch (const mlpot::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("two.mtp: alpha_index_times entry {0, 0, 40000, 1} has a multiplicity outside"), std::string::npos)
        << msg;
  }
  // Found by tests/fuzz: a rank of 10000 had build_tables enumerate ~1.7e11 monomials.
  big = m;
  big.alpha_index_basic[0] = {0, 10000, 0, 0};
  try {
    mlpot::require_evaluable(big);
    ADD_FAILURE() << "a tensor of rank 10000 was accepted";
  } catch (const mlpot::Error& e) {
    EXPECT_NE(std::string(e.what()).find("two.mtp: alpha_index_basic has a tensor of rank 10000, more than the 32"),
              std::string::npos) << e.what();
  }
  big = m;
  big.alpha_moments_count = 70000;
  try {
    mlpot::require_evaluable(big);
    ADD_FAILURE() << "70000 moments were accepted";
  } catch (const mlpot::Error& e) {
    EXPECT_NE(std::string(e.what()).find("alpha_moments_count = 70000 is more than the 65536"), std::string::npos) << e.what();
  }
}
