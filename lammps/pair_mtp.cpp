#include "pair_mtp.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "mlpot/error.hpp"
#include "mlpot/mlip_settings.hpp"
#include "mlpot/mtp_potential.hpp"
#include "neigh_list.h"
#include "neighbor.h"
#include "mlpot/structure_io.hpp"
#include "update.h"

using namespace LAMMPS_NS;


// compute centroid/stress/atom: each site energy's terms go whole to the neighbours (the
// library's OutputsRef::atom_centroid_virial).
PairMTP::PairMTP(LAMMPS *lmp) : PairMlpot(lmp)
{
  centroidstressflag = CENTROID_AVAIL;
}

// pair_style mtp FILE [elements El1 El2 ...] [backend serial|openmp|default] [precision double|mixed]
//                     [extrapolation OUT.cfg [select G] [break G] [every N]]
// pair_style mlip ...: the syntax of MLIP-3's and MLIP-2's own LAMMPS interfaces (settings_mlip).
void PairMTP::settings(int narg, char **arg)
{
  if (utils::strmatch(force->pair_style, "^mlip")) return settings_mlip(narg, arg);
  if (narg < 1)
    error->all(FLERR, "Illegal pair_style {} command: pair_style {} FILE [elements ...] [backend B] "
               "[precision double|mixed] [extrapolation OUT.cfg [select G] [break G] [every N]]",
               force->pair_style, force->pair_style);
  model_path_ = arg[0];
  elements_.clear();
  grade_file_.clear();
  select_threshold_ = 2.0;
  break_threshold_ = 10.0;
  grade_every_ = 1;
  precision_ = mlpot::MtpPrecision::Double;
  bool thresholds_given = false;
  auto is_keyword = [](const char *a) {
    for (const char *k : {"backend", "elements", "precision", "extrapolation", "select", "break", "every", "chunksize"})
      if (strcmp(a, k) == 0) return true;
    return false;
  };
  auto value = [&](int &i) -> const char * {
    if (i + 1 >= narg) error->all(FLERR, "pair_style {}: '{}' needs a value", force->pair_style, arg[i]);
    return arg[++i];
  };
  for (int i = 1; i < narg; ++i) {
    if (strcmp(arg[i], "backend") == 0) {
      backend_ = value(i);
    } else if (strcmp(arg[i], "precision") == 0) {
      try {
        precision_ = mlpot::parse_mtp_precision(value(i));
      } catch (const std::exception &e) {
        error->all(FLERR, "pair_style {}: {}", force->pair_style, mlpot::error_message(e));
      }
    } else if (strcmp(arg[i], "elements") == 0) {
      while (i + 1 < narg && !is_keyword(arg[i + 1])) elements_.emplace_back(arg[++i]);
    } else if (strcmp(arg[i], "extrapolation") == 0) {
      grade_file_ = value(i);
    } else if (strcmp(arg[i], "select") == 0) {
      select_threshold_ = utils::numeric(FLERR, value(i), false, lmp);
      thresholds_given = true;
    } else if (strcmp(arg[i], "break") == 0) {
      break_threshold_ = utils::numeric(FLERR, value(i), false, lmp);
      thresholds_given = true;
    } else if (strcmp(arg[i], "every") == 0) {
      grade_every_ = utils::inumeric(FLERR, value(i), false, lmp);
      thresholds_given = true;
      if (grade_every_ < 1) error->all(FLERR, "pair_style {}: 'every' must be >= 1", force->pair_style);
    } else if (strcmp(arg[i], "chunksize") == 0) {
      // lammps-mtp-kokkos' batch size for its stored moment Jacobians; mlpot's kernel stores
      // none, so scripts written for that package run unchanged.
      if (utils::inumeric(FLERR, value(i), false, lmp) < 1)
        error->all(FLERR, "pair_style {}: 'chunksize' must be >= 1", force->pair_style);
    } else {
      error->all(FLERR, "pair_style {}: unknown keyword '{}'", force->pair_style, arg[i]);
    }
  }
  if (thresholds_given && grade_file_.empty())
    error->all(FLERR, "pair_style {}: select/break/every need 'extrapolation OUT.cfg'", force->pair_style);
  if (!grade_file_.empty() && precision_ != mlpot::MtpPrecision::Double)
    error->all(FLERR, "pair_style {}: precision mixed computes no extrapolation grades; use precision double "
               "with 'extrapolation'", force->pair_style);
  if (!grade_file_.empty() && !(break_threshold_ > select_threshold_))
    error->all(FLERR, "pair_style {}: the break threshold ({}) must exceed the select threshold ({})",
               force->pair_style, break_threshold_, select_threshold_);
  load_model(!grade_file_.empty());
  if (!elements_.empty() && int(elements_.size()) != model_.species_count)
    error->all(FLERR, "pair_style {}: {} element names given but {} has {} species", force->pair_style,
               elements_.size(), model_path_, model_.species_count);
}

