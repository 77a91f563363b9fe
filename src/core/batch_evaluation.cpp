// evaluate_many: several structures through one compute() (include/mlpot/structure.hpp).
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <exception>
#include <vector>

#include "mlpot/error.hpp"
#include "mlpot/neighbor_list.hpp"
#include "mlpot/structure.hpp"

namespace mlpot {

namespace {

// Host threads over the structures of a batch (Kokkos' host space: OpenMP's threads in a host
// build, so they are the same threads the kernel then uses). An exception cannot leave a
// parallel region: each is kept and the first, in structure order, rethrown after it.
template <class F>
void for_each_structure(int m, F&& f) {
  std::vector<std::exception_ptr> errors(m);
  Kokkos::parallel_for("mlpot::for_each_structure",
                       Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>(0, m),
                       [&](int k) {
                         try {
                           f(k);
                         } catch (...) {
                           errors[k] = std::current_exception();
                         }
                       });
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// One compute() for the structures whose lists are g[0..m): locals of all of them first (block k
// from local0[k]), then their ghosts (from n_local + ghost0[k]), as Potential::compute wants.
void evaluate_lists(Potential& potential, const std::vector<GhostedSystem>& g, Evaluation* out) {
  const int m = int(g.size());
  std::vector<std::int64_t> local0(m + 1, 0), ghost0(m + 1, 0), pair0(m + 1, 0);
  for (int k = 0; k < m; ++k) {
    local0[k + 1] = local0[k] + g[k].n_local;
    ghost0[k + 1] = ghost0[k] + (g[k].n_total() - g[k].n_local);
    pair0[k + 1] = pair0[k] + std::int64_t(g[k].neighbors.size());
  }
  const std::int64_t n_local = local0[m], n_total = n_local + ghost0[m];
  if (n_total > std::int64_t(1) << 30) throw Error("evaluate_many: a batch of more than 2^30 atoms and images");
  std::vector<double> x(3 * size_t(n_total)), f(3 * size_t(n_total), 0.0), e(n_local), w(6 * size_t(n_local));
  std::vector<int> species(n_total), neighbors(pair0[m]);
  std::vector<std::int64_t> offsets(n_local + 1);
  // Where atom a of structure k sits in the combined system.
  auto combined = [&](int k, int a) {
    return a < g[k].n_local ? local0[k] + a : n_local + ghost0[k] + (a - g[k].n_local);
  };
  for_each_structure(m, [&](int k) {
    const GhostedSystem& s = g[k];
    for (int a = 0; a < s.n_total(); ++a) {
      const std::int64_t c = combined(k, a);
      for (int d = 0; d < 3; ++d) x[3 * c + d] = s.positions[3 * size_t(a) + d];
      species[c] = s.species[a];
    }
    for (int i = 0; i < s.n_local; ++i) offsets[local0[k] + i] = pair0[k] + s.offsets[i];
    for (size_t q = 0; q < s.neighbors.size(); ++q) neighbors[pair0[k] + q] = int(combined(k, s.neighbors[q]));
  });
  offsets[n_local] = pair0[m];

  AtomsRef atoms{int(n_local), int(n_total), x.data(), species.data(), MemorySpace::Host};
  NeighborsRef nbr;
  nbr.offsets = offsets.data();
  nbr.neighbors = neighbors.data();
  OutputsRef o{f.data(), e.data(), nullptr};
  o.site_virial = w.data();
  o.energy = false;  // each structure's totals are summed below, not the batch's
  o.virial = false;
  potential.compute(atoms, nbr, o);

  for_each_structure(m, [&](int k) {
    const GhostedSystem& s = g[k];
    Evaluation& ev = out[k];
    ev.atom_energy.assign(e.begin() + local0[k], e.begin() + local0[k + 1]);
    ev.energy = 0.0;
    for (double v : ev.atom_energy) ev.energy += v;
    ev.virial = {};
    for (std::int64_t i = local0[k]; i < local0[k + 1]; ++i) {
      for (int c = 0; c < 6; ++c) ev.virial[c] += w[6 * i + c];
    }
    ev.forces.assign(3 * size_t(s.n_local), 0.0);
    for (int a = 0; a < s.n_total(); ++a) {
      const std::int64_t c = combined(k, a);
      for (int d = 0; d < 3; ++d) ev.forces[3 * size_t(s.owner[a]) + d] += f[3 * c + d];
    }
  });
}

}  // namespace

std::vector<Evaluation> evaluate_many(Potential& potential, const std::vector<Structure>& structures,
                                      long batch_atoms) {
  std::vector<Evaluation> out(structures.size());
  if (potential.kind() != "mtp") {
    for (size_t k = 0; k < structures.size(); ++k) out[k] = evaluate(potential, structures[k]);
    return out;
  }
  for (size_t begin = 0; begin < structures.size();) {
    size_t end = begin;
    long atoms = 0;
    while (end < structures.size() && (end == begin || atoms + structures[end].size() <= batch_atoms)) {
      atoms += structures[end++].size();
    }
    std::vector<GhostedSystem> g(end - begin);
    for_each_structure(int(g.size()), [&](int k) {
      const Structure& s = structures[begin + k];
      require_species_in_model(s, potential);
      g[k] = build_neighbor_list(s, potential.cutoff());
    });
    evaluate_lists(potential, g, &out[begin]);
    begin = end;
  }
  return out;
}

}  // namespace mlpot
