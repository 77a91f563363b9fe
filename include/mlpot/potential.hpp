#pragma once
// The potential interface shared by every model mlpot runs (MTP now, MACE next).
//
// A potential sees atoms the way LAMMPS hands them to a pair style: the first n_local atoms
// own their energy, the rest (up to n_total) are ghosts (periodic images or atoms of other MPI
// ranks). Neighbours come as a full list per local atom. Forces are produced for ghosts too,
// so the caller can fold them back onto their owners (reverse communication).
//
// All pointers are raw and non-owning, and may point into device memory
// (memory == MemorySpace::Device): a LAMMPS-Kokkos pair style passes d_x.data(), d_f.data()
// and its neighbour view directly, with no copies.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mlpot {

enum class MemorySpace { Host, Device };

struct AtomsRef {
  int n_local = 0;                    // atoms whose site energies count
  int n_total = 0;                    // local + ghost atoms
  const double* positions = nullptr;  // [n_total][3], row-major (LAMMPS x layout)
  const int* species = nullptr;       // model species index 0..num_species-1, [n_total]
  MemorySpace memory = MemorySpace::Host;  // where all pointers here, in NeighborsRef and OutputsRef live
};

// Full neighbour list of the local atoms (and, where asked for, of ghosts), in one of three shapes:
//  - rows (LAMMPS' host lists, firstneigh): counts[n_listed] and rows[i], a pointer to the
//    neighbours of atom i; host memory only;
//  - CSR: offsets[n_listed+1]; neighbour jj of atom i is neighbors[offsets[i] + jj].
//  - padded 2-D (LAMMPS-Kokkos d_neighbors): counts[n_listed]; neighbour jj of atom i is
//    neighbors[i*row_stride + jj*slot_stride] (LayoutRight: row_stride=maxneigh, slot_stride=1;
//    LayoutLeft: row_stride=1, slot_stride=n_rows).
// Entries are atom indices in [0, n_total), and'ed with index_mask (LAMMPS NEIGHMASK).
// Neighbours at or beyond the potential's cutoff are allowed (skin) and ignored.
struct NeighborsRef {
  // Atoms that have a list: the first n_listed atoms (-1 = n_local). Models whose graph spans
  // several hops (MACE's ghost-node mode) need lists for ghosts too; MTP reads the locals' only.
  int n_listed = -1;
  const int* neighbors = nullptr;
  const int* const* rows = nullptr;       // rows form, or null
  const std::int64_t* offsets = nullptr;  // CSR form, or null
  const int* counts = nullptr;            // padded and rows forms
  std::int64_t row_stride = 0;
  std::int64_t slot_stride = 1;
  int index_mask = ~0;
};

// Outputs; null pointers are not computed. Layout of per-atom virials and of the
// global virial: xx, yy, zz, xy, xz, yz (LAMMPS order), in eV.
struct OutputsRef {
  double* forces = nullptr;       // [n_total][3], accumulated (+=), ghosts included
  double* atom_energy = nullptr;  // [n_local], overwritten
  double* atom_virial = nullptr;  // [n_total][6], accumulated (+=), ghosts included
  // Per-atom virials in the centroid form (LAMMPS cvatom, compute centroid/stress/atom):
  // [n_total][9] as xx yy zz xy xz yz yx zx zy, accumulated, ghosts included. Each site energy
  // E_i's term r_ij (x) F_j goes to its neighbour j, with the site's own atom as the reference
  // point (the form heat fluxes of site-energy potentials need). MTP only.
  double* atom_centroid_virial = nullptr;
  // Each local site energy's own term of the global virial, [n_local][6], overwritten: E_i's
  // sum over its neighbours j of r_ij (x) F_ij, so that these rows add up to Totals::virial.
  // It lets one call serve several structures at once (evaluate_many). MTP only.
  double* site_virial = nullptr;
  // Whether Totals::virial is needed (LAMMPS: only when vflag asks). Models for which the
  // virial costs extra (MACE's strain derivative) skip it when false.
  bool virial = true;
  // Whether Totals::energy is needed (LAMMPS: only when eflag asks). With neither, MTP skips
  // the reduction of its totals (on a GPU a kernel and a wait for its result every MD step
  // between thermo outputs) and returns zeros; MACE forms the energy anyway.
  bool energy = true;
};

struct Totals {
  double energy = 0.0;                 // sum of local site energies, eV
  std::array<double, 6> virial{};      // sum_i r_i (x) f_i over the pair terms, eV
};

class Potential {
 public:
  virtual ~Potential() = default;
  virtual std::string kind() const = 0;  // "mtp", "mace"
  virtual int num_species() const = 0;
  // Atomic number of each model species, 0 where the model file does not say.
  virtual std::vector<int> atomic_numbers() const = 0;
  virtual double cutoff() const = 0;
  // How far beyond the local atoms ghosts must reach (MTP: the cutoff; MACE's ghost-node
  // mode: num_interactions * r_max), and whether ghosts need neighbour lists of their own.
  virtual double ghost_cutoff() const { return cutoff(); }
  virtual bool needs_ghost_neighbors() const { return false; }
  // Name of the execution space the potential runs on ("Serial", "OpenMP", "Cuda").
  virtual std::string backend() const = 0;
  // Whether device pointers (MemorySpace::Device) are accepted; host pointers always are.
  virtual bool accepts_device_memory() const = 0;
  virtual Totals compute(const AtomsRef& atoms, const NeighborsRef& neighbors,
                         const OutputsRef& outputs) = 0;
};

}  // namespace mlpot
