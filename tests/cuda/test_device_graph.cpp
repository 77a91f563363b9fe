// The Thrust graph builder (src/cuda/device_graph.cpp) against the host builder
// (build_neighbor_list, itself checked against brute force in test_neighbor_list): the same
// ghosts, the same neighbour sets, the same MACE edges, the same errors. Runs on Thrust's OpenMP
// device system here and on CUDA in the CUDA build (perf/device/run_all.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "mlpot/builders.hpp"
#include "mlpot/device_graph.hpp"
#include "mlpot/error.hpp"
#include "mlpot/neighbor_list.hpp"
#include "random_cell.hpp"

namespace {

mlpot::Structure random_cell(double scale, unsigned seed, int n, int n_species) {
  mlpot::Structure s = mlpot_test::random_cell(scale, seed, n, n_species);
  s.source = "random.cfg:1";
  return s;
}

// (owner_i, image_i, owner_j, image_j) for every entry of every list: the list as a set of pairs
// of lattice sites, independent of how ghosts are numbered.
using Site = std::array<int, 4>;
std::vector<std::pair<Site, Site>> pair_set(const mlpot::GhostedSystem& g) {
  auto site = [&](int a) { return Site{g.owner[a], g.image[3 * a], g.image[3 * a + 1], g.image[3 * a + 2]}; };
  std::vector<std::pair<Site, Site>> out;
  for (int i = 0; i < g.n_listed; ++i) {
    for (auto e = g.offsets[i]; e < g.offsets[i + 1]; ++e) out.push_back({site(i), site(g.neighbors[e])});
  }
  std::sort(out.begin(), out.end());
  return out;
}

void expect_same_lists(const mlpot::Structure& s, double rc, double gc, bool ghost_lists) {
  SCOPED_TRACE(s.source + " rc " + std::to_string(rc) + " ghost " + std::to_string(gc) + (ghost_lists ? " lists" : ""));
  const mlpot::GhostedSystem host = mlpot::build_neighbor_list(s, rc, gc, ghost_lists);
  mlpot::DeviceGraphBuilder builder;
  const mlpot::DeviceNeighborView& v = builder.build(s, rc, gc, ghost_lists);
  EXPECT_EQ(v.memory, mlpot::DeviceGraphBuilder::memory());
  const mlpot::GhostedSystem dev = builder.neighbor_list_to_host();
  ASSERT_EQ(dev.n_local, host.n_local);
  ASSERT_EQ(v.n_total, host.n_total());
  ASSERT_EQ(dev.n_total(), host.n_total());
  ASSERT_EQ(dev.n_listed, host.n_listed);
  EXPECT_EQ(dev.owner, host.owner);
  EXPECT_EQ(dev.image, host.image);
  EXPECT_EQ(dev.species, host.species);
  double worst = 0;
  for (size_t k = 0; k < host.positions.size(); ++k) worst = std::max(worst, std::fabs(dev.positions[k] - host.positions[k]));
  EXPECT_LE(worst, 1e-12);
  EXPECT_GT(host.neighbors.size(), 0u);
  EXPECT_EQ(pair_set(dev), pair_set(host));
  if (mlpot::DeviceGraphBuilder::system() != "CUDA") {
    // Same arithmetic without fused multiply-adds: the very same lists, in the same order.
    EXPECT_EQ(dev.offsets, host.offsets);
    EXPECT_EQ(dev.neighbors, host.neighbors);
  }
}

}  // namespace

TEST(DeviceGraph, NeighbourListsEqualTheHostBuilder) {
  for (double scale : {1.6, 0.6}) {  // 0.6: a cell smaller than the cutoff, many images
    expect_same_lists(random_cell(scale, 3, 12, 3), 5.0, 0.0, false);
  }
  mlpot::Structure li2co3 = mlpot::build_li2co3(2, 2, 2);
  li2co3.source = "li2co3-2x2x2";
  expect_same_lists(li2co3, 5.0, 0.0, false);
  expect_same_lists(li2co3, 4.0, 8.0, true);  // MACE ghost-node shape: inner ghosts listed
  mlpot::Structure edc = mlpot::build_amorphous_li2edc(8, 1.7, 1.4, 7);
  edc.source = "li2edc-8";
  expect_same_lists(edc, 5.0, 0.0, false);
}

TEST(DeviceGraph, OpenAndMixedBoundaries) {
  mlpot::Structure s = random_cell(1.3, 5, 30, 2);
  s.pbc = {false, false, false};
  s.source = "open";
  expect_same_lists(s, 3.0, 0.0, false);
  s.pbc = {true, true, false};
  s.source = "slab";
  expect_same_lists(s, 3.0, 0.0, false);
  expect_same_lists(s, 3.0, 6.0, true);
}

TEST(DeviceGraph, LargeCell) {
  mlpot::Structure s = mlpot::build_li2co3(6, 10, 8);  // 11520 atoms
  s.source = "li2co3-6x10x8";
  expect_same_lists(s, 5.0, 0.0, false);
}

