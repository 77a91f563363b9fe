// mlpot._mlpot: the Python extension behind mlpot.Calculator (python/mlpot/calculator.py).
//
// It holds one loaded potential and evaluates whole structures with the library's own driver:
// mlpot::Evaluator (periodic images and the neighbour list of src/core/neighbor_list.cpp, kept as a
// Verlet list between calls; MACE's periodic graph from it) and, for MTP grades, grade_structure,
// so Python, the CLI and LAMMPS share one graph builder and one set of kernels. Arrays cross as NumPy arrays:
// one copy in (positions), the result vectors handed over without a copy.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <Kokkos_Core.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "mlpot/builders.hpp"
#include "mlpot/error.hpp"
#include "mlpot/evaluator.hpp"
#include "mlpot/mace_potential.hpp"
#include "mlpot/model_file.hpp"
#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mlpot/mtp_selection.hpp"
#include "mlpot/structure.hpp"

namespace nb = nanobind;

namespace {

using DoubleArray = nb::ndarray<nb::numpy, double>;

// A std::vector handed to NumPy without a copy: the array owns it through a capsule.
DoubleArray to_numpy(std::vector<double>&& v, std::initializer_list<size_t> shape) {
  auto* owned = new std::vector<double>(std::move(v));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
  return DoubleArray(owned->data(), shape.size(), shape.begin(), owner);
}

class Model;

// Kokkos is initialised once per process, by the first model, and finalised at interpreter exit
// (mlpot/__init__.py registers shutdown() with atexit) after every model still alive has dropped
// its potential: Kokkos must not free a View after finalize, and cannot be initialised twice.
struct Runtime {
  std::unique_ptr<mlpot::KokkosRuntime> kokkos;
  std::set<Model*> models;
  bool shut_down = false;
};
Runtime& runtime() {
  static Runtime r;
  return r;
}

// Threads of the process's Kokkos host space, fixed at its initialisation.
int kokkos_threads() { return Kokkos::DefaultHostExecutionSpace().concurrency(); }

void start_kokkos(int threads) {
  Runtime& r = runtime();
  if (r.shut_down) throw mlpot::Error("mlpot has been shut down (interpreter exit): no new models");
  if (!Kokkos::is_initialized()) {
    r.kokkos = std::make_unique<mlpot::KokkosRuntime>(threads);
    return;
  }
  if (threads > 0 && threads != kokkos_threads()) {
    throw mlpot::Error("threads=" + std::to_string(threads) + ": this process's Kokkos already runs " +
                       std::to_string(kokkos_threads()) +
                       " host threads (set by its first model; Kokkos cannot change them afterwards): "
                       "pass threads=0 or the same count");
  }
}

class Model {
 public:
  // kind: "mtp" or "mace" (the Python side decides from the file); engine/device: MACE only;
  // precision: MTP only ("double" or "mixed").
  Model(const std::string& path, const std::string& kind, const std::string& backend, int threads,
        const std::string& device, const std::string& engine, double skin, const std::string& precision) {
    if (threads < 0) throw mlpot::Error("threads must be >= 0 (0: Kokkos' default), got " + std::to_string(threads));
    start_kokkos(threads);
    if (kind == "mace") {
      if (precision != "double") {
        throw mlpot::Error(path + ": precision='" + precision + "' is for MTP models; a MACE model's arithmetic is its dtype");
      }
      mlpot::MaceOptions o;
      o.device = device;
      o.threads = threads;
      o.engine = engine;
      o.backend = backend;
      auto mace = mlpot::open_mace(path, o);
      for (int z : mace->metadata().atomic_numbers) atomic_numbers_.push_back(z);
      mace_ = mace.get();
      evaluator_ = std::make_unique<mlpot::Evaluator>(*mace, skin);
      potential_ = std::move(mace);
    } else if (kind == "mtp") {
      if (device != "cpu") {
        throw mlpot::Error(path + ": device='" + device + "' is for MACE models; an MTP runs where its backend runs (backend=)");
      }
      if (engine != "auto") throw mlpot::Error(path + ": engine='" + engine + "' is for MACE models");
      mtp_model_ = mlpot::read_mtp(path);
      mlpot::require_evaluable(mtp_model_);
      auto mtp = mlpot::make_mtp_potential(mtp_model_, backend, mlpot::parse_mtp_precision(precision));
      mtp_ = mtp.get();
      evaluator_ = std::make_unique<mlpot::Evaluator>(*mtp, skin);
      potential_ = std::move(mtp);
    } else {
      throw mlpot::Error("model kind must be 'mtp' or 'mace', got '" + kind + "'");
    }
    path_ = path;
    runtime().models.insert(this);
  }
  ~Model() { runtime().models.erase(this); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  void release() {
    evaluator_.reset();
    mace_ = nullptr;
    mtp_ = nullptr;
    potential_.reset();
  }

  mlpot::Potential& potential() const {
    if (!potential_) throw mlpot::Error(path_ + ": this model was released at interpreter shutdown");
    return *potential_;
  }
  std::string kind() const { return potential().kind(); }
  std::string backend() const { return potential().backend(); }
  double cutoff() const { return potential().cutoff(); }
  int num_species() const { return potential().num_species(); }
  // MACE: the atomic number of each model species; MTP files do not say (empty).
  std::vector<int> atomic_numbers() const { return atomic_numbers_; }
  std::string engine() const { return mace_ ? mace_->metadata().engine : std::string("mtp"); }
  std::string dtype() const { return mace_ ? mace_->metadata().dtype : std::string("float64"); }
  std::string precision() const { return mtp_ ? mlpot::precision_name(mtp_->precision()) : std::string("double"); }
  bool has_selection_state() const { return mtp_ && !mtp_model_.selection_state.empty(); }
  int threads() const { return kokkos_threads(); }
  // How many neighbour lists the Verlet list has built (the other calls reused one).
  long list_builds() const { return evaluator_ ? evaluator_->builds() : 0; }

  // Energy, per-atom energies, forces [n][3] and the virial (xx yy zz xy xz yz, eV) of one
  // structure; with `grade` (MTP with a selection state) also MLIP's MV grade and, in
  // neighbourhood mode, each atom's grade.
  nb::dict evaluate(nb::ndarray<const double, nb::shape<-1, 3>, nb::c_contig, nb::device::cpu> positions,
                    nb::ndarray<const int, nb::shape<-1>, nb::c_contig, nb::device::cpu> species,
                    nb::ndarray<const double, nb::shape<3, 3>, nb::c_contig, nb::device::cpu> cell,
                    std::vector<bool> pbc, bool virial, bool grade) {
    potential();  // throws once released
    const size_t n = positions.shape(0);
    if (species.shape(0) != n) throw mlpot::Error("positions and species differ in length");
    if (pbc.size() != 3) throw mlpot::Error("pbc needs three entries");
    mlpot::Structure s;
    s.positions.assign(positions.data(), positions.data() + 3 * n);
    s.species.assign(species.data(), species.data() + n);
    for (int a = 0; a < 3; ++a) {
      for (int d = 0; d < 3; ++d) s.cell[a][d] = cell(a, d);
      s.pbc[a] = pbc[a];
    }
    s.source = "Atoms (atom numbers from 1)";
    mlpot::Evaluation ev;
    double mv_grade = 0.0;
    std::vector<double> atom_grades;
    {
      nb::gil_scoped_release unlocked;  // other Python threads run while the kernels do,
      std::lock_guard<std::mutex> one_call(mutex_);  // but one call at a time uses this model's buffers
      if (grade) {
        if (!has_selection_state()) {
          throw mlpot::Error(path_ + ": extrapolation grades need an MTP with a selection state (.almtp)");
        }
        if (!mtp_->selection()) {
          mtp_->set_selection(std::make_shared<mlpot::SelectionState>(mlpot::parse_selection_state(mtp_model_)));
        }
        mtp_->set_grades_enabled(true);
        mlpot::StructureGrade g = mlpot::grade_structure(*mtp_, s);
        mv_grade = g.grade;
        atom_grades = std::move(g.atom_grades);
        ev = std::move(g.evaluation);
      } else {
        if (mtp_ && mtp_->selection()) mtp_->set_grades_enabled(false);
        ev = evaluator_->evaluate(s, virial);
      }
    }
    nb::dict out;
    out["energy"] = ev.energy;
    out["energies"] = to_numpy(std::move(ev.atom_energy), {n});
    out["forces"] = to_numpy(std::move(ev.forces), {n, 3});
    std::vector<double> w(ev.virial.begin(), ev.virial.end());
    out["virial"] = to_numpy(std::move(w), {6});
    if (grade) {
      out["grade"] = mv_grade;
      if (!atom_grades.empty()) out["atom_grades"] = to_numpy(std::move(atom_grades), {n});
    }
    return out;
  }

 private:
  std::string path_;
  std::unique_ptr<mlpot::Potential> potential_;
  std::unique_ptr<mlpot::Evaluator> evaluator_;  // its Verlet list, kept between calls
  std::mutex mutex_;
  mlpot::MtpPotential* mtp_ = nullptr;
  mlpot::MacePotential* mace_ = nullptr;
  mlpot::MtpModel mtp_model_;
  std::vector<int> atomic_numbers_;
};

// At interpreter exit: every model drops its potential (its Views), then Kokkos is finalised.
void shutdown() {
  Runtime& r = runtime();
  for (Model* m : r.models) m->release();
  r.kokkos.reset();
  r.shut_down = true;
}

}  // namespace

NB_MODULE(_mlpot, m) {
  m.doc() = "mlpot's C++ library (the Python package's extension; use mlpot.Calculator)";
  static nb::exception<mlpot::Error> error(m, "Error", PyExc_RuntimeError);
  // Host allocations that fail (std::bad_alloc, Kokkos' RawMemoryAllocationFailure among them)
  // become MemoryError with mlpot's message, which says what ran out.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const std::bad_alloc& e) {
      PyErr_SetString(PyExc_MemoryError, mlpot::error_message(e).c_str());
    }
  });

  nb::class_<Model>(m, "Model")
      .def(nb::init<const std::string&, const std::string&, const std::string&, int, const std::string&,
                    const std::string&, double, const std::string&>(),
           nb::arg("path"), nb::arg("kind"), nb::arg("backend") = "default", nb::arg("threads") = 0,
           nb::arg("device") = "cpu", nb::arg("engine") = "auto", nb::arg("skin") = 1.0,
           nb::arg("precision") = "double")
      .def_prop_ro("kind", &Model::kind)
      .def_prop_ro("backend", &Model::backend)
      .def_prop_ro("cutoff", &Model::cutoff)
      .def_prop_ro("num_species", &Model::num_species)
      .def_prop_ro("atomic_numbers", &Model::atomic_numbers)
      .def_prop_ro("engine", &Model::engine)
      .def_prop_ro("dtype", &Model::dtype)
      .def_prop_ro("precision", &Model::precision)
      .def_prop_ro("has_selection_state", &Model::has_selection_state)
      .def_prop_ro("threads", &Model::threads)
      .def_prop_ro("list_builds", &Model::list_builds)
      .def("evaluate", &Model::evaluate, nb::arg("positions"), nb::arg("species"), nb::arg("cell"), nb::arg("pbc"),
           nb::arg("virial") = true, nb::arg("grade") = false);

  m.def("available_backends", &mlpot::available_backends);
  // The seed study's Li2CO3 crystal (src/core/builders.cpp), species in sei_elements() order.
  m.def("build_li2co3", [](int na, int nb, int nc) {
    mlpot::Structure s = mlpot::build_li2co3(na, nb, nc);
    const size_t n = s.species.size();
    std::vector<double> cell;
    for (const auto& row : s.cell) cell.insert(cell.end(), row.begin(), row.end());
    nb::dict out;
    out["positions"] = to_numpy(std::move(s.positions), {n, 3});
    out["species"] = s.species;
    out["cell"] = to_numpy(std::move(cell), {3, 3});
    out["elements"] = mlpot::sei_elements();
    return out;
  });
  m.def("is_mace_model_file", &mlpot::is_mace_model_file);
  m.def("shutdown", &shutdown);
}
