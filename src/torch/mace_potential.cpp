#include "torch_mace_potential.hpp"
#include "mace_native.hpp"
#include "mace_native_reader.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "mace_graph.hpp"
#include "script_passes.hpp"
#include "torch_profile.hpp"
#include "mlpot/error.hpp"
#include "mlpot/model_file.hpp"
#include "mlpot/neighbor_list.hpp"

namespace mlpot {

namespace {

// The wrapper's -dE/d(strain), [1,3,3] or [3,3], as xx yy zz xy xz yz (symmetrised).
std::array<double, 6> virial6(const torch::Tensor& virials) {
  torch::Tensor w = virials.reshape({3, 3}).to(torch::kCPU).to(torch::kFloat64).contiguous();
  const double* v = w.data_ptr<double>();
  return {v[0], v[4], v[8], 0.5 * (v[1] + v[3]), 0.5 * (v[2] + v[6]), 0.5 * (v[5] + v[7])};
}

// Autograd through MACE allocates and frees the same large [edges, channels] tensors every step.
// glibc serves blocks above its mmap threshold (128 kB, adapting up to 32 MB) with fresh mmaps
// and unmaps them on free, so each step faults all of that memory in again and the kernel
// zeroes it page by page: a third of the seed model's step on 192 atoms, a quarter of the tiny
// model's on 1440. Keeping freed memory in the heap (no mmap'd blocks, no trimming, both as
// mallopt(3) documents) makes the process hold its peak for its lifetime instead; CUDA's
// caching allocator does the same on the GPU. Process-wide, set once by the first CPU model.
// The heap fragments, so the peak grows (seed model, 1536 atoms: 12.5 instead of 9.1 GB);
// MLPOT_KEEP_FREED_MEMORY=0 leaves glibc as it is.
void keep_freed_host_memory() {
#ifdef __GLIBC__
  static const bool done = [] {
    const char* env = std::getenv("MLPOT_KEEP_FREED_MEMORY");
    if (env && std::string(env) == "0") return false;
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1);
    return true;
  }();
  (void)done;
#endif
}

}  // namespace

struct TorchMacePotential::Impl {
  std::string path;
  torch::jit::Module module;
  MaceMetadata meta;
  mace::GraphSettings graph;
  std::string rewrites = "none";

  struct Output {
    torch::Tensor energy_local, node_energy, forces, virials;
    torch::Tensor atom_virials;  // [nodes, 6] float64, xx yy zz xy xz yz; undefined unless asked
  };

  // The model's input dict for graph `in`, with the given positions and shifts (the graph's own,
  // or leaves to differentiate by). A fresh dict each call: the wrapper writes into it.
  static c10::Dict<std::string, torch::Tensor> graph_dict(const mace::GraphInput& in, const torch::Tensor& positions,
                                                          const torch::Tensor& shifts) {
    c10::Dict<std::string, torch::Tensor> data;
    data.insert("positions", positions);
    data.insert("edge_index", in.edge_index);
    data.insert("shifts", shifts);
    data.insert("unit_shifts", in.unit_shifts);
    data.insert("cell", in.cell);
    data.insert("node_attrs", in.node_attrs);
    data.insert("batch", in.batch);
    data.insert("ptr", in.ptr);
    return data;
  }

  Output run(const mace::GraphInput& in, bool virials, bool atom_virials = false) {
    if (atom_virials) return run_with_edge_gradients(in);
    c10::Dict<std::string, torch::Tensor> data = graph_dict(in, in.positions, in.shifts);
    // Grad mode must stay on: LAMMPS_MACE differentiates the energy inside forward().
    torch::AutoGradMode grad(true);
    c10::IValue result;
    try {
      result = module.forward({data, in.local_mask, virials});
    } catch (const c10::Error& e) {
      throw Error(path + ": model evaluation failed: " + std::string(e.what_without_backtrace()));
    }
    auto dict = result.toGenericDict();
    auto get = [&](const char* key) {
      auto v = dict.at(key);
      if (v.isNone()) throw Error(path + ": model returned no '" + std::string(key) + "'");
      return v.toTensor().detach();
    };
    return {get("total_energy_local"), get("node_energy"), get("forces"),
            virials ? get("virials") : torch::zeros({3, 3}, torch::kFloat64)};
  }

