#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "mlpot/builders.hpp"
#include "mlpot/error.hpp"
#include "mlpot/structure_io.hpp"

namespace {
const char* kCfg = R"(BEGIN_CFG
 Size
    2
 Supercell
    5 0 0
    0 5 0
    0 0 5
 AtomData:  id type       cartes_x      cartes_y      cartes_z           fx          fy          fz
             1    0       0.1      0.2      0.3     1 2 3
             2    1       1.5      1.0      1.0     -1 -2 -3
 Energy
        -3.5
 PlusStress:  xx          yy          zz          yz          xz          xy
         1 2 3 4 5 6
 Feature   EFS_by       VASP
END_CFG

BEGIN_CFG
 Size
    1
 AtomData:  id type       cartes_x      cartes_y      cartes_z
             1    0       0      0      0
END_CFG
)";

std::string cfg_error(const std::string& text) {
  try {
    mlpot::parse_cfg(text, "in.cfg");
  } catch (const mlpot::InputError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(StructureIo, ReadsCfg) {
  auto v = mlpot::parse_cfg(kCfg, "in.cfg");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].size(), 2);
  EXPECT_EQ(v[0].species[1], 1);
  EXPECT_EQ(v[0].positions[4], 1.0);
  EXPECT_EQ(*v[0].energy, -3.5);
  EXPECT_EQ((*v[0].plus_stress)[3], 4.0);
  EXPECT_TRUE(v[0].pbc[2]);
  EXPECT_FALSE(v[1].pbc[0]);
  EXPECT_EQ(v[1].source, "in.cfg:18");
}

TEST(StructureIo, CfgRoundTripIsExact) {
  mlpot::Structure s = mlpot::build_li2co3(1, 1, 2);
  s.positions[7] = 1.0 / 3.0;
  s.energy = -2.0 / 3.0;
  std::ostringstream o;
  mlpot::write_cfg(o, s);
  auto back = mlpot::parse_cfg(o.str(), "x.cfg");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].positions, s.positions);
  EXPECT_EQ(back[0].species, s.species);
  EXPECT_EQ(*back[0].energy, *s.energy);
  EXPECT_EQ(back[0].cell, s.cell);
}

TEST(StructureIo, ExtXyzRoundTrip) {
  mlpot::Structure s = mlpot::build_li2co3(1, 1, 1);
  std::ostringstream o;
  mlpot::write_extxyz(o, s, mlpot::sei_elements());
  auto back = mlpot::parse_extxyz(o.str(), "x.xyz", mlpot::sei_elements());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].positions, s.positions);
  EXPECT_EQ(back[0].species, s.species);
  EXPECT_EQ(back[0].cell, s.cell);
  EXPECT_TRUE(back[0].pbc[0] && back[0].pbc[1] && back[0].pbc[2]);
}

TEST(StructureIo, BadCfgNamesFileAndLine) {
  std::string t = kCfg;
  EXPECT_NE(cfg_error(t.substr(0, t.find(" Energy"))).find("missing END_CFG"), std::string::npos);
  std::string nan = t;
  nan.replace(nan.find("1.5      1.0"), 3, "nan");
  EXPECT_NE(cfg_error(nan).find("in.cfg:10: atom 2 has a non-finite coordinate"), std::string::npos) << cfg_error(nan);
  std::string empty = "BEGIN_CFG\n Size\n    0\nEND_CFG\n";
  EXPECT_NE(cfg_error(empty).find("in.cfg:1: configuration has no atoms"), std::string::npos) << cfg_error(empty);
  std::string shortrow = t;
  shortrow.replace(shortrow.find("-1 -2 -3"), 8, "-1 -2");
  EXPECT_NE(cfg_error(shortrow).find("in.cfg:10: atom line has 7 columns"), std::string::npos) << cfg_error(shortrow);
  EXPECT_NE(cfg_error("").find("no configurations"), std::string::npos);
}

TEST(StructureIo, XyzUnknownElementIsAnError) {
  const char* xyz = "1\nLattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3\nXe 0 0 0\n";
  try {
    mlpot::parse_extxyz(xyz, "in.xyz", mlpot::sei_elements());
    FAIL();
  } catch (const mlpot::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("in.xyz:3: atom 1: element 'Xe'"), std::string::npos) << e.what();
  }
}

