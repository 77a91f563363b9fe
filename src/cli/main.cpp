// mlpot command-line tool: evaluate, inspect and benchmark potentials.
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "mlpot/builders.hpp"
#include "mlpot/error.hpp"
#include "mlpot/model_file.hpp"
#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/structure_io.hpp"
#include "mlpot/device_graph.hpp"
#include "mlpot/mace_potential.hpp"
#include "kernel_times.hpp"

namespace {

// The usage text, one block per command: `mlpot COMMAND --help` prints that command's block
// (with the shared option blocks it names), `mlpot --help` all of them. docs/cli.md quotes the
// whole text and tests/docs/check_docs.py keeps the two the same.
const char* kHeader = R"(usage: mlpot COMMAND [options]        mlpot COMMAND --help: that command's usage

MODEL is an MTP (.mtp, .almtp) or a MACE model exported for LAMMPS (.pt).
Options take a value, as --key value or --key=value; yes/no options take yes or no.
An option a command does not know is an error.
)";

const char* kInfo = R"(  info MODEL [--device D] [--mace-engine E] [--backend B] [--mace-rewrite yes|no]
                                  summarise a model (MTP: level, species, basis, sizes,
                                  trained or not; MACE: r_max, elements, dtype, which engine
                                  runs it and why, its radial MLPs or graph rewrites)
)";

const char* kEval = R"(  eval --model M --input IN [--output OUT] [--elements H,Li,...] [--backend B] [--threads N]
       [--batch-atoms N]
                                  energy, forces and stress of every configuration in IN
                                  (.cfg or .xyz), written in IN's format (stdout by default);
                                  MTP: configurations go to the kernel in batches of up
                                  to N atoms (default 16384; 0: one at a time)
)";

const char* kBench = R"(  bench --model M [--input IN | --system li2co3:3x5x4] [--steps N] [--warmup N]
        [--backend B] [--threads N] [--elements ...] [--virial no] [--grade yes]
        [--kernel-times yes] [--torch-profile yes]
                                  time the force call; prints microseconds per atom-step
                                  (--system li2co3:AxBxC or li2edc:MOLECULES;
                                  --grade: with the extrapolation grade of an .almtp;
                                  --kernel-times: then a table of the step's Kokkos kernels,
                                  each fenced and timed, from extra steps;
                                  --torch-profile, MACE: then a table of the step's LibTorch
                                  work from extra steps under LibTorch's profiler: GPU
                                  kernels with their GPU time on a GPU, CPU operators,
                                  inclusive)
)";

const char* kMakeModel = R"(  make-model --template T.almtp --out M.mtp [--species N] [--min-dist D] [--max-dist D] [--seed S]
             [--selection cfg|nbh]
                                  synthetic MTP with the template's basis (benchmark model);
                                  --selection adds MLIP's initial selection state (.almtp)
)";

const char* kGrade = R"(  grade --model M.almtp|M.als --input IN.cfg [--output OUT.cfg] [--backend B] [--threads N]
                                  extrapolation grades (MaxVol, MLIP's selection state): IN's
                                  configurations with Feature MV_grade and, in neighbourhood
                                  mode, the per-atom column nbh_grades
)";

const char* kBuild = R"(  build li2co3 --cells AxBxC --out FILE.cfg|.xyz
                                  monoclinic Li2CO3 supercell (24 atoms per cell)
  build li2edc [--molecules 72] [--density 1.7] [--min-distance 1.4] [--seed 2025] --out FILE
                                  amorphous Li2EDC: random packing of whole molecules
)";

const char* kBackends = R"(  backends                        list the Kokkos backends compiled in
)";

const char* kMaceOptions = R"(MACE options (eval, bench; info takes --device, --mace-engine and --mace-rewrite):
        [--device cpu|cuda|cuda:N] [--dtype float32|float64]
        [--mace-engine auto|native|torch]  mlpot's own MACE kernels (native) or the TorchScript
                                       file through LibTorch (torch); auto (default): native
                                       where it implements the model (mlpot info says which)
        [--mace-mode periodic|ghost]   periodic graph (default) or ghost atoms as nodes
        [--mace-rewrite yes|no]        autograd-friendly graph rewrites (default yes; no only
                                       to measure them: results are the same bit for bit)
        [--mace-tf32 yes|no]           float32 matrix products on the GPU's TF32 tensor cores
                                       (default no, as mace-torch; yes only to measure what it
                                       buys: results then differ from mace-torch's beyond
                                       float32 round-off)
)";

