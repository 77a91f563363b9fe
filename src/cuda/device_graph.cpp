// Thrust graph building (see include/mlpot/device_graph.hpp). Compiled once per build with
// Thrust's device system chosen by CMake: CUDA (nvcc, build-cuda/) or OpenMP (g++, build/).
// Every pass is a Thrust algorithm over a counting range with a functor on raw pointers, so the
// same code runs as CUDA kernels or OpenMP loops.
#include "mlpot/device_graph.hpp"

#include <thrust/binary_search.h>
#include <thrust/copy.h>
#include <thrust/device_ptr.h>
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/fill.h>
#include <thrust/find.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/partition.h>
#include <thrust/scan.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/system_error.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <cmath>
#include <new>
#include <string>

#include "mlpot/error.hpp"

namespace mlpot {

namespace {

template <class T>
T* raw(thrust::device_vector<T>& v) {
  return thrust::raw_pointer_cast(v.data());
}
template <class T>
const T* raw(const thrust::device_vector<T>& v) {
  return thrust::raw_pointer_cast(v.data());
}
template <class T>
std::vector<T> to_host(const thrust::device_vector<T>& v) {
  std::vector<T> h(v.size());
  thrust::copy(v.begin(), v.end(), h.begin());
  return h;
}
template <class T>
T value_at(const thrust::device_vector<T>& v, std::size_t i) {
  return v[i];  // one element to the host
}

std::string where(const Structure& s) { return s.source.empty() ? std::string("structure") : s.source; }

// ImageFrame as plain arrays, passed by value into device functors.
struct Geometry {
  double inv[3][3], cell[3][3];
  bool pbc[3];
  int n_img[3];
  double margin[3], inner[3];
  int n_images = 1;  // (2 n_img + 1) product; image m = ((t0 + n0) * w1 + (t1 + n1)) * w2 + t2 + n2
  int zero_image = 0;

