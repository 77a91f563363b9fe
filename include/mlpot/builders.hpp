#pragma once
// Built-in benchmark inputs: the seed study's Li2CO3 crystal and a synthetic MTP of the
// cost of a trained one.
#include <string>
#include <vector>

#include "mlpot/mtp_model.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

// The six SEI elements, in the species order of the built-in models.
const std::vector<std::string>& sei_elements();  // H Li C O F P

// Monoclinic Li2CO3 (C2/c, Z = 4, 24 atoms per cell; Effenberger & Zemann, Z. Kristallogr.
// 150, 133 (1979)), repeated na x nb x nc. Species follow sei_elements() (Li 1, C 2, O 3).
Structure build_li2co3(int na, int nb, int nc);

// A synthetic MTP with the basis (and so the cost) of `tmpl`: `species_count` species,
// radial basis [min_dist, max_dist]. The energy is a smooth repulsive pair term carried by
// the rank-0 moment M_{0,0} = sum_j f_0(r_ij), plus small random many-body terms, so that
// molecular dynamics stays stable. It is not fitted to any reference data.
MtpModel make_synthetic_mtp(const MtpModel& tmpl, int species_count, double min_dist, double max_dist,
                            unsigned seed);

}  // namespace mlpot