// MLIP-3: pair_style mlip load_from=FILE [extrapolation_control=true extrapolation_control:KEY=V ...]
// MLIP-2: pair_style mlip mlip.ini
// Read by mlpot::parse_mlip_interface_args; types map to species t-1 (pair_coeff * *).
void PairMTP::settings_mlip(int narg, char **arg)
{
  mlpot::MlipInterfaceSettings s;
  try {
    s = mlpot::parse_mlip_interface_args(std::vector<std::string>(arg, arg + narg));
  } catch (const std::exception &e) {
    const std::string what = mlpot::error_message(e);    // ini errors start with FILE:LINE
    error->all(FLERR, "{}{}", utils::strmatch(what, "^pair_style") ? "" : "pair_style mlip: ", what);
  }
  for (const std::string &why : s.ignored)
    if (comm->me == 0) error->warning(FLERR, "pair_style {}: ignored {}", force->pair_style, why);
  model_path_ = s.potential;
  elements_.clear();
  grade_file_ = s.save_to;
  select_threshold_ = s.threshold_save;
  break_threshold_ = s.break_enabled() ? s.threshold_break : std::numeric_limits<double>::infinity();
  grade_every_ = 1;
  load_model(s.extrapolation);
  if (!s.same_potential_as.empty()) {
    // MLIP-2 keeps the state (with a copy of the potential) apart from mtp-filename.
    bool same = false;
    try {
      same = mlpot::same_potential(mlpot::read_mtp(s.same_potential_as), model_);
    } catch (const std::exception &e) {
      error->all(FLERR, "pair_style {}: {}", force->pair_style, mlpot::error_message(e));
    }
    if (!same)
      error->all(FLERR, "pair_style {}: the selection state {} was made for another potential than {} "
                 "(recompute it for this potential)", force->pair_style, model_path_, s.same_potential_as);
  }
}

// Reads model_path_ (and, when grading, its selection state); a new potential is made at init.
void PairMTP::load_model(bool extrapolate)
{
  selection_.reset();
  potential_.reset();
  try {
    model_ = mlpot::read_mtp(model_path_);
    mlpot::require_evaluable(model_);
    if (extrapolate) selection_ = std::make_shared<mlpot::SelectionState>(mlpot::parse_selection_state(model_));
  } catch (const std::exception &e) {
    error->all(FLERR, "pair_style {}: {}", force->pair_style, mlpot::error_message(e));
  }
}

