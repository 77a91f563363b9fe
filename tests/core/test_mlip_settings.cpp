// MLIP's LAMMPS-interface settings (src/core/mlip_settings.cpp): MLIP-3 key=value arguments and
// MLIP-2 ini files, their defaults, and errors that name the setting and the file line. That
// LAMMPS then runs such scripts like mlpot's own syntax is tested in tests/lammps/.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "mlpot/error.hpp"
#include "mlpot/mlip_settings.hpp"

namespace {

std::string write_ini(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::vector<std::string>& args) {
  try {
    mlpot::parse_mlip_interface_args(args);
  } catch (const mlpot::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(MlipSettings, Mlip3PlainPotential) {
  auto s = mlpot::parse_mlip_interface_args({"load_from=pot.almtp"});
  EXPECT_EQ(s.potential, "pot.almtp");
  EXPECT_FALSE(s.extrapolation);
  EXPECT_TRUE(s.same_potential_as.empty());
}

TEST(MlipSettings, Mlip3ExtrapolationControl) {
  auto s = mlpot::parse_mlip_interface_args(
      {"load_from=pot.almtp", "extrapolation_control=true", "extrapolation_control:threshold_save=2.5",
       "extrapolation_control:threshold_break=10", "extrapolation_control:save_extrapolative_to=pre.cfg"});
  EXPECT_TRUE(s.extrapolation);
  EXPECT_EQ(s.threshold_save, 2.5);
  EXPECT_EQ(s.threshold_break, 10.0);
  EXPECT_TRUE(s.break_enabled());
  EXPECT_EQ(s.save_to, "pre.cfg");
  EXPECT_TRUE(s.ignored.empty());
}

TEST(MlipSettings, Mlip3DefaultsAreMlipsCfgSampling) {
  auto s = mlpot::parse_mlip_interface_args({"mlip:load_from=p.almtp", "extrapolation_control=TRUE"});
  EXPECT_TRUE(s.extrapolation);
  EXPECT_EQ(s.threshold_save, 2.0);
  EXPECT_EQ(s.threshold_break, 11.0);
  EXPECT_TRUE(s.save_to.empty());
  // MLIP stops a run only when the break threshold exceeds the save threshold.
  s = mlpot::parse_mlip_interface_args({"load_from=p.almtp", "extrapolation_control=1",
                                        "extrapolation_control:threshold_break=0"});
  EXPECT_FALSE(s.break_enabled());
}

TEST(MlipSettings, Mlip3SettingsWithoutEffectAreListed) {
  auto s = mlpot::parse_mlip_interface_args({"load_from=p.almtp", "extrapolation_control:log=grades.log",
                                             "extrapolation_control:add_grade_feature=false", "calculate_efs=true"});
  ASSERT_EQ(s.ignored.size(), 2u);
  EXPECT_NE(s.ignored[0].find("grades.log"), std::string::npos);
  EXPECT_NE(s.ignored[1].find("MV_grade"), std::string::npos);
}

TEST(MlipSettings, Mlip3Errors) {
  EXPECT_NE(error_of({}).find("no settings"), std::string::npos);
  EXPECT_NE(error_of({"load_from=p.almtp", "x=1"}).find("pair_style mlip x: not supported"), std::string::npos);
  EXPECT_NE(error_of({"extrapolation_control=true"}).find("no load_from"), std::string::npos);
  EXPECT_NE(error_of({"load_from=p.almtp", "lotf=true"}).find("not supported"), std::string::npos);
  EXPECT_NE(error_of({"load_from=p.almtp", "extrapolation_control=maybe"}).find("not a boolean"), std::string::npos);
  EXPECT_NE(error_of({"load_from=p.almtp", "extrapolation_control:threshold_save=two"}).find("not a number"),
            std::string::npos);
  EXPECT_NE(error_of({"load_from=p.almtp", "extrapolation_control:threshold_break=nan"}).find("'nan' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of({"load_from=p.almtp", "calculate_efs=false"}).find("needs energies"), std::string::npos);
  EXPECT_NE(error_of({"load_from=p.almtp", "pot.mtp"}).find("not a key=value"), std::string::npos);
}

TEST(MlipSettings, Mlip2IniWithoutSelection) {
  const std::string ini = write_ini("plain.ini", "# MLIP-2\nmtp-filename    pot.mtp   # the potential\n"
                                                 "calculate-efs TRUE\nselect FALSE\n");
  auto s = mlpot::parse_mlip_interface_args({ini});
  EXPECT_EQ(s.potential, "pot.mtp");
  EXPECT_FALSE(s.extrapolation);
}

TEST(MlipSettings, Mlip2IniWithSelection) {
  const std::string ini = write_ini("select.ini",
                                    "mtp-filename pot.mtp\nselect TRUE\n  select:threshold 2.1\n"
                                    "  select:threshold-break 10\n  select:save-selected selected.cfg\n"
                                    "  select:load-state state.als\n  select:log stdout\n");
  auto s = mlpot::parse_mlip_interface_args({ini});
  EXPECT_TRUE(s.extrapolation);
  EXPECT_EQ(s.potential, "state.als");
  EXPECT_EQ(s.same_potential_as, "pot.mtp");
  EXPECT_EQ(s.threshold_save, 2.1);
  EXPECT_EQ(s.threshold_break, 10.0);
  EXPECT_EQ(s.save_to, "selected.cfg");
  EXPECT_EQ(s.ignored.size(), 1u);
  // Without select:threshold-break the run is never stopped.
  const std::string nobreak = write_ini("nobreak.ini", "mtp-filename pot.mtp\nselect TRUE\nselect:load-state s.als\n");
  EXPECT_FALSE(mlpot::parse_mlip_interface_args({nobreak}).break_enabled());
}

TEST(MlipSettings, Mlip2IniErrorsNameFileAndLine) {
  auto line_of = [](const std::string& text) {
    const std::string ini = write_ini("bad.ini", text);
    try {
      mlpot::parse_mlip_interface_args({ini});
    } catch (const mlpot::InputError& e) {
      EXPECT_EQ(e.file(), ini);
      return e.line();
    }
    return -1;
  };
  EXPECT_EQ(line_of("mtp-filename p.mtp\n\nlotf TRUE\n"), 3);
  EXPECT_EQ(line_of("mtp-filename p.mtp\nselect perhaps\n"), 2);
  EXPECT_EQ(line_of("mtp-filename\n"), 1);
  EXPECT_EQ(line_of("mtp-filename a.mtp b.mtp\n"), 1);
  EXPECT_EQ(line_of("select FALSE\n"), 1);                     // no mtp-filename
  EXPECT_EQ(line_of("mtp-filename p.mtp\nselect TRUE\n"), 1);  // no select:load-state
  EXPECT_NE(error_of({testing::TempDir() + "missing.ini"}).find("cannot open"), std::string::npos);
}