  // Per-atom virials need dE/d(edge vector), which LAMMPS_MACE's forward() does not give: it
  // differentiates by the positions (and the strain) only, and frees its graph. MACE forms each
  // edge vector as positions[receiver] - positions[sender] + shifts and, without a strain
  // displacement, takes `shifts` as given (mace.modules.utils.prepare_graph), so
  // dE/d(shifts) = dE/d(edge vector). So the wrapper's inner model is called as the wrapper calls
  // it, without the displacement, and the local energy is differentiated by the positions and
  // the shifts in one backward pass. Each edge's virial -dE/dv (x) v, symmetrised, goes half to
  // its sender and half to its receiver (mace-torch's atomic_virials, compute_atomic_stresses);
  // the global virial is their sum, -dE/d(strain) by the chain rule.
  Output run_with_edge_gradients(const mace::GraphInput& in) {
    if (!module.hasattr("model")) {
      throw Error(path + ": per-atom virials need the MACE model inside the LAMMPS wrapper ('model'), which "
                  "this TorchScript file does not have");
    }
    torch::jit::Module model = module.attr("model").toModule();
    torch::Tensor positions = in.positions.detach().requires_grad_(true);
    torch::Tensor shifts = in.shifts.detach().requires_grad_(true);
    c10::Dict<std::string, torch::Tensor> data = graph_dict(in, positions, shifts);
    if (module.hasattr("head")) data.insert("head", module.attr("head").toTensor());
    torch::AutoGradMode grad(true);
    torch::Tensor node_energy, energy_local;
    std::vector<torch::Tensor> grads;
    try {
      // forward(data, training, compute_force, compute_virials, compute_stress, compute_displacement)
      auto result = model.forward({data, false, false, false, false, false}).toGenericDict();
      auto e = result.at("node_energy");
      if (e.isNone()) throw Error(path + ": model returned no 'node_energy'");
      node_energy = e.toTensor();
      energy_local = (node_energy * in.local_mask).sum();
      grads = torch::autograd::grad({energy_local}, {positions, shifts}, {}, false, false, true);
    } catch (const c10::Error& e) {
      throw Error(path + ": model evaluation failed: " + std::string(e.what_without_backtrace()));
    }
    Output o;
    o.node_energy = node_energy.detach();
    o.energy_local = energy_local.detach().reshape({1});
    o.forces = grads[0].defined() ? -grads[0] : torch::zeros_like(positions);
    torch::Tensor dv = grads[1].defined() ? grads[1].to(torch::kFloat64) : torch::zeros_like(shifts, torch::kFloat64);
    torch::Tensor sender = in.edge_index[0], receiver = in.edge_index[1];
    torch::Tensor pos = positions.detach();
    torch::Tensor v = (pos.index_select(0, receiver) - pos.index_select(0, sender) + shifts.detach()).to(torch::kFloat64);
    torch::Tensor w = -dv.unsqueeze(2) * v.unsqueeze(1);  // [E,3,3]
    w = 0.5 * (w + w.transpose(1, 2));
    torch::Tensor w6 = torch::stack({w.select(1, 0).select(1, 0), w.select(1, 1).select(1, 1),
                                     w.select(1, 2).select(1, 2), w.select(1, 0).select(1, 1),
                                     w.select(1, 0).select(1, 2), w.select(1, 1).select(1, 2)},
                                    1);  // [E,6]
    torch::Tensor half = 0.5 * w6;
    o.atom_virials = torch::zeros({pos.size(0), 6}, half.options()).index_add_(0, sender, half).index_add_(0, receiver, half);
    o.virials = w.sum(0);
    return o;
  }

  // Totals of `o`; forces added to out.forces [n_forces][3] and the first n_local node energies
  // copied to out.atom_energy, both in `memory` (the caller's arrays, host or model device).
  Totals deliver(const Output& o, MemorySpace memory, int n_forces, int n_local, const OutputsRef& out) const {
    Totals t;
    t.energy = o.energy_local.to(torch::kCPU).sum().item<double>();
    t.virial = virial6(o.virials);
    const torch::Device mem = memory == MemorySpace::Device ? graph.device : torch::Device(torch::kCPU);
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(mem);
    if (out.forces) {
      torch::from_blob(out.forces, {n_forces, 3}, f64).add_(o.forces.to(mem).to(torch::kFloat64));
    }
    if (out.atom_energy && n_local > 0) {
      torch::from_blob(out.atom_energy, {n_local}, f64).copy_(o.node_energy.slice(0, 0, n_local).to(mem));
    }
    if (out.atom_virial && n_forces > 0) {
      torch::from_blob(out.atom_virial, {n_forces, 6}, f64).add_(o.atom_virials.to(mem));
    }
    return t;
  }
};

