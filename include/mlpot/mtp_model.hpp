#pragma once
// MLIP-2 / MLIP-3 Moment Tensor Potential model files (.mtp, and the potential part of .almtp).
// This is the one place that parses and writes them.
#include <array>
#include <string>
#include <vector>

namespace mlpot {

struct MtpModel {
  // Header.
  std::string potential_name;       // empty if absent
  bool has_scaling = false;
  double scaling = 1.0;             // global scaling (basis-level scaling already multiplied in)
  int species_count = 0;            // 0 in untrained templates
  bool has_potential_tag = false;
  std::string potential_tag;        // rest of the line, may be empty

  // Radial basis.
  std::string radial_basis_type;    // as in the file; all but RBShapeev are evaluated
  double min_dist = 0.0;
  double max_dist = 0.0;            // the cutoff
  int radial_basis_size = 0;        // R
  int radial_funcs_count = 0;       // K

  // radial_coeffs[((s1*C + s2)*K + mu)*R + xi]; empty in untrained templates.
  std::vector<double> radial_coeffs;
  // The label written in each block header "a-b" for species s: usually s itself; MLIP-3
  // stores atomic numbers there in some files. Kept to write files back unchanged.
  std::vector<int> species_labels;

  // Moment tensor basis.
  int alpha_moments_count = 0;
  std::vector<std::array<int, 4>> alpha_index_basic;  // {mu, a, b, c}
  std::vector<std::array<int, 4>> alpha_index_times;  // {i, j, mult, k}
  std::vector<int> alpha_moment_mapping;              // alpha_scalar_moments entries

  // Linear coefficients; empty in untrained templates.
  std::vector<double> species_coeffs;  // C
  std::vector<double> moment_coeffs;   // alpha_scalar_moments

  // .almtp (MLIP-3, from the "#MVS_v1.1" marker on) or .als (MLIP-2, from the '^' marker on):
  // the selection state, kept byte for byte; parsed by parse_selection_state().
  std::string selection_state;
  int selection_line = 0;       // file line where it starts
  size_t selection_offset = 0;  // file byte offset where it starts

  std::string source;  // the file it was read from, for messages

  bool trained() const { return !radial_coeffs.empty() && !moment_coeffs.empty(); }
  int alpha_scalar_moments() const { return static_cast<int>(alpha_moment_mapping.size()); }
  // Length of the parameter vector [radial | species | moment] used for training and grades.
  long parameter_count() const {
    return static_cast<long>(species_count) * species_count * radial_funcs_count *
               radial_basis_size + species_count + alpha_scalar_moments();
  }
  int max_tensor_rank() const;
  // The MTP level of the basis (max over basis functions of sum of 2+4mu+nu of its factors).
  int level() const;
  double radial_coeff(int s1, int s2, int mu, int xi) const {
    return radial_coeffs[((static_cast<size_t>(s1) * species_count + s2) * radial_funcs_count + mu) *
                             radial_basis_size + xi];
  }
};

// Parse MTP text. `source` names the file in error messages ("FILE:LINE: ...").
MtpModel parse_mtp(const std::string& text, const std::string& source);
// Read a .mtp or .almtp file. Throws mlpot::InputError naming file and line.
MtpModel read_mtp(const std::string& path);
// Format as MLIP-3 writes it, with every double in round-trip precision (%.17g).
// The selection state of an .almtp is not included (see format_almtp()).
std::string format_mtp(const MtpModel& model);
// The potential text followed by the kept selection state, i.e. the .almtp file unchanged.
std::string format_almtp(const MtpModel& model);
void write_mtp(const MtpModel& model, const std::string& path);
// Throws if the model cannot be evaluated (untrained, unsupported basis, inconsistent sizes,
// more moments or larger multiplicities than the kernels' tables hold).
void require_evaluable(const MtpModel& model);
// Whether two models are the same potential: basis, cutoff, scaling and every coefficient
// equal (names, tags and any selection state may differ).
bool same_potential(const MtpModel& a, const MtpModel& b);

}  // namespace mlpot