TEST(Builders, Li2co3HasTheSeedStudyComposition) {
  mlpot::Structure s = mlpot::build_li2co3(3, 5, 4);
  ASSERT_EQ(s.size(), 1440);
  // More atoms than an int counts is an error up front, not hours of appending.
  EXPECT_THROW(mlpot::build_li2co3(2000, 2000, 2000), mlpot::Error);
  int count[6] = {0, 0, 0, 0, 0, 0};
  for (int sp : s.species) ++count[sp];
  EXPECT_EQ(count[1], 480);
  EXPECT_EQ(count[2], 240);
  EXPECT_EQ(count[3], 720);
  // Shortest C-O bond of the carbonate group is about 1.28 A; nothing closer than 1.2 A.
  mlpot::Structure one = mlpot::build_li2co3(1, 1, 1);
  double dmin = 1e9;
  for (int i = 0; i < one.size(); ++i)
    for (int j = 0; j < i; ++j)
      for (int a = -1; a <= 1; ++a)
        for (int b = -1; b <= 1; ++b)
          for (int c = -1; c <= 1; ++c) {
            double r2 = 0;
            for (int d = 0; d < 3; ++d) {
              double x = one.positions[3 * j + d] + a * one.cell[0][d] + b * one.cell[1][d] + c * one.cell[2][d] - one.positions[3 * i + d];
              r2 += x * x;
            }
            dmin = std::min(dmin, std::sqrt(r2));
          }
  EXPECT_GT(dmin, 1.2);
  EXPECT_LT(dmin, 1.35);
}

// Found by tests/fuzz (scripts/fuzz.sh): counts larger than the file were allocated before
// the atom lines were read (out of memory), a Properties count that is not the column's width
// indexed past the atom line, and a line of only a vertical tab trimmed to something with no
// first word.
TEST(StructureIo, CountsBeyondTheFileAreErrorsNotAllocations) {
  std::string xyz_error = "no error";
  try {
    mlpot::parse_extxyz("2159906421\nProperties=species:S:1:pos:R:3\nLi 0 0 0\n", "in.xyz", mlpot::sei_elements());
  } catch (const mlpot::InputError& e) {
    xyz_error = e.what();
  }
  EXPECT_NE(xyz_error.find("in.xyz:3: file ends inside a configuration (expected 2159906421 atoms)"), std::string::npos)
      << xyz_error;
  std::string big = kCfg;
  big.replace(big.find("    2\n"), 6, "    4000000000000\n");
  EXPECT_NE(cfg_error(big).find("in.cfg:3: Size 4000000000000 is more atoms than the file has lines"), std::string::npos)
      << cfg_error(big);
  std::string type = kCfg;
  type.replace(type.find("2    1  "), 8, "2    4294967297  ");
  EXPECT_NE(cfg_error(type).find("in.cfg:10: atom type 4294967297 is out of range"), std::string::npos) << cfg_error(type);
}

TEST(StructureIo, XyzPropertiesWidthsAreChecked) {
  for (const char* props : {"species:S:1:pos:R:3:x:R:-4", "species:S:1:pos:R:2", "species:S:2:pos:R:3",
                            "species:S:1:pos:R:3:forces:R:1", "species:S:1:pos:R:3:x:R:0"}) {
    const std::string xyz = std::string("1\nProperties=") + props + "\nLi 0 0 0\n";
    std::string error = "no error";
    try {
      mlpot::parse_extxyz(xyz, "in.xyz", mlpot::sei_elements());
    } catch (const mlpot::InputError& e) {
      error = e.what();
    }
    EXPECT_NE(error.find("in.xyz:2: Properties: '"), std::string::npos) << props << ": " << error;
  }
}

TEST(StructureIo, LinesOfOtherWhiteSpaceAreBlank) {
  std::string t = kCfg;
  t.insert(t.find(" Energy"), "\v\n \f\t\n");
  const auto v = mlpot::parse_cfg(t, "in.cfg");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(*v[0].energy, -3.5);
}

// Found by tests/fuzz: an info value holding a double quote (read from '...' quoting) was
// written back inside "...", which the reader then split wrongly ("malformed Properties").
TEST(StructureIo, XyzInfoValuesWriteBackAsRead) {
  const char* xyz =
      "1\nnote='say \"hi\" there' tag=a\"b plain=x quoted=\"two words\" "
      "Properties=species:S:1:pos:R:3\nLi 0 0 0\n";
  const auto first = mlpot::parse_extxyz(xyz, "in.xyz", mlpot::sei_elements());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].info.at("note"), "say \"hi\" there");
  EXPECT_EQ(first[0].info.at("tag"), "a\"b");
  std::ostringstream o;
  mlpot::write_extxyz(o, first[0], mlpot::sei_elements());
  const auto again = mlpot::parse_extxyz(o.str(), "out.xyz", mlpot::sei_elements());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].info, first[0].info) << o.str();
}