TEST(DeviceGraph, MaceEdgesEqualTheHostGraph) {
  for (double scale : {1.6, 0.6}) {
    mlpot::Structure s = random_cell(scale, 11, 10, 6);
    const double rc = 5.5, r_max = 5.0;
    const mlpot::GhostedSystem host = mlpot::build_neighbor_list(s, rc);
    // Host reference: the edges mace::periodic_graph keeps (centre, owner of the image, image).
    std::vector<std::tuple<long, long, int, int, int>> want;
    for (int i = 0; i < host.n_local; ++i) {
      for (auto e = host.offsets[i]; e < host.offsets[i + 1]; ++e) {
        const int j = host.neighbors[e];
        double r2 = 0;
        for (int d = 0; d < 3; ++d) r2 += std::pow(host.positions[3 * j + d] - host.positions[3 * i + d], 2);
        if (r2 < r_max * r_max) want.emplace_back(i, host.owner[j], host.image[3 * j], host.image[3 * j + 1], host.image[3 * j + 2]);
      }
    }
    std::sort(want.begin(), want.end());
    ASSERT_GT(want.size(), 0u);
    mlpot::DeviceGraphBuilder builder;
    builder.build(s, rc);
    const mlpot::DeviceEdgeView& ev = builder.mace_edges(r_max, 6);
    ASSERT_EQ(size_t(ev.n_edges), want.size());
    const auto h = builder.edges_to_host();
    std::vector<std::tuple<long, long, int, int, int>> got;
    double worst = 0;
    for (std::int64_t k = 0; k < ev.n_edges; ++k) {
      int u[3];
      for (int a = 0; a < 3; ++a) {
        u[a] = int(h.unit_shifts[3 * k + a]);
        EXPECT_EQ(double(u[a]), h.unit_shifts[3 * k + a]);
      }
      for (int d = 0; d < 3; ++d) {
        double shift = u[0] * s.cell[0][d] + u[1] * s.cell[1][d] + u[2] * s.cell[2][d];
        worst = std::max(worst, std::fabs(shift - h.shifts[3 * k + d]));
      }
      got.emplace_back(h.senders[k], h.receivers[k], u[0], u[1], u[2]);
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want);
    EXPECT_LE(worst, 1e-12);
    ASSERT_EQ(h.node_attrs.size(), size_t(s.size()) * 6);
    for (int i = 0; i < s.size(); ++i) {
      for (int c = 0; c < 6; ++c) EXPECT_EQ(h.node_attrs[6 * i + c], c == s.species[i] ? 1.0 : 0.0);
    }
  }
}

TEST(DeviceGraph, FoldsGhostValuesOntoOwners) {
  mlpot::Structure s = random_cell(0.8, 17, 9, 1);
  const mlpot::GhostedSystem host = mlpot::build_neighbor_list(s, 5.0);
  mlpot::DeviceGraphBuilder builder;
  const auto& v = builder.build(s, 5.0);
  std::vector<double> values(3 * size_t(v.n_total));
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-1, 1);
  for (double& x : values) x = u(rng);
  std::vector<double> want(3 * size_t(s.size()), 0.0);
  for (int a = 0; a < host.n_total(); ++a)
    for (int d = 0; d < 3; ++d) want[3 * host.owner[a] + d] += values[3 * a + d];
  double* in = builder.scratch(0, values.size());
  double* out = builder.scratch(1, want.size());
  builder.copy_from_host(values.data(), values.size(), in);
  builder.fold_to_owners(in, 3, out);
  std::vector<double> got(want.size());
  builder.copy_to_host(out, got.size(), got.data());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-14);
}

TEST(DeviceGraph, BadInputGivesTheHostBuildersErrors) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const mlpot::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  mlpot::Structure nan = random_cell(1.0, 2, 6, 1);
  nan.positions[3 * 4 + 1] = std::numeric_limits<double>::quiet_NaN();
  mlpot::Structure twin = random_cell(1.6, 2, 6, 1);
  for (int d = 0; d < 3; ++d) twin.positions[3 * 5 + d] = twin.positions[3 * 2 + d] + 2 * twin.cell[1][d];  // an image
  mlpot::Structure flat = random_cell(1.0, 2, 6, 1);
  flat.cell[2] = {0, 0, 0};
  for (const mlpot::Structure* s : {&nan, &twin, &flat}) {
    mlpot::DeviceGraphBuilder builder;
    const std::string want = message([&] { mlpot::build_neighbor_list(*s, 5.0); });
    EXPECT_NE(want, "no error");
    EXPECT_EQ(message([&] { builder.build(*s, 5.0); }), want);
  }
  EXPECT_NE(message([&] { mlpot::build_neighbor_list(nan, 5.0); }).find("atom 5"), std::string::npos);
  mlpot::DeviceGraphBuilder builder;
  builder.build(random_cell(1.6, 2, 6, 1), 4.0);
  EXPECT_NE(message([&] { builder.mace_edges(5.0, 1); }).find("exceeds"), std::string::npos);
}

TEST(DeviceGraph, HandedOverAtomsGiveTheSameListsAsAStructure) {
  mlpot::Structure s = random_cell(0.9, 23, 14, 3);
  mlpot::DeviceGraphBuilder from_structure, handed_over;
  from_structure.build(s, 5.0);
  // Host pointers (copied to the builder's memory; LAMMPS-Kokkos on a GPU hands device pointers).
  std::vector<double> x = s.positions;
  mlpot::CellAtoms atoms;
  atoms.n = s.size();
  atoms.positions = x.data();
  atoms.species = s.species.data();
  atoms.memory = mlpot::MemorySpace::Host;
  atoms.cell = s.cell;
  atoms.pbc = s.pbc;
  atoms.source = "handed-over";
  handed_over.build(atoms, 5.0);
  const mlpot::GhostedSystem a = from_structure.neighbor_list_to_host(), b = handed_over.neighbor_list_to_host();
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.image, b.image);
  EXPECT_EQ(pair_set(a), pair_set(b));
  EXPECT_EQ(a.positions, b.positions);

  // Non-finite coordinates are found after the copy, on the device.
  x[3 * 6 + 2] = std::numeric_limits<double>::infinity();
  try {
    handed_over.build(atoms, 5.0);
    ADD_FAILURE() << "no error for an infinite coordinate";
  } catch (const mlpot::Error& e) {
    EXPECT_NE(std::string(e.what()).find("handed-over: atom 7 has a non-finite coordinate"), std::string::npos)
        << e.what();
  }
}