TorchMacePotential::TorchMacePotential(const std::string& path, const std::string& device, bool rewrite) : impl_(new Impl) {
  impl_->path = path;
  torch::Device dev(torch::kCPU);
  try {
    dev = torch::Device(device);
  } catch (const c10::Error&) {
    throw Error("mace: invalid device '" + device + "' (use cpu, cuda or cuda:N)");
  }
  if (dev.is_cuda() && !torch::cuda::is_available()) {
    throw Error("mace: device '" + device + "' requested but CUDA is not available to LibTorch");
  }
  try {
    impl_->module = torch::jit::load(path, dev);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    if (what.find("open file failed") != std::string::npos || what.find("No such file") != std::string::npos) {
      throw Error(path + ": cannot open MACE model file");
    }
    const std::string head = file_head(path);
    if (!is_zip_archive(head)) {
      const bool mtp = head.rfind("MTP", 0) == 0;
      throw Error(path + ": not a TorchScript model file: not a zip archive, the format PyTorch writes" +
                  (mtp ? " (it is an MTP model: mlpot reads those named .mtp or .almtp, LAMMPS with pair_style mtp)"
                       : ""));
    }
    if (what.find("central directory") != std::string::npos) {
      // PyTorch writes the archive's directory last: a file cut short loses it.
      throw Error(path + ": truncated or damaged model file: the zip archive has no central directory "
                         "(a copy or download cut short?)");
    }
    if (what.find("constants.pkl") != std::string::npos) {
      // A torch.save archive has no constants.pkl: a pickled Python module, which needs the
      // Python classes it was saved from (mace-torch's training output *.model, or its ML-IAP
      // export for pair_style mliap), not a TorchScript program.
      throw Error(path + ": a pickled PyTorch module (torch.save), not TorchScript; export it for LAMMPS with "
                         "mace-torch's 'mace_create_lammps_model " + path + "' and give the *-lammps.pt file it writes");
    }
    throw Error(path + ": not a TorchScript model file (" + what.substr(0, what.find('\n')) + ")");
  } catch (const std::exception& e) {
    throw Error(path + ": not a TorchScript model file (" + std::string(e.what()).substr(0, 200) + ")");
  }
  auto& m = impl_->module;
  for (const char* attr : {"r_max", "atomic_numbers", "num_interactions"}) {
    if (!m.hasattr(attr)) {
      throw Error(path + ": TorchScript model has no '" + attr +
                  "' attribute: not a MACE model exported for LAMMPS (mace_create_lammps_model)");
    }
  }
  // Metadata is read before anything else touches the module (freezing would drop it).
  torch::Tensor r_max = m.attr("r_max").toTensor();
  torch::Tensor z = m.attr("atomic_numbers").toTensor().to(torch::kCPU).to(torch::kLong);
  impl_->meta.r_max = r_max.item<double>();
  impl_->meta.num_interactions = int(m.attr("num_interactions").toTensor().item<int64_t>());
  for (int64_t k = 0; k < z.numel(); ++k) impl_->meta.atomic_numbers.push_back(int(z[k].item<int64_t>()));
  if (!(impl_->meta.r_max > 0) || impl_->meta.atomic_numbers.empty() || impl_->meta.num_interactions < 1) {
    throw Error(path + ": inconsistent MACE metadata (r_max, atomic_numbers, num_interactions)");
  }
  torch::Dtype dtype = torch::kFloat64;
  bool first = true;
  for (const auto& p : m.parameters()) {
    torch::Dtype d = p.scalar_type();
    if (d != torch::kFloat32 && d != torch::kFloat64) continue;
    if (first) dtype = d;
    first = false;
    if (d != dtype) throw Error(path + ": model mixes float32 and float64 parameters");
  }
  if (first) dtype = r_max.scalar_type();
  if (r_max.scalar_type() != dtype) {
    throw Error(path + ": dtype mismatch: parameters are " + std::string(c10::toString(dtype)) + " but r_max is " +
                std::string(c10::toString(r_max.scalar_type())));
  }
  impl_->meta.dtype = dtype == torch::kFloat32 ? "float32" : "float64";
  m.eval();
  if (dev.is_cpu()) keep_freed_host_memory();
  if (rewrite) {
    try {
      // The model inside the wrapper first: the per-atom virial path calls its forward directly.
      // Inlining the wrapper caches the inner forward's optimised graph, and that cached graph
      // is what the inner forward then runs, so rewriting the inner graph after the wrapper
      // would have no effect. Rewritten first, the wrapper inlines the rewritten graph and its
      // own pass finds only what the wrapper adds.
      mace::ScriptPassStats st;
      if (m.hasattr("model")) {
        torch::jit::Module inner = m.attr("model").toModule();
        st = mace::optimise_for_autograd(inner);
      }
      st += mace::optimise_for_autograd(m);
      impl_->rewrites = std::to_string(st.index_selects) + " indexings via index_select, " +
                        std::to_string(st.identity_slices) + " full slices dropped, " +
                        std::to_string(st.split_slices) + " slices of " + std::to_string(st.split_tensors) +
                        " tensors as splits";
    } catch (const c10::Error& e) {
      // A graph these rewrites do not understand (another exporter, another TorchScript) runs
      // as it is: reload it untouched, since a pass may have stopped half-way.
      const std::string what = e.what_without_backtrace();
      impl_->rewrites = "none (" + what.substr(0, what.find('\n')) + ")";
      impl_->module = torch::jit::load(path, dev);
      impl_->module.eval();
    }
  }
  impl_->graph.r_max = impl_->meta.r_max;
  impl_->graph.n_species = int(impl_->meta.atomic_numbers.size());
  impl_->graph.num_interactions = impl_->meta.num_interactions;
  impl_->graph.device = dev;
  impl_->graph.dtype = dtype;
}

