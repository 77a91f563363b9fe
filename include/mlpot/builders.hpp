#pragma once
// Built-in benchmark inputs: the seed study's Li2CO3 crystal and a synthetic MTP of the
// cost of a trained one.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "mlpot/mtp_model.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

// The six SEI elements, in the species order of the built-in models.
const std::vector<std::string>& sei_elements();  // H Li C O F P

// Monoclinic Li2CO3 (C2/c, Z = 4, 24 atoms per cell; Effenberger & Zemann, Z. Kristallogr.
// 150, 133 (1979)), repeated na x nb x nc. Species follow sei_elements() (Li 1, C 2, O 3).
Structure build_li2co3(int na, int nb, int nc);

// One Li2EDC molecule, lithium ethylene dicarbonate (CH2-O-CO2-Li)2 = C4H4Li2O6, 16 atoms:
// (species in sei_elements() order, Cartesian position in A about its inversion centre).
std::vector<std::pair<int, std::array<double, 3>>> li2edc_molecule();

// Amorphous Li2EDC: `molecules` rigid molecules at random positions and orientations in a
// cubic periodic box sized for `density` (g/cm^3), each accepted only if every atom stays at
// least `min_distance` A from all atoms already placed (minimum image). Reproducible from
// `seed`. The seed study's system is 72 molecules (1152 atoms). Throws if the box is too full:
// sequential random insertion of these 10 A-long molecules jams above ~1.4 A at 1.7 g/cm^3,
// hence the defaults (a starting structure to be equilibrated by MD, not an equilibrium one).
Structure build_amorphous_li2edc(int molecules = 72, double density = 1.7, double min_distance = 1.4,
                                 unsigned seed = 2025);

// A synthetic MTP with the basis (and so the cost) of `tmpl`: `species_count` species,
// radial basis [min_dist, max_dist]. The energy is a smooth repulsive pair term carried by
// the rank-0 moment M_{0,0} = sum_j f_0(r_ij), plus small random many-body terms, so that
// molecular dynamics stays stable. It is not fitted to any reference data.
MtpModel make_synthetic_mtp(const MtpModel& tmpl, int species_count, double min_dist, double max_dist,
                            unsigned seed);

}  // namespace mlpot
