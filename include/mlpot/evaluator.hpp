#pragma once
// Whole-structure evaluation for loops over configurations of the same atoms (an MD run or a
// relaxation driven from Python through ASE): a Verlet list, as LAMMPS keeps one. The periodic
// images and the neighbour list are built for cutoff + skin and kept while every atom stays
// within skin/2 of where it was at the build, with the same species, cell and periodicity; in
// between, only positions change (the local atoms by their displacement, each image with its
// atom). The potential ignores listed pairs beyond its cutoff, so results equal evaluate()'s and
// MacePotential::evaluate_periodic()'s up to the order of summation.
#include <array>
#include <cstdint>
#include <vector>

#include "mlpot/mace_potential.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

class Evaluator {
 public:
  // MTP (or any potential whose compute() takes the locals' lists): ghost forces folded onto
  // their owners as evaluate() does. skin in A; 0 rebuilds for every call.
  Evaluator(Potential& potential, double skin);
  // MACE: the periodic graph from the same lists (evaluate_images).
  Evaluator(MacePotential& potential, double skin);

  // Energy, per-atom energies, forces and (MTP always; MACE with `with_virial`) the virial.
  Evaluation evaluate(const Structure& s, bool with_virial = true);

  long builds() const { return builds_; }  // lists built so far (the rest of the calls reused one)
  double skin() const { return skin_; }

 private:
  bool reusable(const Structure& s) const;
  void rebuild(const Structure& s);
  void move(const Structure& s);
  void compact();

  Potential& potential_;
  MacePotential* mace_ = nullptr;
  double skin_ = 0.0;
  long builds_ = 0;
  GhostedSystem g_;
  std::vector<double> built_at_;  // [n][3] positions at the last build
  std::vector<double> shift_;     // [n][3] wrapped - given position at the last build (a lattice vector)
  Mat3 cell_{};
  std::array<bool, 3> pbc_{};
  std::vector<int> species_;
  std::vector<std::int64_t> offsets_;  // the list within the cutoff (MTP), CSR
  std::vector<int> neighbors_;
};

}  // namespace mlpot