TorchMacePotential::~TorchMacePotential() = default;

int TorchMacePotential::num_species() const { return int(impl_->meta.atomic_numbers.size()); }
std::vector<int> TorchMacePotential::atomic_numbers() const { return impl_->meta.atomic_numbers; }
double TorchMacePotential::cutoff() const { return impl_->meta.r_max; }
double TorchMacePotential::ghost_cutoff() const { return impl_->meta.r_max * impl_->meta.num_interactions; }
std::string TorchMacePotential::backend() const { return "LibTorch " + impl_->graph.device.str() + " " + impl_->meta.dtype; }
bool TorchMacePotential::accepts_device_memory() const { return impl_->graph.device.is_cuda(); }
const MaceMetadata& TorchMacePotential::metadata() const { return impl_->meta; }
void TorchMacePotential::set_engine_reason(const std::string& reason) { impl_->meta.engine_reason = reason; }
std::string TorchMacePotential::graph_rewrites() const { return impl_->rewrites; }
std::unique_ptr<StepProfiler> TorchMacePotential::torch_profiler(bool cuda) const {
  return std::make_unique<TorchProfile>(cuda);
}

Totals TorchMacePotential::compute(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out) {
  check_outputs(atoms.memory, out);
  mace::GraphInput in = mace::ghost_node_graph(atoms, nbr, impl_->graph);
  return impl_->deliver(impl_->run(in, out.virial, out.atom_virial != nullptr), atoms.memory, atoms.n_total, atoms.n_local, out);
}

void TorchMacePotential::check_outputs(MemorySpace memory, const OutputsRef& out) const {
  if (memory == MemorySpace::Device && !accepts_device_memory()) {
    throw Error("mace: device pointers given to a model on " + impl_->graph.device.str());
  }
  // A message-passing model has no site terms to assign whole to a neighbour.
  if (out.atom_centroid_virial) throw Error("mace: per-atom virials in the centroid form are not available");
  if (out.site_virial) throw Error("mace: site virials are not available (MACE's energy has no site terms)");
}


Evaluation TorchMacePotential::evaluate_periodic(const Structure& s, bool with_virial, DeviceGraphBuilder* builder,
                                            bool with_atom_virial) {
  const int n = s.size();
  require_species_in_model(s, *this);
  if (!builder) {
    GhostedSystem g = build_neighbor_list(s, cutoff());
    return evaluate_images(g, s.cell, s.pbc, with_virial, with_atom_virial);
  }
  builder->build(s, cutoff());
  const DeviceEdgeView& edges = builder->mace_edges(cutoff(), num_species());
  return finish_periodic(mace::edge_graph(edges, s.cell, s.pbc, impl_->graph), n, with_virial, with_atom_virial);
}