void PairMTP::map_types_to_species(int narg, char **arg)
{
  const int ntypes = atom->ntypes;
  if (narg >= 2 && (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0))
    error->all(FLERR, "pair_coeff for {} must start with * *", force->pair_style);
  species_of_type_.assign(ntypes + 1, -1);
  if (narg == 2) {
    // `pair_coeff * *` alone: type t is species t-1, as MLIP's LAMMPS interfaces map them.
    if (ntypes > model_.species_count)
      error->all(FLERR, "pair_coeff * * maps type t to species t-1, but there are {} atom types and {} has {} "
                 "species; list one species or element per type", ntypes, model_path_, model_.species_count);
    for (int t = 1; t <= ntypes; ++t) species_of_type_[t] = t - 1;
    return;
  }
  if (narg != 2 + ntypes)
    error->all(FLERR, "pair_coeff for {}: expected * * followed by {} entries (one per atom type), got {}",
               force->pair_style, ntypes, narg - 2);
  for (int t = 1; t <= ntypes; ++t) {
    const char *entry = arg[1 + t];
    int s = -1;
    for (size_t e = 0; e < elements_.size(); ++e)
      if (elements_[e] == entry) s = int(e);
    if (s < 0) {
      char *end = nullptr;
      long v = strtol(entry, &end, 10);
      if (end == entry || *end != '\0') {
        if (elements_.empty())
          error->all(FLERR, "pair_coeff: '{}' for type {} is not a species index; name the species with "
                     "'pair_style mtp {} elements ...' to map by element", entry, t, model_path_);
        error->all(FLERR, "pair_coeff: element '{}' for type {} is not in the model's elements", entry, t);
      }
      s = int(v);
    }
    if (s < 0 || s >= model_.species_count)
      error->all(FLERR, "pair_coeff: species {} for type {} is outside the model's {} species (0..{})", s, t,
                 model_.species_count, model_.species_count - 1);
    species_of_type_[t] = s;
  }
}

void PairMTP::coeff(int narg, char **arg)
{
  map_types_to_species(narg, arg);
  allocate_type_arrays();
}

void PairMTP::create_potential()
{
  ensure_kokkos();
  potential_ = mlpot::make_mtp_potential(model_, backend_, precision_);
}

void PairMTP::init_style()
{
  require_run_settings(!species_of_type_.empty());
  neighbor->add_request(this, NeighConst::REQ_FULL);
  ensure_potential();
}

void PairMTP::ensure_potential()
{
  try {
    if (!potential_) {
      create_potential();
      if (selection_) potential_->set_selection(selection_);
    }
  } catch (const std::exception &e) {
    error->all(FLERR, "pair_style {}: {}", force->pair_style, mlpot::error_message(e));
  }
}

double PairMTP::init_one(int, int)
{
  return model_.max_dist;
}

void PairMTP::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  const int nlocal = atom->nlocal, nall = atom->nlocal + atom->nghost;
  if (list->inum != nlocal) error->one(FLERR, "pair_style mtp needs a neighbour list of all local atoms");
  const mlpot::AtomsRef atoms = host_atoms();
  const mlpot::NeighborsRef nbr = host_neighbors(nlocal);
  mlpot::OutputsRef out;
  out.forces = nall ? &atom->f[0][0] : nullptr;
  out.atom_energy = eflag_atom ? eatom : nullptr;
  out.atom_virial = vflag_atom ? &vatom[0][0] : nullptr;
  out.atom_centroid_virial = cvflag_atom && nall ? &cvatom[0][0] : nullptr;
  out.virial = vflag_global;
  out.energy = eflag_global;
  begin_grade_step();
  compute_with(*potential_, atoms, nbr, out);
  finish_grade_step();
}

bool PairMTP::begin_grade_step()
{
  grade_now_ = selection_ && update->ntimestep % grade_every_ == 0;
  if (selection_) potential_->set_grades_enabled(grade_now_);
  return grade_now_;
}