const char* kMtpOption = R"(MTP option (eval, bench):
        [--precision double|mixed]     the kernel's arithmetic: double (default, as MLIP-3 and
                                       motep) or mixed: float basis, moments and products,
                                       double sums of energies, forces and virials; no
                                       grades (docs/mtp.md, Mixed precision)
)";

const char* kGraphOption = R"(Graph option (eval, bench):
        [--graph auto|host|device]     neighbour list and MACE edges from the host
                                       builder or the Thrust builder (CUDA in a CUDA build,
                                       OpenMP otherwise); auto: the Thrust builder when the
                                       potential runs on the GPU
)";

const char* kCommonOptions = R"(Common options (eval, bench, grade):
        [--backend Serial|OpenMP|Cuda] the Kokkos backend of an MTP or of the native MACE
                                       engine (default: the fastest built; Cuda for a
                                       MACE model on the GPU)
        [--threads N]                  OpenMP and LibTorch threads (0, the default:
                                       OMP_NUM_THREADS)
)";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> opt;
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = opt.find(k);
    return it == opt.end() ? def : it->second;
  }
  std::string need(const std::string& k) const {
    auto it = opt.find(k);
    if (it == opt.end()) throw mlpot::Error("missing option --" + k);
    return it->second;
  }
  // A yes/no option: anything else is an error, so a typo does not silently mean "no".
  bool yes(const std::string& k, bool def) const {
    const std::string v = get(k, def ? "yes" : "no");
    if (v != "yes" && v != "no") throw mlpot::Error("--" + k + " must be yes or no, got '" + v + "'");
    return v == "yes";
  }
};

// A mistake in how the command was called (not in its input files): exit status 2.
struct UsageError : mlpot::Error {
  using mlpot::Error::Error;
};