Totals TorchMacePotential::compute_periodic(const CellAtoms& atoms, DeviceGraphBuilder& builder, const OutputsRef& out) {
  check_outputs(atoms.memory, out);
  builder.build(atoms, cutoff());
  const DeviceEdgeView& edges = builder.mace_edges(cutoff(), num_species());
  Impl::Output o =
      impl_->run(mace::edge_graph(edges, atoms.cell, atoms.pbc, impl_->graph), out.virial, out.atom_virial != nullptr);
  return impl_->deliver(o, atoms.memory, atoms.n, atoms.n, out);
}

Evaluation TorchMacePotential::evaluate_images(const GhostedSystem& g, const Mat3& cell, const std::array<bool, 3>& pbc,
                                          bool with_virial, bool with_atom_virial) {
  return finish_periodic(mace::periodic_graph(g, cell, pbc, impl_->graph), g.n_local, with_virial, with_atom_virial);
}

Evaluation TorchMacePotential::finish_periodic(const mace::GraphInput& in, int n, bool with_virial, bool with_atom_virial) {
  Impl::Output o = impl_->run(in, with_virial, with_atom_virial);
  Evaluation ev;
  ev.energy = o.energy_local.to(torch::kCPU).sum().item<double>();
  torch::Tensor e = o.node_energy.to(torch::kCPU).to(torch::kFloat64).contiguous();
  torch::Tensor f = o.forces.to(torch::kCPU).to(torch::kFloat64).contiguous();
  ev.atom_energy.assign(e.data_ptr<double>(), e.data_ptr<double>() + n);
  ev.forces.assign(f.data_ptr<double>(), f.data_ptr<double>() + 3 * size_t(n));
  ev.virial = virial6(o.virials);
  if (with_atom_virial) {
    torch::Tensor w = o.atom_virials.to(torch::kCPU).contiguous();
    ev.atom_virial.assign(w.data_ptr<double>(), w.data_ptr<double>() + 6 * size_t(n));
  }
  return ev;
}

}  // namespace mlpot

void mlpot_mace_open(const std::string& path, const mlpot::MaceOptions& options,
                     std::unique_ptr<mlpot::MacePotential>& out) {
  if (options.threads > 0) torch::set_num_threads(options.threads);
  at::globalContext().setAllowTF32CuBLAS(options.tf32);
  if (options.engine != "auto" && options.engine != "native" && options.engine != "torch") {
    throw mlpot::Error("--mace-engine: '" + options.engine + "' is not one of auto, native, torch");
  }
  std::string reason;
  // auto keeps GPU runs on the LibTorch runner until the native engine's CUDA build has passed the
  // device check (perf/device/run_all.sh); --mace-engine native runs it there on request.
  if (options.engine == "auto" && options.device.rfind("cuda", 0) == 0) {
    reason = "auto picks the native engine on the CPU only so far (--mace-engine native runs it on " + options.device +
             ")";
  } else if (options.engine != "torch") {
    torch::jit::Module root;
    try {
      root = torch::jit::load(path, torch::kCPU);
    } catch (const c10::Error&) {
      // Not a TorchScript file the native reader could read either: the LibTorch runner's
      // messages name what is wrong with it.
      out = std::make_unique<mlpot::TorchMacePotential>(path, options.device, options.rewrite);
      return;
    }
    mlpot::mace_native::Model model;
    bool readable = false;
    try {
      model = mlpot::mace_native::read_model(path, root);
      readable = true;
    } catch (const mlpot::mace_native::Unsupported& e) {
      if (options.engine == "native") throw mlpot::Error(path + ": " + e.what());
      reason = e.what();
    } catch (const mlpot::Error& e) {
      // A module tree the reader did not expect: auto falls back to the runner, saying why.
      if (options.engine == "native") throw;
      reason = e.what();
    }
    if (readable) {
      out = mlpot::mace_native::make_native_mace(model, options.device, options.backend);
      return;
    }
  }
  out = std::make_unique<mlpot::TorchMacePotential>(path, options.device, options.rewrite);
  if (!reason.empty()) {
    auto* t = static_cast<mlpot::TorchMacePotential*>(out.get());
    t->set_engine_reason(reason);
  }
}
