#include "mace_graph.hpp"

#include <algorithm>

#include "mlpot/error.hpp"

namespace mlpot::mace {

namespace {

torch::Device memory_device(const AtomsRef& atoms, const GraphSettings& g) {
  return atoms.memory == MemorySpace::Device ? g.device : torch::Device(torch::kCPU);
}

torch::Tensor one_hot(const torch::Tensor& species, const GraphSettings& g) {
  return torch::one_hot(species.to(torch::kLong), g.n_species).to(g.dtype);
}

// `species` is either the [N] species index or the [N, n_species] one-hot attributes.
GraphInput finish(torch::Tensor positions64, torch::Tensor species, torch::Tensor senders, torch::Tensor receivers,
                  torch::Tensor shifts64, torch::Tensor unit_shifts64, torch::Tensor cell64, int64_t n_local,
                  const GraphSettings& g) {
  const int64_t n = positions64.size(0);
  GraphInput in;
  in.positions = positions64.to(g.dtype).clone().detach();
  in.edge_index = torch::stack({senders, receivers}).contiguous();
  in.shifts = shifts64.to(g.dtype).contiguous();
  in.unit_shifts = unit_shifts64.to(g.dtype).contiguous();
  in.cell = cell64.to(g.dtype).contiguous();
  in.node_attrs = species.dim() == 2 ? species.to(g.dtype).contiguous() : one_hot(species, g);
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(g.device);
  in.batch = torch::zeros({n}, long_opts);
  in.ptr = torch::tensor({int64_t(0), n}, torch::TensorOptions().dtype(torch::kLong)).to(g.device);
  in.local_mask = (torch::arange(n, long_opts) < n_local).to(torch::kFloat64);
  return in;
}

// The lattice rows of the periodic axes (zero rows on open axes), float64 on the CPU.
torch::Tensor periodic_cell(const Mat3& cell, const std::array<bool, 3>& pbc) {
  torch::Tensor t = torch::zeros({3, 3}, torch::TensorOptions().dtype(torch::kFloat64));
  for (int a = 0; a < 3; ++a) {
    if (!pbc[a]) continue;
    for (int d = 0; d < 3; ++d) t[a][d] = cell[a][d];
  }
  return t;
}

}  // namespace

GraphInput ghost_node_graph(const AtomsRef& atoms, const NeighborsRef& nbr, const GraphSettings& g) {
  const torch::Device mem = memory_device(atoms, g);
  const int64_t n_total = atoms.n_total;
  const int64_t n_listed = nbr.n_listed < 0 ? atoms.n_local : nbr.n_listed;
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(mem);
  auto i32 = torch::TensorOptions().dtype(torch::kInt32).device(mem);
  auto i64 = torch::TensorOptions().dtype(torch::kLong).device(mem);
  torch::Tensor pos = torch::from_blob(const_cast<double*>(atoms.positions), {n_total, 3}, f64).to(g.device);
  torch::Tensor species = torch::from_blob(const_cast<int*>(atoms.species), {n_total}, i32).to(g.device);
  auto long_dev = torch::TensorOptions().dtype(torch::kLong).device(g.device);

  torch::Tensor senders, receivers;
  if (n_listed == 0) {
    senders = receivers = torch::zeros({0}, long_dev);
  } else if (nbr.rows) {
    // LAMMPS host lists: one pointer per atom. Gathered once into a CSR buffer (host only).
    if (atoms.memory == MemorySpace::Device) throw Error("mace: the rows neighbour-list form is host-only");
    torch::Tensor counts = torch::from_blob(const_cast<int*>(nbr.counts), {n_listed}, i32).to(torch::kLong);
    const int64_t n_entries = counts.sum().item<int64_t>();
    torch::Tensor flat = torch::empty({n_entries}, torch::TensorOptions().dtype(torch::kLong));
    int64_t* dst = flat.data_ptr<int64_t>();
    for (int64_t i = 0; i < n_listed; ++i) dst = std::copy(nbr.rows[i], nbr.rows[i] + nbr.counts[i], dst);
    senders = torch::repeat_interleave(torch::arange(n_listed, torch::TensorOptions().dtype(torch::kLong)), counts,
                                       c10::nullopt, n_entries).to(g.device);
    receivers = flat.to(g.device);
  } else if (nbr.offsets) {
    torch::Tensor offsets = torch::from_blob(const_cast<std::int64_t*>(nbr.offsets), {n_listed + 1}, i64).to(g.device);
    const int64_t first = offsets[0].item<int64_t>();
    const int64_t n_entries = offsets[n_listed].item<int64_t>() - first;
    torch::Tensor counts = offsets.slice(0, 1) - offsets.slice(0, 0, n_listed);
    senders = torch::repeat_interleave(torch::arange(n_listed, long_dev), counts, c10::nullopt, n_entries);
    receivers = torch::from_blob(const_cast<int*>(nbr.neighbors) + first, {n_entries}, i32).to(g.device).to(torch::kLong);
  } else {
    torch::Tensor counts = torch::from_blob(const_cast<int*>(nbr.counts), {n_listed}, i32).to(g.device).to(torch::kLong);
    const int64_t max_count = counts.max().item<int64_t>();
    torch::Tensor rows = torch::arange(n_listed, long_dev).unsqueeze(1);
    torch::Tensor slots = torch::arange(max_count, long_dev).unsqueeze(0);
    torch::Tensor valid = slots < counts.unsqueeze(1);
    torch::Tensor index = (rows * nbr.row_stride + slots * nbr.slot_stride).masked_select(valid);
    const int64_t extent = max_count == 0 ? 0 : (n_listed - 1) * nbr.row_stride + (max_count - 1) * nbr.slot_stride + 1;
    torch::Tensor flat = torch::from_blob(const_cast<int*>(nbr.neighbors), {extent}, i32).to(g.device).to(torch::kLong);
    senders = rows.expand({n_listed, max_count}).masked_select(valid);
    receivers = flat.index_select(0, index);
  }
  if (nbr.index_mask != ~0) receivers = torch::bitwise_and(receivers, int64_t(nbr.index_mask));
  if (receivers.numel() > 0 && (receivers.min().item<int64_t>() < 0 || receivers.max().item<int64_t>() >= n_total)) {
    throw Error("mace: neighbour index outside [0, n_total)");
  }
  // Keep r < r_max (lists may carry a skin or the ghost shell's longer cutoff).
  torch::Tensor vec = pos.index_select(0, receivers) - pos.index_select(0, senders);
  torch::Tensor keep = (vec * vec).sum(1) < g.r_max * g.r_max;
  keep = keep & (senders != receivers);
  // MACE aggregates messages at edge_index[1] (the receiver) with vectors receiver - sender:
  // the listed atom must be the receiver, so that it gathers from all its neighbours even where
  // a neighbour (an outer ghost) has no list of its own.
  torch::Tensor centres = senders.masked_select(keep);
  senders = receivers.masked_select(keep);
  receivers = centres;
  // Messages reach a local atom from at most num_interactions hops away, and only atoms within
  // num_interactions - 1 hops need their incoming edges (their features feed the locals).
  torch::Tensor near = torch::arange(n_total, long_dev) < atoms.n_local;
  for (int hop = 1; hop < g.num_interactions; ++hop) {
    torch::Tensor reach = torch::zeros({n_total}, torch::TensorOptions().dtype(torch::kLong).device(g.device));
    reach.index_add_(0, senders, near.index_select(0, receivers).to(torch::kLong));
    near = near | (reach > 0);
  }
  torch::Tensor needed = near.index_select(0, receivers);
  senders = senders.masked_select(needed);
  receivers = receivers.masked_select(needed);
  const int64_t n_edges = senders.size(0);
  auto f64_dev = torch::TensorOptions().dtype(torch::kFloat64).device(g.device);
  torch::Tensor zeros_e = torch::zeros({n_edges, 3}, f64_dev);
  return finish(pos, species, senders, receivers, zeros_e, zeros_e, torch::zeros({3, 3}, f64_dev), atoms.n_local, g);
}

GraphInput periodic_graph(const GhostedSystem& sys, const Mat3& cell, const std::array<bool, 3>& pbc,
                          const GraphSettings& g) {
  const int64_t n = sys.n_local, n_total = sys.n_total();
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  auto i32 = torch::TensorOptions().dtype(torch::kInt32);
  auto i64 = torch::TensorOptions().dtype(torch::kLong);
  torch::Tensor pos_all = torch::from_blob(const_cast<double*>(sys.positions.data()), {n_total, 3}, f64).to(g.device);
  torch::Tensor owner = torch::from_blob(const_cast<int*>(sys.owner.data()), {n_total}, i32).to(g.device).to(torch::kLong);
  torch::Tensor species = torch::from_blob(const_cast<int*>(sys.species.data()), {n}, i32).to(g.device);
  torch::Tensor offsets = torch::from_blob(const_cast<std::int64_t*>(sys.offsets.data()), {n + 1}, i64).to(g.device);
  const int64_t n_entries = sys.offsets[n];
  auto long_dev = torch::TensorOptions().dtype(torch::kLong).device(g.device);
  torch::Tensor senders = torch::repeat_interleave(torch::arange(n, long_dev), offsets.slice(0, 1) - offsets.slice(0, 0, n),
                                                   c10::nullopt, n_entries);
  torch::Tensor images = torch::from_blob(const_cast<int*>(sys.neighbors.data()), {n_entries}, i32).to(g.device).to(torch::kLong);
  torch::Tensor receivers = owner.index_select(0, images);
  torch::Tensor shifts = pos_all.index_select(0, images) - pos_all.index_select(0, receivers);
  torch::Tensor vec = pos_all.index_select(0, images) - pos_all.index_select(0, senders);
  torch::Tensor keep = (vec * vec).sum(1) < g.r_max * g.r_max;
  senders = senders.masked_select(keep);
  receivers = receivers.masked_select(keep);
  shifts = shifts.index_select(0, keep.nonzero().squeeze(1));
  torch::Tensor cell_t = periodic_cell(cell, pbc).to(g.device);
  torch::Tensor unit = torch::zeros_like(shifts);
  if (pbc[0] || pbc[1] || pbc[2]) {
    // Lattice coordinates of each shift (pinv: open axes may have a zero row in the cell).
    torch::Tensor full = torch::empty({3, 3}, f64);
    for (int a = 0; a < 3; ++a)
      for (int d = 0; d < 3; ++d) full[a][d] = pbc[a] ? cell[a][d] : 0.0;
    full = full.to(g.device);
    unit = torch::round(shifts.matmul(torch::linalg_pinv(full)));
    // Shifts are then exactly unit_shifts @ cell, as MACE recomputes them for the virial.
    shifts = unit.matmul(full);
  }
  torch::Tensor pos = pos_all.slice(0, 0, n);
  return finish(pos, species, senders, receivers, shifts, unit, cell_t, n, g);
}

GraphInput edge_graph(const DeviceEdgeView& e, const Mat3& cell, const std::array<bool, 3>& pbc,
                      const GraphSettings& g) {
  if (e.n_species != g.n_species) throw Error("mace: edge list built for another number of species");
  // In place where the builder and the model share a device; otherwise (the OpenMP builder
  // feeding a CUDA model) one copy each to the model's device.
  const torch::Device mem = e.memory == MemorySpace::Device ? g.device : torch::Device(torch::kCPU);
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(mem);
  auto i64 = torch::TensorOptions().dtype(torch::kLong).device(mem);
  const int64_t n = e.n_nodes, n_edges = e.n_edges;
  torch::Tensor pos = torch::from_blob(const_cast<double*>(e.positions), {n, 3}, f64);
  torch::Tensor attrs = torch::from_blob(const_cast<double*>(e.node_attrs), {n, e.n_species}, f64);
  torch::Tensor senders = torch::from_blob(const_cast<int64_t*>(e.senders), {n_edges}, i64);
  torch::Tensor receivers = torch::from_blob(const_cast<int64_t*>(e.receivers), {n_edges}, i64);
  torch::Tensor shifts = torch::from_blob(const_cast<double*>(e.shifts), {n_edges, 3}, f64);
  torch::Tensor unit = torch::from_blob(const_cast<double*>(e.unit_shifts), {n_edges, 3}, f64);
  return finish(pos.to(g.device), attrs.to(g.device), senders.to(g.device), receivers.to(g.device), shifts.to(g.device),
                unit.to(g.device), periodic_cell(cell, pbc).to(g.device), n, g);
}

}  // namespace mlpot::mace
