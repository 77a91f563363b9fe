#pragma once
// Factory for the Kokkos MTP potential.
#include <memory>
#include <string>
#include <vector>

#include "mlpot/mtp_model.hpp"
#include "mlpot/mtp_selection.hpp"
#include "mlpot/potential.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

// The arithmetic of the MTP kernel (docs/mtp.md, "Mixed precision").
//   Double: every operation in double, as MLIP-3 and motep (the default).
//   Mixed:  float for the radial basis, the moments, their products and adjoints and each
//           neighbour's gradient; double for the bond vectors (from the positions) and for every
//           sum over neighbours and atoms: site energies, forces, virials. For GPUs whose double
//           rate is low, and for the 2x float rate of the H100/H200. It computes no grades.
enum class MtpPrecision { Double, Mixed };
// "double" or "mixed" (as the CLI's --precision and the pair styles' precision keyword take them).
MtpPrecision parse_mtp_precision(const std::string& name);
const char* precision_name(MtpPrecision precision);

// The MTP on one Kokkos backend, with extrapolation grades when given a selection state.
class MtpPotential : public Potential {
 public:
  virtual MtpPrecision precision() const = 0;
  // With a state set (null unsets), every compute() also forms each local atom's gradient of
  // its site energy with respect to the potential parameters, in the same kernel pass; the
  // methods below read them until the next compute(). The state must match the model's n.
  virtual void set_selection(std::shared_ptr<const SelectionState> state) = 0;
  virtual const SelectionState* selection() const = 0;
  // Keeps the state but skips the gradient work while false (MD steps that need no grade).
  virtual void set_grades_enabled(bool enabled) = 0;
  // Configuration mode: d(sum of local site energies)/d(parameters), length n, unscaled (the
  // caller sums it over MPI ranks and applies SelectionState::energy_row_scale).
  virtual std::vector<double> energy_gradient() = 0;
  // max_l |(row A^-1)_l| for a full row of length n (host memory), computed on the backend.
  virtual double row_grade(const std::vector<double>& row) = 0;
  // Neighbourhood mode: each local atom's grade into grades[n_local] (host memory; may be
  // null), returns their maximum (0 without local atoms).
  virtual double neighborhood_grades(double* grades) = 0;
};

// Extrapolation grade of a whole structure (periodic images as ghosts), with the potential's
// selection state: `grade` is MLIP's MV_grade; `atom_grades` holds the neighbourhood grades
// in neighbourhood mode (empty in configuration mode).
struct StructureGrade {
  double grade = 0.0;
  std::vector<double> atom_grades;
  Evaluation evaluation;  // energy, forces and virial from the same call
};
StructureGrade grade_structure(MtpPotential& potential, const Structure& s);

// Execution spaces compiled into this build, e.g. {"Serial", "OpenMP"} or {"Serial", "Cuda"}.
std::vector<std::string> available_backends();
// The fastest available backend: Cuda, else OpenMP, else Serial.
std::string default_backend();

// Kokkos must be initialised (see KokkosRuntime). `backend` is one of available_backends(),
// case-insensitive, or "default".
std::unique_ptr<MtpPotential> make_mtp_potential(const MtpModel& model, const std::string& backend = "default",
                                                 MtpPrecision precision = MtpPrecision::Double);

// Initialises Kokkos for the lifetime of the object unless it is already initialised
// (as inside LAMMPS-Kokkos). `threads` <= 0 keeps Kokkos' default.
class KokkosRuntime {
 public:
  explicit KokkosRuntime(int threads = 0);
  ~KokkosRuntime();
  KokkosRuntime(const KokkosRuntime&) = delete;
  KokkosRuntime& operator=(const KokkosRuntime&) = delete;

 private:
  bool owner_ = false;
};

}  // namespace mlpot