void PairMTP::finish_grade_step()
{
  if (!grade_now_) return;
  const mlpot::SelectionState &st = *selection_;
  const int nlocal = atom->nlocal;
  double grade = 0.0;
  try {
    if (st.mode == mlpot::GradeMode::Configuration) {
      // MLIP's configuration row: d(total energy)/d(parameters), summed over ranks, / N^(w/2).
      std::vector<double> row = potential_->energy_gradient();
      MPI_Allreduce(MPI_IN_PLACE, row.data(), int(row.size()), MPI_DOUBLE, MPI_SUM, world);
      const double scale = st.energy_row_scale(long(atom->natoms));
      for (double &v : row) v *= scale;
      grade = potential_->row_grade(row);
      atom_grades_.assign(nlocal, grade);
    } else {
      atom_grades_.resize(nlocal);
      double local = potential_->neighborhood_grades(atom_grades_.data());  // non-const: LAMMPS STUBS take void*
      MPI_Allreduce(&local, &grade, 1, MPI_DOUBLE, MPI_MAX, world);
    }
  } catch (const std::exception &e) {
    error->one(FLERR, "pair_style {}: {}", force->pair_style, mlpot::error_message(e));
  }
  last_grade_ = grade;
  last_grade_step_ = update->ntimestep;
  if (grade > select_threshold_ && !grade_file_.empty()) write_configuration(grade);
  if (grade > break_threshold_) {
    if (grade_file_.empty())
      error->all(FLERR, "pair_style {}: extrapolation grade {:.6g} exceeds the break threshold {} at step {}; the "
                 "run is stopped", force->pair_style, grade, break_threshold_, update->ntimestep);
    error->all(FLERR,
               "pair_style {}: extrapolation grade {:.6g} exceeds the break threshold {} at step {}; the run is "
               "stopped (this configuration and {} extrapolative one(s) before it are in {})",
               force->pair_style, grade, break_threshold_, update->ntimestep, written_ - 1, grade_file_);
  }
}

// The whole system as one MLIP .cfg configuration appended to grade_file_ (rank 0 writes),
// atoms in tag order, with Feature MV_grade and, for neighbourhood states, nbh_grades.
void PairMTP::write_configuration(double grade)
{
  sync_host_for_output();
  const int nlocal = atom->nlocal;
  const bool per_atom = selection_->mode == mlpot::GradeMode::Neighborhood;
  std::vector<double> mine;  // tag, species, x, y, z, grade
  mine.reserve(6 * size_t(nlocal));
  for (int i = 0; i < nlocal; ++i) {
    mine.insert(mine.end(), {double(atom->tag[i]), double(species_of_type_[atom->type[i]]), atom->x[i][0],
                             atom->x[i][1], atom->x[i][2], per_atom ? atom_grades_[i] : grade});
  }
  int count = int(mine.size());
  std::vector<int> counts(comm->nprocs), displs(comm->nprocs);
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, world);
  std::vector<double> all;
  if (comm->me == 0) {
    int total = 0;
    for (int r = 0; r < comm->nprocs; ++r) {
      displs[r] = total;
      total += counts[r];
    }
    all.resize(total);
  }
  MPI_Gatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, 0, world);
  ++written_;
  if (comm->me != 0) return;
  const size_t n = all.size() / 6;
  std::vector<size_t> order(n);
  for (size_t a = 0; a < n; ++a) order[a] = a;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return all[6 * a] < all[6 * b]; });
  mlpot::Structure s;
  s.cell = {{{domain->xprd, 0.0, 0.0}, {domain->xy, domain->yprd, 0.0}, {domain->xz, domain->yz, domain->zprd}}};
  s.pbc = {domain->xperiodic != 0, domain->yperiodic != 0, domain->zperiodic != 0};
  for (size_t a : order) {
    s.species.push_back(int(all[6 * a + 1]));
    for (int d = 0; d < 3; ++d) s.positions.push_back(all[6 * a + 2 + d] - domain->boxlo[d]);
    if (per_atom) s.nbh_grades.push_back(all[6 * a + 5]);
  }
  s.features.emplace_back("MV_grade", fmt::format("{:.17g}", grade));
  s.features.emplace_back("lammps_step", std::to_string(update->ntimestep));
  std::ofstream out(grade_file_, std::ios::app);
  mlpot::write_cfg(out, s);
  out.close();
  if (!out) error->one(FLERR, "pair_style {}: cannot append to {}", force->pair_style, grade_file_);
}