  MLPOT_HOST_DEVICE void translation(int m, int t[3]) const {
    const int w2 = 2 * n_img[2] + 1, w1 = 2 * n_img[1] + 1;
    t[2] = m % w2 - n_img[2];
    t[1] = (m / w2) % w1 - n_img[1];
    t[0] = m / (w2 * w1) - n_img[0];
  }
};

Geometry make_geometry(const ImageFrame& f) {
  Geometry g{};
  for (int a = 0; a < 3; ++a) {
    g.pbc[a] = f.pbc[a];
    g.n_img[a] = f.periodic ? f.n_img[a] : 0;
    g.margin[a] = f.margin[a];
    g.inner[a] = f.inner[a];
    for (int d = 0; d < 3; ++d) {
      g.inv[a][d] = f.inverse[a][d];
      g.cell[a][d] = f.cell[a][d];
    }
  }
  g.n_images = (2 * g.n_img[0] + 1) * (2 * g.n_img[1] + 1) * (2 * g.n_img[2] + 1);
  g.zero_image = g.n_images / 2;
  return g;
}

struct WrapLocals {
  Geometry geo;
  bool periodic;
  const double* x;
  double* frac;
  double* pos;
  int* owner;
  int* image;
  MLPOT_HOST_DEVICE void operator()(int i) const {
    if (periodic) {
      wrap_position(x + 3 * i, geo.inv, geo.cell, geo.pbc, frac + 3 * i, pos + 3 * i);
    } else {
      for (int d = 0; d < 3; ++d) pos[3 * i + d] = x[3 * i + d];
    }
    owner[i] = i;
    for (int d = 0; d < 3; ++d) image[3 * i + d] = 0;
  }
};

// Candidate ghost k = m * n + i (image m, atom i): the host builder's loop order, so selected
// candidates come out in its order.
struct InShell {
  Geometry geo;
  const double* frac;
  int n;
  bool inner;  // test the inner shell instead
  MLPOT_HOST_DEVICE bool operator()(long long k) const {
    const int m = int(k / n), i = int(k % n);
    if (m == geo.zero_image) return false;
    int t[3];
    geo.translation(m, t);
    bool in = true;
    for (int a = 0; a < 3; ++a) {
      if (!geo.pbc[a]) continue;
      double f = frac[3 * i + a] + t[a];
      if (inner) {
        in = in && f >= -geo.inner[a] && f <= 1.0 + geo.inner[a];
      } else {
        in = in && f >= -geo.margin[a] && f <= 1.0 + geo.margin[a];
      }
    }
    return in;
  }
};

struct MakeGhosts {
  Geometry geo;
  const long long* candidate;
  int n;
  const int* species_in;
  double* pos;
  int* species;
  int* owner;
  int* image;
  MLPOT_HOST_DEVICE void operator()(int q) const {
    const long long k = candidate[q];
    const int m = int(k / n), i = int(k % n), a = n + q;
    int t[3];
    geo.translation(m, t);
    for (int d = 0; d < 3; ++d) {
      pos[3 * a + d] = pos[3 * i + d] + t[0] * geo.cell[0][d] + t[1] * geo.cell[1][d] + t[2] * geo.cell[2][d];
      image[3 * a + d] = t[d];
    }
    species[a] = species_in[i];
    owner[a] = i;
  }
};

struct Box {
  double lo[3], hi[3];
};
struct PointBox {
  const double* pos;
  MLPOT_HOST_DEVICE Box operator()(int a) const {
    Box b;
    for (int d = 0; d < 3; ++d) b.lo[d] = b.hi[d] = pos[3 * a + d];
    return b;
  }
};
struct MergeBox {
  MLPOT_HOST_DEVICE Box operator()(const Box& x, const Box& y) const {
    Box b;
    for (int d = 0; d < 3; ++d) {
      b.lo[d] = x.lo[d] < y.lo[d] ? x.lo[d] : y.lo[d];
      b.hi[d] = x.hi[d] > y.hi[d] ? x.hi[d] : y.hi[d];
    }
    return b;
  }
};

struct BinKey {
  BinGrid grid;
  const double* pos;
  MLPOT_HOST_DEVICE long operator()(int a) const {
    return (bin_coordinate(grid, pos[3 * a], 0) * grid.nb[1] + bin_coordinate(grid, pos[3 * a + 1], 1)) * grid.nb[2] +
           bin_coordinate(grid, pos[3 * a + 2], 2);
  }
};

// One pass over the 27 bins around atom i; `Visit` sees each j != i closer than the cutoff.
// The order (bins, then atoms by index within a bin) is the host builder's.
template <class Visit>
MLPOT_HOST_DEVICE void for_each_neighbor(const BinGrid& grid, const double* pos, const int* bin_start,
                                         const int* bin_atoms, double rc2, int i, Visit& visit) {
  long bi[3];
  for (int d = 0; d < 3; ++d) bi[d] = bin_coordinate(grid, pos[3 * i + d], d);
  const long* nb = grid.nb;
  for (long b0 = bi[0] > 0 ? bi[0] - 1 : 0; b0 <= (bi[0] + 1 < nb[0] ? bi[0] + 1 : nb[0] - 1); ++b0) {
    for (long b1 = bi[1] > 0 ? bi[1] - 1 : 0; b1 <= (bi[1] + 1 < nb[1] ? bi[1] + 1 : nb[1] - 1); ++b1) {
      for (long b2 = bi[2] > 0 ? bi[2] - 1 : 0; b2 <= (bi[2] + 1 < nb[2] ? bi[2] + 1 : nb[2] - 1); ++b2) {
        const long b = (b0 * nb[1] + b1) * nb[2] + b2;
        for (int q = bin_start[b]; q < bin_start[b + 1]; ++q) {
          const int j = bin_atoms[q];
          if (j == i) continue;
          double r2 = 0;
          for (int d = 0; d < 3; ++d) {
            double dx = pos[3 * j + d] - pos[3 * i + d];
            r2 += dx * dx;
          }
          if (r2 < rc2) visit(j, r2);
        }
      }
    }
  }
}

struct CountVisit {
  std::int64_t count = 0;
  int coincident = -1;
  MLPOT_HOST_DEVICE void operator()(int j, double r2) {
    if (r2 < 1e-20 && coincident < 0) coincident = j;
    ++count;
  }
};
struct CountNeighbors {
  BinGrid grid;
  double rc2;
  const double* pos;
  const int* bin_start;
  const int* bin_atoms;
  std::int64_t* counts;
  int* coincident;
  MLPOT_HOST_DEVICE void operator()(int i) const {
    CountVisit v;
    for_each_neighbor(grid, pos, bin_start, bin_atoms, rc2, i, v);
    counts[i] = v.count;
    coincident[i] = v.coincident;
  }
};

struct FillVisit {
  int* out;
  MLPOT_HOST_DEVICE void operator()(int j, double) { *out++ = j; }
};
struct FillNeighbors {
  BinGrid grid;
  double rc2;
  const double* pos;
  const int* bin_start;
  const int* bin_atoms;
  const std::int64_t* offsets;
  int* neighbors;
  MLPOT_HOST_DEVICE void operator()(int i) const {
    FillVisit v{neighbors + offsets[i]};
    for_each_neighbor(grid, pos, bin_start, bin_atoms, rc2, i, v);
  }
};

struct IsSet {
  MLPOT_HOST_DEVICE bool operator()(int v) const { return v >= 0; }
};

// MACE edges: mark the entries of the local atoms' lists closer than r_max.
struct MarkEdges {
  double r2_max;
  const double* pos;
  const std::int64_t* offsets;
  const int* neighbors;
  int* keep;
  int* centre;
  MLPOT_HOST_DEVICE void operator()(int i) const {
    for (std::int64_t e = offsets[i]; e < offsets[i + 1]; ++e) {
      const int j = neighbors[e];
      double r2 = 0;
      for (int d = 0; d < 3; ++d) {
        double dx = pos[3 * j + d] - pos[3 * i + d];
        r2 += dx * dx;
      }
      keep[e] = r2 < r2_max ? 1 : 0;
      centre[e] = i;
    }
  }
};
struct IsOne {
  MLPOT_HOST_DEVICE bool operator()(int v) const { return v == 1; }
};
struct MakeEdges {
  double full[3][3];  // lattice rows, zero on open axes
  const std::int64_t* entry;
  const int* centre;
  const int* neighbors;
  const int* owner;
  const int* image;
  std::int64_t* senders;
  std::int64_t* receivers;
  double* shifts;
  double* unit_shifts;
  MLPOT_HOST_DEVICE void operator()(std::int64_t k) const {
    const std::int64_t e = entry[k];
    const int j = neighbors[e];
    senders[k] = centre[e];
    receivers[k] = owner[j];
    double u[3];
    for (int a = 0; a < 3; ++a) u[a] = double(image[3 * j + a]);
    for (int d = 0; d < 3; ++d) {
      unit_shifts[3 * k + d] = u[d];
      shifts[3 * k + d] = u[0] * full[0][d] + u[1] * full[1][d] + u[2] * full[2][d];
    }
  }
};
struct OneHot {
  int n_species;
  const int* species;
  double* attrs;
  MLPOT_HOST_DEVICE void operator()(long long k) const {
    const long long i = k / n_species;
    const int c = int(k % n_species);
    attrs[k] = species[i] == c ? 1.0 : 0.0;
  }
};

struct FoldOwners {
  int width;
  const int* start;
  const int* atoms;
  const double* in;
  double* out;
  MLPOT_HOST_DEVICE void operator()(int i) const {
    for (int c = 0; c < width; ++c) {
      double s = 0.0;
      for (int q = start[i]; q < start[i + 1]; ++q) s += in[std::int64_t(atoms[q]) * width + c];
      out[std::int64_t(i) * width + c] = s;
    }
  }
};

}  // namespace

struct DeviceGraphBuilder::Impl {
  // Neighbour list
  thrust::device_vector<double> x_in, frac, positions;
  thrust::device_vector<int> species_in, species, owner, image;
  thrust::device_vector<long long> candidates;
  thrust::device_vector<long> bin_keys;
  thrust::device_vector<int> bin_atoms, bin_start, coincident, neighbors;
  thrust::device_vector<std::int64_t> counts, offsets;
  thrust::device_vector<int> owner_atoms, owner_start;  // atoms sorted by owner, for folding
  thrust::device_vector<int> owner_keys;
  DeviceNeighborView view;
  Geometry geo{};
  bool periodic = false;
  double cutoff = 0.0;
  // MACE edges
  thrust::device_vector<int> keep, centre;
  thrust::device_vector<std::int64_t> entries, senders, receivers;
  thrust::device_vector<double> shifts, unit_shifts, node_attrs;
  DeviceEdgeView edges;
  thrust::device_vector<double> scratch[4];