Args parse_args(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      std::string key = s.substr(2), value;
      size_t eq = key.find('=');
      if (eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
      } else {
        if (i + 1 >= argc) throw UsageError("option --" + key + " needs a value");
        value = argv[++i];
      }
      if (a.opt.count(key)) throw UsageError("option --" + key + " given twice");
      a.opt[key] = value;
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

// Levenshtein distance, for "did you mean" on a misspelled option.
size_t edit_distance(const std::string& x, const std::string& y) {
  std::vector<size_t> row(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= x.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= y.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (x[i - 1] == y[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[y.size()];
}

// Every option given must be one the command knows; positional arguments within their count.
void require_known(const Args& a, const std::string& command, const std::vector<std::string>& known,
                   size_t max_positional) {
  for (const auto& kv : a.opt) {
    if (std::find(known.begin(), known.end(), kv.first) != known.end()) continue;
    std::string msg = "unknown option --" + kv.first + " for '" + command + "'";
    std::string best;
    size_t best_d = 3;
    for (const auto& k : known) {
      const size_t d = edit_distance(kv.first, k);
      if (d < best_d) best_d = d, best = k;
    }
    if (!best.empty()) msg += " (did you mean --" + best + "?)";
    throw UsageError(msg + "; mlpot " + command + " --help lists its options");
  }
  if (a.positional.size() > max_positional) {
    throw UsageError("unexpected argument '" + a.positional[max_positional] + "' for '" + command + "'");
  }
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(s);
  while (std::getline(is, cur, sep)) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

int to_int(const std::string& s, const char* what) {
  try {
    size_t pos = 0;
    int v = std::stoi(s, &pos);
    if (pos != s.size()) throw 0;
    return v;
  } catch (...) {
    throw mlpot::Error(std::string("option ") + what + ": expected an integer, got '" + s + "'");
  }
}

double to_num(const std::string& s, const char* what) {
  try {
    size_t pos = 0;
    double v = std::stod(s, &pos);
    if (pos != s.size()) throw 0;
    return v;
  } catch (...) {
    throw mlpot::Error(std::string("option ") + what + ": expected a number, got '" + s + "'");
  }
}

std::array<int, 3> parse_cells(const std::string& s) {
  auto parts = split(s, 'x');
  if (parts.size() != 3 || std::count(s.begin(), s.end(), 'x') != 2) {
    throw mlpot::Error("cells must look like 3x5x4, got '" + s + "'");
  }
  return {to_int(parts[0], "cells"), to_int(parts[1], "cells"), to_int(parts[2], "cells")};
}

// --threads N: 0 (the default) leaves the count to Kokkos (OMP_NUM_THREADS) and LibTorch.
int thread_count(const Args& a) {
  const int threads = to_int(a.get("threads", "0"), "--threads");
  if (threads < 0) throw mlpot::Error("--threads must be >= 0 (0: the default), got " + std::to_string(threads));
  return threads;
}

// A loaded potential and how to evaluate a whole structure with it.
struct Model {
  std::unique_ptr<mlpot::Potential> potential;
  mlpot::MtpPotential* mtp = nullptr;    // the same object when it is an MTP
  mlpot::MacePotential* mace = nullptr;  // or when it is a MACE
  mlpot::MtpModel mtp_model;
  std::vector<std::string> elements;  // species names when the model knows them
  bool periodic_mace = false;
  std::string describe;
  std::unique_ptr<mlpot::DeviceGraphBuilder> graph;  // set when graphs come from the Thrust builder
  mlpot::Evaluation evaluate(const mlpot::Structure& s, bool with_virial = true) {
    if (periodic_mace) return mace->evaluate_periodic(s, with_virial, graph.get());
    if (graph) return mlpot::evaluate_on_device_graph(*potential, s, *graph);
    return mlpot::evaluate(*potential, s);
  }
  std::string graph_name() const {
    return graph ? "Thrust builder (" + mlpot::DeviceGraphBuilder::system() + ")" : std::string("host builder");
  }
};

// --graph: auto picks the Thrust builder where its data already lives with the potential (GPU).
void choose_graph(const Args& a, Model& m) {
  const std::string g = a.get("graph", "auto");
  if (g != "auto" && g != "host" && g != "device") throw mlpot::Error("--graph must be auto, host or device");
  if (g == "device") mlpot::require_device_graph_usable(*m.potential);
  const bool on_gpu = mlpot::DeviceGraphBuilder::memory() == mlpot::MemorySpace::Device &&
                      mlpot::device_graph_usable(*m.potential);
  if (g == "device" || (g == "auto" && on_gpu)) m.graph = std::make_unique<mlpot::DeviceGraphBuilder>();
}

Model load_model(const Args& a, const std::string& path) {
  Model m;
  if (mlpot::is_mace_model_file(path)) {
    if (a.opt.count("precision")) {
      throw mlpot::Error("--precision is for MTP models; a MACE model's arithmetic is its dtype (" + path + ")");
    }
    mlpot::MaceOptions o;
    o.device = a.get("device", "cpu");
    o.rewrite = a.yes("mace-rewrite", true);
    o.tf32 = a.yes("mace-tf32", false);
    o.threads = thread_count(a);
    o.engine = a.get("mace-engine", "auto");
    o.backend = a.get("backend", "default");
    auto mace = mlpot::open_mace(path, o);
    const auto& meta = mace->metadata();
    if (a.opt.count("dtype") && a.get("dtype") != meta.dtype) {
      throw mlpot::Error(path + ": dtype mismatch: model is " + meta.dtype + ", --dtype asks for " + a.get("dtype"));
    }
    const std::string mode = a.get("mace-mode", "periodic");
    if (mode != "periodic" && mode != "ghost") throw mlpot::Error("--mace-mode must be periodic or ghost");
    m.periodic_mace = mode == "periodic";
    for (int z : meta.atomic_numbers) m.elements.push_back(mlpot::element_symbol(z));
    char buf[200];
    std::snprintf(buf, sizeof buf, "MACE, r_max %.3g A, %d interactions, %zu elements, %s, %s graph", meta.r_max,
                  meta.num_interactions, meta.atomic_numbers.size(), meta.dtype.c_str(), mode.c_str());
    m.describe = buf;
    m.mace = mace.get();
    m.potential = std::move(mace);
    choose_graph(a, m);
    return m;
  }
  mlpot::MtpModel model = mlpot::read_mtp(path);
  mlpot::require_evaluable(model);
  const mlpot::MtpPrecision precision = mlpot::parse_mtp_precision(a.get("precision", "double"));
  char buf[200];
  std::snprintf(buf, sizeof buf, "MTP level %d, %d species, cutoff %.3g A, %s precision", model.level(),
                model.species_count, model.max_dist, mlpot::precision_name(precision));
  m.describe = buf;
  auto mtp = mlpot::make_mtp_potential(model, a.get("backend", "default"), precision);
  m.mtp = mtp.get();
  m.potential = std::move(mtp);
  m.mtp_model = std::move(model);
  choose_graph(a, m);
  return m;
}

int cmd_info(const Args& a) {
  if (a.positional.empty()) throw mlpot::Error("info: which model?");
  if (mlpot::is_mace_model_file(a.positional[0])) {
    mlpot::KokkosRuntime rt(1);  // the native engine's kernels live in Kokkos
    Model m = load_model(a, a.positional[0]);
    std::string els;
    for (const auto& e : m.elements) els += (els.empty() ? "" : " ") + e;
    std::printf("file               %s\nkind               %s\nelements           %s\n", a.positional[0].c_str(),
                m.describe.c_str(), els.c_str());
    const auto& meta = m.mace->metadata();
    std::printf("engine             %s (%s)%s%s\n", meta.engine.c_str(), m.potential->backend().c_str(),
                meta.engine_reason.empty() ? "" : ": ", meta.engine_reason.c_str());
    if (!meta.radial.empty()) std::printf("radial MLPs        %s\n", meta.radial.c_str());
    std::printf("graph rewrites     %s\n", m.mace->graph_rewrites().c_str());
    return 0;
  }
  mlpot::MtpModel m = mlpot::read_mtp(a.positional[0]);
  std::printf("file               %s\n", a.positional[0].c_str());
  std::printf("kind               MTP (MLIP version 1.1.0)%s\n", m.selection_state.empty() ? "" : ", .almtp with selection state");
  std::printf("potential_name     %s\n", m.potential_name.c_str());
  std::printf("level              %d\n", m.level());
  std::printf("species_count      %d\n", m.species_count);
  std::printf("radial basis       %s, %d functions, %d radial functions\n", m.radial_basis_type.c_str(),
              m.radial_basis_size, m.radial_funcs_count);
  std::printf("min_dist, cutoff   %.6g, %.6g A\n", m.min_dist, m.max_dist);
  std::printf("scaling            %.17g\n", m.scaling);
  std::printf("moments            %d (basic %zu, products %zu, scalar %d), max tensor rank %d\n",
              m.alpha_moments_count, m.alpha_index_basic.size(), m.alpha_index_times.size(),
              m.alpha_scalar_moments(), m.max_tensor_rank());
  std::printf("parameters         %ld\n", m.parameter_count());
  std::printf("trained            %s\n", m.trained() ? "yes" : "no (untrained template)");
  return 0;
}

std::vector<mlpot::Structure> input_structures(const Args& a, const std::vector<std::string>& elements) {
  if (a.opt.count("input")) return mlpot::read_structures(a.need("input"), elements);
  std::string sys = a.get("system", "li2co3:3x5x4");
  if (sys.rfind("li2co3:", 0) == 0) {
    auto c = parse_cells(sys.substr(7));
    return {mlpot::build_li2co3(c[0], c[1], c[2])};
  }
  if (sys.rfind("li2edc:", 0) == 0) return {mlpot::build_amorphous_li2edc(to_int(sys.substr(7), "--system li2edc:N"))};
  throw mlpot::Error("unknown --system '" + sys + "' (built in: li2co3:AxBxC, li2edc:MOLECULES)");
}

// --output FILE, else standard output.
std::ostream* output_stream(const Args& a, std::ofstream& file) {
  if (!a.opt.count("output")) return &std::cout;
  file.open(a.need("output"));
  if (!file) throw mlpot::Error(a.need("output") + ": cannot write");
  return &file;
}

int cmd_eval(const Args& a) {
  mlpot::KokkosRuntime rt(thread_count(a));
  Model model = load_model(a, a.need("model"));
  std::vector<std::string> elements = a.opt.count("elements") ? split(a.get("elements"), ',') : model.elements;
  const std::string input = a.need("input");
  auto fmt = mlpot::format_from_path(input);
  auto structures = mlpot::read_structures(input, elements);
  std::ofstream file;
  std::ostream* out = output_stream(a, file);
  // MTP on host lists: batches of structures per kernel call (evaluate_many); otherwise one by one.
  const int batch_atoms = to_int(a.get("batch-atoms", "16384"), "--batch-atoms");
  if (batch_atoms < 0) throw mlpot::Error("--batch-atoms must be >= 0, got " + std::to_string(batch_atoms));
  std::vector<mlpot::Evaluation> results;
  if (model.mtp && !model.graph && batch_atoms > 0) results = mlpot::evaluate_many(*model.potential, structures, batch_atoms);
  for (size_t k = 0; k < structures.size(); ++k) {
    mlpot::Structure& s = structures[k];
    mlpot::Evaluation ev = results.empty() ? model.evaluate(s) : std::move(results[k]);
    s.energy = ev.energy;
    s.forces = ev.forces;
    // PlusStress (MLIP): the virial in eV, order xx yy zz yz xz xy.
    s.plus_stress = std::array<double, 6>{ev.virial[0], ev.virial[1], ev.virial[2], ev.virial[5], ev.virial[4], ev.virial[3]};
    if (fmt == mlpot::StructureFormat::Cfg) {
      s.features.erase(std::remove_if(s.features.begin(), s.features.end(), [](auto& f) { return f.first == "EFS_by"; }),
                       s.features.end());
      s.features.emplace_back("EFS_by", "mlpot");
      mlpot::write_cfg(*out, s);
    } else {
      mlpot::write_extxyz(*out, s, elements);
    }
  }
  return 0;
}

int cmd_bench(const Args& a) {
  mlpot::KokkosRuntime rt(thread_count(a));
  Model model = load_model(a, a.need("model"));
  std::vector<std::string> elements =
      a.opt.count("elements") ? split(a.get("elements"), ',') : (model.elements.empty() ? mlpot::sei_elements() : model.elements);
  auto structures = input_structures(a, elements);
  const int steps = to_int(a.get("steps", "20"), "--steps");
  const int warmup = to_int(a.get("warmup", "2"), "--warmup");
  if (steps < 1) throw mlpot::Error("--steps must be >= 1, got " + std::to_string(steps));
  if (warmup < 0) throw mlpot::Error("--warmup must be >= 0, got " + std::to_string(warmup));
  // Like an MD step with thermo output: energy, forces and the virial. --no-virial times the
  // steps in between, where LAMMPS asks for no virial.
  const bool with_virial = a.yes("virial", true);
  mlpot::Potential& pot = *model.potential;
  const mlpot::Structure& s = structures.front();
  for (int i = 0; i < s.size(); ++i) {
    if (s.species[i] >= pot.num_species()) throw mlpot::Error(s.source + ": atom " + std::to_string(i + 1) + " has a species the model lacks");
  }
  mlpot::Totals t{};
  std::function<void()> step;
  const bool grade = a.yes("grade", false);
  double last_grade = 0.0;
  if (grade) {
    if (!model.mtp) throw mlpot::Error("--grade: extrapolation grades are for MTP models");
    model.mtp->set_selection(std::make_shared<mlpot::SelectionState>(mlpot::parse_selection_state(model.mtp_model)));
  }
  // MTP: the neighbour list is built once, so this times the force call as MD codes that reuse
  // their list see it. MACE periodic mode: each step includes building the graph, whose list
  // needs only r_max and no ghost lists.
  const double ghost_cut = model.periodic_mace ? pot.cutoff() : pot.ghost_cutoff();
  const bool ghost_lists = !model.periodic_mace && pot.needs_ghost_neighbors();
  mlpot::GhostedSystem g = mlpot::build_neighbor_list(s, pot.cutoff(), ghost_cut, ghost_lists);
  std::vector<double> f(3 * size_t(g.n_total()));
  std::vector<double> e(g.n_local);
  mlpot::AtomsRef atoms{g.n_local, g.n_total(), g.positions.data(), g.species.data(), mlpot::MemorySpace::Host};
  mlpot::NeighborsRef nbr;
  nbr.n_listed = g.n_listed;
  nbr.neighbors = g.neighbors.data();
  nbr.offsets = g.offsets.data();
  mlpot::OutputsRef out{f.data(), e.data(), nullptr};
  out.virial = with_virial;
  if (model.graph && !model.periodic_mace) {
    // Lists, positions and outputs all in the Thrust builder's memory (the GPU's in a CUDA build).
    const mlpot::DeviceNeighborView& v = model.graph->build(s, pot.cutoff(), ghost_cut, ghost_lists);
    atoms = v.atoms();
    nbr = v.neighbor_ref();
    out.forces = model.graph->scratch(0, 3 * size_t(v.n_total));
    out.atom_energy = model.graph->scratch(1, size_t(v.n_local));
  }
  if (model.periodic_mace) {
    step = [&] { t.energy = model.evaluate(s, with_virial).energy; };
  } else {
    step = [&] {
      if (model.graph) {
        model.graph->scratch(0, 3 * size_t(atoms.n_total));  // zeroed in place
      } else {
        std::fill(f.begin(), f.end(), 0.0);
      }
      t = pot.compute(atoms, nbr, out);
      if (grade) {
        const mlpot::SelectionState& st = *model.mtp->selection();
        if (st.mode == mlpot::GradeMode::Configuration) {
          auto row = model.mtp->energy_gradient();
          for (double& v : row) v *= st.energy_row_scale(g.n_local);
          last_grade = model.mtp->row_grade(row);
        } else {
          last_grade = model.mtp->neighborhood_grades(nullptr);
        }
      }
    };
  }
  for (int i = 0; i < warmup; ++i) step();
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    step();
    auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  // Extra steps under a profiling tool (start, stop, table(steps, their wall seconds)); the
  // timed steps above ran without it.
  auto profiled_steps = [&](mlpot::StepProfiler& tool) {
    const int p_steps = std::max(3, std::min(steps, 10));
    tool.start();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < p_steps; ++i) step();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tool.stop();
    return tool.table(p_steps, wall);
  };
  std::string kernel_table;
  if (a.yes("kernel-times", false)) {
    mlpot::cli::KernelTimes kt;  // every Kokkos kernel fenced and timed
    kernel_table = profiled_steps(kt);
  }
  std::string torch_table;
  if (a.yes("torch-profile", false)) {
    if (!model.mace) throw mlpot::Error("--torch-profile: for MACE models (LibTorch work)");
    auto tp = model.mace->torch_profiler(a.get("device", "cpu").rfind("cuda", 0) == 0);
    torch_table = profiled_steps(*tp);
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  const double n = g.n_local;
  long local_pairs = 0;
  for (int i = 0; i < g.n_local; ++i) local_pairs += long(g.offsets[i + 1] - g.offsets[i]);
  std::printf("model        %s (%s)\n", a.need("model").c_str(), model.describe.c_str());
  std::printf("system       %s: %d atoms, %.1f neighbours/atom\n", s.source.c_str(), g.n_local, double(local_pairs) / n);
  std::printf("backend      %s, %d thread(s)\n", pot.backend().c_str(), Kokkos::DefaultHostExecutionSpace().concurrency());
  std::printf("graph        %s\n", model.graph_name().c_str());
  if (model.mace && a.get("device", "cpu") == "cpu") {
    std::printf("host heap    %s\n", mlpot::host_heap_policy().c_str());
  }
  std::printf("energy       %.10f eV\n", t.energy);
  if (grade) {
    std::printf("grade        %.6g (%s mode)\n", last_grade,
                model.mtp->selection()->mode == mlpot::GradeMode::Configuration ? "configuration" : "neighbourhood");
  }
  // The two neighbour-list builders on this system (median of 3 builds each, 1 above 100k
  // atoms; not in the step).
  const int reps = s.size() > 100000 ? 1 : 3;
  auto median_ms = [reps](auto&& f) {
    std::vector<double> t;
    for (int k = 0; k < reps; ++k) {
      auto t0 = std::chrono::steady_clock::now();
      f();
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  const double host_ms = median_ms([&] { mlpot::build_neighbor_list(s, pot.cutoff(), ghost_cut, ghost_lists); });
  mlpot::DeviceGraphBuilder timing_builder;
  const double thrust_ms = median_ms([&] { timing_builder.build(s, pot.cutoff(), ghost_cut, ghost_lists); });
  std::printf("list build   host %.3f ms, Thrust (%s) %.3f ms\n", host_ms, mlpot::DeviceGraphBuilder::system().c_str(),
              thrust_ms);
  std::printf("steps        %d (median of %zu timed)\n", steps, times.size());
  std::printf("us/atom-step %.3f\n", median / n * 1e6);
  std::printf("atom-steps/s %.4g\n", n / median);
  std::printf("ms/step      %.3f\n", median * 1e3);
  if (!kernel_table.empty()) std::printf("%s", kernel_table.c_str());
  if (!torch_table.empty()) std::printf("torch profile (LibTorch profiler, extra steps)\n%s", torch_table.c_str());
  return 0;
}

int cmd_make_model(const Args& a) {
  mlpot::MtpModel tmpl = mlpot::read_mtp(a.need("template"));
  mlpot::MtpModel m = mlpot::make_synthetic_mtp(tmpl, to_int(a.get("species", "6"), "--species"),
                                                to_num(a.get("min-dist", "0.92"), "--min-dist"),
                                                to_num(a.get("max-dist", "5.0"), "--max-dist"),
                                                unsigned(to_int(a.get("seed", "2025"), "--seed")));
  const std::string sel = a.get("selection", "");
  if (!sel.empty()) {
    if (sel != "cfg" && sel != "nbh") throw mlpot::Error("--selection must be cfg or nbh");
    auto st = mlpot::initial_selection_state(m, sel == "cfg" ? mlpot::GradeMode::Configuration : mlpot::GradeMode::Neighborhood);
    m.selection_state = mlpot::format_selection_state(st);
    std::ofstream out(a.need("out"), std::ios::binary);
    out << mlpot::format_almtp(m);
    if (!out) throw mlpot::Error(a.need("out") + ": write failed");
  } else {
    mlpot::write_mtp(m, a.need("out"));
  }
  std::printf("wrote %s: level %d, %d species, %ld parameters\n", a.need("out").c_str(), m.level(), m.species_count,
              m.parameter_count());
  return 0;
}

int cmd_grade(const Args& a) {
  mlpot::KokkosRuntime rt(thread_count(a));
  const std::string path = a.need("model");
  if (mlpot::is_mace_model_file(path)) throw mlpot::Error("grade: extrapolation grades are defined for MTP selection states (.almtp, .als)");
  Model model = load_model(a, path);
  model.mtp->set_selection(std::make_shared<mlpot::SelectionState>(mlpot::parse_selection_state(model.mtp_model)));
  const std::string input = a.need("input");
  if (mlpot::format_from_path(input) != mlpot::StructureFormat::Cfg) throw mlpot::Error("grade: the input must be a .cfg file");
  auto structures = mlpot::read_structures(input, {});
  std::ofstream file;
  std::ostream* out = output_stream(a, file);
  char buf[64];
  for (auto& s : structures) {
    mlpot::StructureGrade g = mlpot::grade_structure(*model.mtp, s);
    s.features.erase(std::remove_if(s.features.begin(), s.features.end(), [](auto& f) { return f.first == "MV_grade"; }),
                     s.features.end());
    std::snprintf(buf, sizeof buf, "%.17g", g.grade);
    s.features.emplace_back("MV_grade", buf);
    s.nbh_grades = g.atom_grades;
    mlpot::write_cfg(*out, s);
  }
  return 0;
}

// build's options, per structure: cmd_build checks them, the command table takes their union.
const std::vector<std::string> kLi2co3Options = {"cells", "out"};
const std::vector<std::string> kLi2edcOptions = {"molecules", "density", "min-distance", "seed", "out"};

int cmd_build(const Args& a) {
  const std::string what = a.positional.empty() ? "" : a.positional[0];
  mlpot::Structure s;
  if (what == "li2co3") {
    require_known(a, "build li2co3", kLi2co3Options, 1);
    auto c = parse_cells(a.get("cells", "3x5x4"));
    s = mlpot::build_li2co3(c[0], c[1], c[2]);
  } else if (what == "li2edc") {
    require_known(a, "build li2edc", kLi2edcOptions, 1);
    s = mlpot::build_amorphous_li2edc(to_int(a.get("molecules", "72"), "--molecules"), to_num(a.get("density", "1.7"), "--density"),
                                      to_num(a.get("min-distance", "1.4"), "--min-distance"),
                                      unsigned(to_int(a.get("seed", "2025"), "--seed")));
  } else {
    throw mlpot::Error("build: 'li2co3' or 'li2edc'");
  }
  const std::string path = a.need("out");
  std::ofstream out(path);
  if (!out) throw mlpot::Error(path + ": cannot write");
  if (mlpot::format_from_path(path) == mlpot::StructureFormat::Cfg) {
    mlpot::write_cfg(out, s);
  } else {
    mlpot::write_extxyz(out, s, mlpot::sei_elements());
  }
  std::printf("wrote %s: %d atoms\n", path.c_str(), s.size());
  return 0;
}

int cmd_backends(const Args&) {
  for (const auto& b : mlpot::available_backends()) std::printf("%s\n", b.c_str());
  return 0;
}

const std::vector<std::string> kMaceOptionNames = {"device", "dtype", "mace-mode", "mace-rewrite", "mace-tf32",
                                                  "mace-engine"};

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Each command: its usage blocks (what `mlpot NAME --help` prints), the options it takes and how
// many positional arguments.
struct Command {
  std::string name;
  std::vector<const char*> usage;
  std::vector<std::string> options;
  size_t max_positional;
  int (*run)(const Args&);
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"info", {kInfo}, {"device", "mace-rewrite", "mace-engine", "backend"}, 1, cmd_info},
      {"eval", {kEval, kMaceOptions, kMtpOption, kGraphOption, kCommonOptions},
       joined({"model", "input", "output", "elements", "backend", "threads", "graph", "batch-atoms", "precision"},
              kMaceOptionNames),
       0,
       cmd_eval},
      {"bench", {kBench, kMaceOptions, kMtpOption, kGraphOption, kCommonOptions},
       joined({"model", "input", "system", "steps", "warmup", "backend", "threads", "elements", "virial", "grade",
               "kernel-times", "torch-profile", "graph", "precision"},
              kMaceOptionNames),
       0, cmd_bench},
      {"make-model", {kMakeModel}, {"template", "out", "species", "min-dist", "max-dist", "seed", "selection"}, 0,
       cmd_make_model},
      {"grade", {kGrade, kCommonOptions}, {"model", "input", "output", "backend", "threads"}, 0, cmd_grade},
      // build checks its options per structure (li2co3 and li2edc take different ones).
      {"build", {kBuild}, joined(kLi2co3Options, kLi2edcOptions), 1, cmd_build},
      {"backends", {kBackends}, {}, 0, cmd_backends},
  };
  return table;
}

std::string full_usage() {
  std::string u = std::string(kHeader) + "\ncommands:\n";
  for (const auto& c : commands()) u += c.usage.front();
  return u + "\n" + kMaceOptions + "\n" + kMtpOption + "\n" + kGraphOption + "\n" + kCommonOptions;
}

std::string command_usage(const Command& c) {
  std::string u = "usage:\n";
  for (size_t i = 0; i < c.usage.size(); ++i) u += (i ? "\n" : "") + std::string(c.usage[i]);
  return u;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(full_usage().c_str(), stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(full_usage().c_str(), stdout);
    return 0;
  }
  const auto& table = commands();
  auto it = std::find_if(table.begin(), table.end(), [&](const Command& c) { return c.name == cmd; });
  if (it == table.end()) {
    std::fprintf(stderr, "mlpot: unknown command '%s'\n%s", cmd.c_str(), full_usage().c_str());
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      std::fputs(command_usage(*it).c_str(), stdout);
      return 0;
    }
  }
  try {
    Args a = parse_args(argc, argv, 2);
    require_known(a, cmd, it->options, it->max_positional);
    return it->run(a);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "mlpot %s: error: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mlpot %s: error: %s\n", cmd.c_str(), mlpot::error_message(e).c_str());
    return 1;
  }
}
