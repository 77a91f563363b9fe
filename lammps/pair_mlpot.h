// What the mlpot pair styles share: LAMMPS flags for a many-body style with full lists and
// newton on, the call into an mlpot::Potential, and adding its totals to LAMMPS' tallies.
#ifndef LMP_PAIR_MLPOT_H
#define LMP_PAIR_MLPOT_H

#include <functional>
#include <vector>

#include "mlpot/potential.hpp"
#include "pair.h"

namespace LAMMPS_NS {

class PairMlpot : public Pair {
 public:
  PairMlpot(class LAMMPS *);
  ~PairMlpot() override;

 protected:
  // Runs the potential; a library error becomes a LAMMPS error naming the style.
  void compute_with(mlpot::Potential &potential, const mlpot::AtomsRef &atoms, const mlpot::NeighborsRef &neighbors,
                    const mlpot::OutputsRef &outputs);
  // The same for any library call returning totals: errors become LAMMPS errors, totals are
  // added to LAMMPS' energy and virial tallies.
  void tally(const std::function<mlpot::Totals()> &compute);
  // init_style checks: metal units, newton pair on, pair_coeff given (LAMMPS errors otherwise).
  void require_run_settings(bool have_coeffs);
  // Refuses lists from which LAMMPS drops bonded pairs (special_bonds 0.0 in a molecular system);
  // warns when neigh_modify exclude drops pairs.
  void init_list(int id, class NeighList *ptr) override;
  void allocate_type_arrays();
  // Pair styles without /kk run the Kokkos host backend, which must be initialised once per
  // process (LAMMPS initialises Kokkos itself only with `-k on`); a no-op when it is.
  static void ensure_kokkos();
  // LAMMPS' host arrays as the library sees them: atoms with model species (from
  // species_of_type_), and the per-row neighbour lists of the first n_listed atoms.
  mlpot::AtomsRef host_atoms();
  mlpot::NeighborsRef host_neighbors(int n_listed);

  std::vector<int> species_of_type_;    // [ntypes+1]; index 0 unused
  std::vector<int> species_;            // per-atom species for the current step
  std::vector<int> counts_;             // neighbour counts of listed atoms
};

}    // namespace LAMMPS_NS

#endif