  // Lists for the atoms in x_in / species_in (loaded by the caller).
  void build(const ImageFrame& frame, int n, double cutoff, bool ghost_lists, const std::string& where);
};

DeviceGraphBuilder::DeviceGraphBuilder() : impl_(std::make_unique<Impl>()) {}
DeviceGraphBuilder::~DeviceGraphBuilder() = default;

std::string DeviceGraphBuilder::system() {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
  return "CUDA";
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
  return "OpenMP";
#else
  return "CPP";
#endif
}

MemorySpace DeviceGraphBuilder::memory() {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
  return MemorySpace::Device;
#else
  return MemorySpace::Host;
#endif
}

namespace {

// Thrust's allocation and launch failures as mlpot errors naming the input.
template <class F>
void device_errors_named(const std::string& where, int n, double cutoff, F&& f) {
  try {
    f();
  } catch (const std::bad_alloc&) {
    throw Error(where + ": out of " + DeviceGraphBuilder::system() + " device memory building the neighbour list of " +
                std::to_string(n) + " atoms (cutoff " + std::to_string(cutoff) + " A)");
  } catch (const thrust::system_error& e) {
    throw Error(where + ": " + DeviceGraphBuilder::system() + " error building the neighbour list: " + e.what());
  }
}

struct NotFinite {
  MLPOT_HOST_DEVICE bool operator()(double v) const { return !(v - v == 0.0); }  // NaN or infinite
};

}  // namespace

const DeviceNeighborView& DeviceGraphBuilder::build(const Structure& s, double cutoff, double ghost_cutoff,
                                                    bool ghost_lists) {
  const ImageFrame frame = image_frame(s, cutoff, ghost_cutoff);  // validates, throws on bad input
  device_errors_named(where(s), s.size(), cutoff, [&] {
    impl_->x_in.assign(s.positions.begin(), s.positions.end());
    impl_->species_in.assign(s.species.begin(), s.species.end());
    impl_->build(frame, s.size(), cutoff, ghost_lists, where(s));
  });
  return impl_->view;
}

const DeviceNeighborView& DeviceGraphBuilder::build(const CellAtoms& a, double cutoff, double ghost_cutoff,
                                                    bool ghost_lists) {
  if (a.n <= 0) throw Error(a.source + ": no atoms");
  if (a.memory == MemorySpace::Device && memory() != MemorySpace::Device) {
    throw Error(a.source + ": device pointers given to the " + system() + " graph builder");
  }
  const ImageFrame frame = image_frame(a.cell, a.pbc, cutoff, ghost_cutoff, a.source);
  Impl& m = *impl_;
  device_errors_named(a.source, a.n, cutoff, [&] {
    const std::size_t n3 = 3 * std::size_t(a.n);
    m.x_in.resize(n3);
    m.species_in.resize(a.n);
    if (a.memory == MemorySpace::Device) {  // device to device
      thrust::copy(thrust::device_pointer_cast(a.positions), thrust::device_pointer_cast(a.positions) + n3, m.x_in.begin());
      thrust::copy(thrust::device_pointer_cast(a.species), thrust::device_pointer_cast(a.species) + a.n,
                   m.species_in.begin());
    } else {
      thrust::copy(a.positions, a.positions + n3, m.x_in.begin());
      thrust::copy(a.species, a.species + a.n, m.species_in.begin());
    }
    auto bad = thrust::find_if(thrust::device, m.x_in.begin(), m.x_in.end(), NotFinite{});
    if (bad != m.x_in.end()) {
      const std::size_t k = std::size_t(bad - m.x_in.begin());
      throw Error(a.source + ": atom " + std::to_string(k / 3 + 1) + " has a non-finite coordinate (" +
                  std::to_string(double(*bad)) + ")");
    }
    m.build(frame, a.n, cutoff, ghost_lists, a.source);
  });
  return m.view;
}

void DeviceGraphBuilder::Impl::build(const ImageFrame& frame, int n, double rc, bool ghost_lists,
                                     const std::string& where) {
  cutoff = rc;
  periodic = frame.periodic;
  geo = make_geometry(frame);
  frac.resize(3 * std::size_t(n));

  // Ghost candidates in the host builder's order; with ghost_lists the inner shell first.
  const long long n_candidates = periodic ? (long long)(geo.n_images) * n : 0;
  candidates.resize(std::size_t(n_candidates));
  // Locals are wrapped first (the shell test reads their fractional coordinates).
  positions.resize(3 * std::size_t(n));
  owner.resize(n);
  image.resize(3 * std::size_t(n));
  thrust::for_each(thrust::device, thrust::counting_iterator<int>(0), thrust::counting_iterator<int>(n),
                   WrapLocals{geo, periodic, raw(x_in), raw(frac), raw(positions), raw(owner), raw(image)});
  long long n_ghosts = 0, n_inner = 0;
  if (periodic) {
    auto end = thrust::copy_if(thrust::device, thrust::counting_iterator<long long>(0),
                               thrust::counting_iterator<long long>(n_candidates), candidates.begin(),
                               InShell{geo, raw(frac), n, false});
    n_ghosts = end - candidates.begin();
    if (ghost_lists) {
      auto mid = thrust::stable_partition(thrust::device, candidates.begin(), end, InShell{geo, raw(frac), n, true});
      n_inner = mid - candidates.begin();
    }
  }
  const int n_total = n + int(n_ghosts);
  positions.resize(3 * std::size_t(n_total));
  owner.resize(n_total);
  image.resize(3 * std::size_t(n_total));
  species.resize(n_total);
  thrust::copy(thrust::device, species_in.begin(), species_in.end(), species.begin());
  if (n_ghosts > 0) {
    thrust::for_each(thrust::device, thrust::counting_iterator<int>(0), thrust::counting_iterator<int>(int(n_ghosts)),
                     MakeGhosts{geo, raw(candidates), n, raw(species_in), raw(positions), raw(species), raw(owner),
                                raw(image)});
  }
  const int n_listed = (ghost_lists && periodic) ? n + int(n_inner) : n;

  // Bins over the bounding box; atoms sorted by bin (stable: by index within a bin).
  Box init;
  {
    double p0[3];
    thrust::copy(positions.begin(), positions.begin() + 3, p0);
    for (int d = 0; d < 3; ++d) init.lo[d] = init.hi[d] = p0[d];
  }
  const Box box = thrust::transform_reduce(thrust::device, thrust::counting_iterator<int>(0),
                                           thrust::counting_iterator<int>(n_total), PointBox{raw(positions)}, init,
                                           MergeBox{});
  const BinGrid grid = bin_grid(box.lo, box.hi, rc, n_total);
  bin_keys.resize(n_total);
  bin_atoms.resize(n_total);
  thrust::transform(thrust::device, thrust::counting_iterator<int>(0), thrust::counting_iterator<int>(n_total),
                    bin_keys.begin(), BinKey{grid, raw(positions)});
  thrust::sequence(thrust::device, bin_atoms.begin(), bin_atoms.end());
  thrust::stable_sort_by_key(thrust::device, bin_keys.begin(), bin_keys.end(), bin_atoms.begin());
  bin_start.resize(std::size_t(grid.count()) + 1);
  thrust::lower_bound(thrust::device, bin_keys.begin(), bin_keys.end(), thrust::counting_iterator<long>(0),
                      thrust::counting_iterator<long>(grid.count() + 1), bin_start.begin());

  // Count, scan, fill.
  const double rc2 = rc * rc;
  counts.resize(n_listed);
  coincident.resize(n_listed);
  thrust::for_each(thrust::device, thrust::counting_iterator<int>(0), thrust::counting_iterator<int>(n_listed),
                   CountNeighbors{grid, rc2, raw(positions), raw(bin_start), raw(bin_atoms), raw(counts),
                                  raw(coincident)});
  auto bad = thrust::find_if(thrust::device, coincident.begin(), coincident.end(), IsSet{});
  if (bad != coincident.end()) {
    const int i = int(bad - coincident.begin()), j = *bad;
    const int oi = value_at(owner, i), oj = value_at(owner, j);
    throw Error(where + ": atoms " + std::to_string(oi + 1) + " and " + std::to_string(oj + 1) +
                (j < n && i < n ? "" : " (periodic image)") + " are at the same position");
  }
  offsets.resize(std::size_t(n_listed) + 1);
  offsets[0] = 0;
  thrust::inclusive_scan(thrust::device, counts.begin(), counts.end(), offsets.begin() + 1);
  const std::int64_t n_entries = value_at(offsets, std::size_t(n_listed));
  neighbors.resize(std::size_t(n_entries));
  thrust::for_each(thrust::device, thrust::counting_iterator<int>(0), thrust::counting_iterator<int>(n_listed),
                   FillNeighbors{grid, rc2, raw(positions), raw(bin_start), raw(bin_atoms), raw(offsets),
                                 raw(neighbors)});

  // Images grouped by owner (stable: the local atom first, then its ghosts in order).
  owner_keys.assign(owner.begin(), owner.end());
  owner_atoms.resize(n_total);
  thrust::sequence(thrust::device, owner_atoms.begin(), owner_atoms.end());
  thrust::stable_sort_by_key(thrust::device, owner_keys.begin(), owner_keys.end(), owner_atoms.begin());
  owner_start.resize(std::size_t(n) + 1);
  thrust::lower_bound(thrust::device, owner_keys.begin(), owner_keys.end(), thrust::counting_iterator<int>(0),
                      thrust::counting_iterator<int>(n + 1), owner_start.begin());

  view = DeviceNeighborView{};
  view.n_local = n;
  view.n_listed = n_listed;
  view.n_total = n_total;
  view.positions = raw(positions);
  view.species = raw(species);
  view.owner = raw(owner);
  view.image = raw(image);
  view.offsets = raw(offsets);
  view.neighbors = raw(neighbors);
  view.memory = DeviceGraphBuilder::memory();
}

const DeviceEdgeView& DeviceGraphBuilder::mace_edges(double r_max, int n_species) {
  Impl& m = *impl_;
  if (m.view.n_local == 0) throw Error("device graph: mace_edges before build");
  if (r_max > m.cutoff) {
    throw Error("device graph: r_max " + std::to_string(r_max) + " exceeds the list's cutoff " + std::to_string(m.cutoff));
  }
  const int n = m.view.n_local;
  const std::int64_t n_entries = value_at(m.offsets, std::size_t(n));
  m.keep.resize(std::size_t(n_entries));
  m.centre.resize(std::size_t(n_entries));
  thrust::for_each(thrust::device, thrust::counting_iterator<int>(0), thrust::counting_iterator<int>(n),
                   MarkEdges{r_max * r_max, raw(m.positions), raw(m.offsets), raw(m.neighbors), raw(m.keep),
                             raw(m.centre)});
  m.entries.resize(std::size_t(n_entries));
  auto end = thrust::copy_if(thrust::device, thrust::counting_iterator<std::int64_t>(0),
                             thrust::counting_iterator<std::int64_t>(n_entries), m.keep.begin(), m.entries.begin(),
                             IsOne{});
  const std::int64_t n_edges = end - m.entries.begin();
  m.senders.resize(std::size_t(n_edges));
  m.receivers.resize(std::size_t(n_edges));
  m.shifts.resize(3 * std::size_t(n_edges));
  m.unit_shifts.resize(3 * std::size_t(n_edges));
  MakeEdges make{};
  for (int a = 0; a < 3; ++a) {
    for (int d = 0; d < 3; ++d) make.full[a][d] = (m.periodic && m.geo.pbc[a]) ? m.geo.cell[a][d] : 0.0;
  }
  make.entry = raw(m.entries);
  make.centre = raw(m.centre);
  make.neighbors = raw(m.neighbors);
  make.owner = raw(m.owner);
  make.image = raw(m.image);
  make.senders = raw(m.senders);
  make.receivers = raw(m.receivers);
  make.shifts = raw(m.shifts);
  make.unit_shifts = raw(m.unit_shifts);
  thrust::for_each(thrust::device, thrust::counting_iterator<std::int64_t>(0),
                   thrust::counting_iterator<std::int64_t>(n_edges), make);
  m.node_attrs.resize(std::size_t(n) * n_species);
  thrust::for_each(thrust::device, thrust::counting_iterator<long long>(0),
                   thrust::counting_iterator<long long>((long long)(n) * n_species),
                   OneHot{n_species, raw(m.species), raw(m.node_attrs)});
  m.edges = DeviceEdgeView{};
  m.edges.n_nodes = n;
  m.edges.n_species = n_species;
  m.edges.n_edges = n_edges;
  m.edges.senders = raw(m.senders);
  m.edges.receivers = raw(m.receivers);
  m.edges.shifts = raw(m.shifts);
  m.edges.unit_shifts = raw(m.unit_shifts);
  m.edges.node_attrs = raw(m.node_attrs);
  m.edges.positions = raw(m.positions);
  m.edges.memory = memory();
  return m.edges;
}

void DeviceGraphBuilder::fold_to_owners(const double* in, int width, double* out) const {
  const Impl& m = *impl_;
  thrust::for_each(thrust::device, thrust::counting_iterator<int>(0), thrust::counting_iterator<int>(m.view.n_local),
                   FoldOwners{width, raw(m.owner_start), raw(m.owner_atoms), in, out});
}

GhostedSystem DeviceGraphBuilder::neighbor_list_to_host() const {
  const Impl& m = *impl_;
  GhostedSystem g;
  g.n_local = m.view.n_local;
  g.n_listed = m.view.n_listed;
  g.positions = to_host(m.positions);
  g.species = to_host(m.species);
  g.owner = to_host(m.owner);
  g.image = to_host(m.image);
  g.offsets = to_host(m.offsets);
  g.neighbors = to_host(m.neighbors);
  return g;
}

DeviceGraphBuilder::HostEdges DeviceGraphBuilder::edges_to_host() const {
  const Impl& m = *impl_;
  return HostEdges{to_host(m.senders), to_host(m.receivers), to_host(m.shifts), to_host(m.unit_shifts),
                   to_host(m.node_attrs)};
}

void DeviceGraphBuilder::copy_to_host(const double* device, std::size_t count, double* host) const {
  auto p = thrust::device_pointer_cast(device);
  thrust::copy(p, p + count, host);
}

void DeviceGraphBuilder::copy_from_host(const double* host, std::size_t count, double* device) const {
  thrust::copy(host, host + count, thrust::device_pointer_cast(device));
}

double* DeviceGraphBuilder::scratch(int slot, std::size_t count) {
  if (slot < 0 || slot >= 4) throw Error("device graph: scratch slot out of range");
  auto& v = impl_->scratch[slot];
  v.resize(count);
  thrust::fill(thrust::device, v.begin(), v.end(), 0.0);
  return raw(v);
}

bool device_graph_usable(const Potential& potential) {
  return DeviceGraphBuilder::memory() == MemorySpace::Host || potential.accepts_device_memory();
}

void require_device_graph_usable(const Potential& potential) {
  if (!device_graph_usable(potential)) {
    throw Error("the " + DeviceGraphBuilder::system() + " graph builder keeps its data in device memory, which the " +
                potential.kind() + " potential on " + potential.backend() + " cannot read");
  }
}

Evaluation evaluate_on_device_graph(Potential& potential, const Structure& s, DeviceGraphBuilder& builder) {
  require_device_graph_usable(potential);
  const int n = s.size();
  require_species_in_model(s, potential);
  const DeviceNeighborView& v = builder.build(s, potential.cutoff(), potential.ghost_cutoff(),
                                              potential.needs_ghost_neighbors());
  double* forces = builder.scratch(0, 3 * std::size_t(v.n_total));
  double* energies = builder.scratch(1, std::size_t(n));
  OutputsRef out{forces, energies, nullptr};
  const Totals t = potential.compute(v.atoms(), v.neighbor_ref(), out);
  double* folded = builder.scratch(2, 3 * std::size_t(n));
  builder.fold_to_owners(forces, 3, folded);
  Evaluation ev;
  ev.energy = t.energy;
  ev.virial = t.virial;
  ev.atom_energy.resize(n);
  ev.forces.resize(3 * std::size_t(n));
  builder.copy_to_host(energies, std::size_t(n), ev.atom_energy.data());
  builder.copy_to_host(folded, 3 * std::size_t(n), ev.forces.data());
  return ev;
}

}  // namespace mlpot
