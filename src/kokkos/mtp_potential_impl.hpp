#pragma once
// Host glue for the MTP kernel: wraps the caller's pointers, launches, reduces totals.
#include <memory>
#include <string>
#include <type_traits>

#include "mlpot/error.hpp"
#include "mlpot/mtp_potential.hpp"
#include "mtp_grade.hpp"
#include "mtp_kernel.hpp"

namespace mlpot::kokkos {

// Lanes: neighbours per thread in the kernel; TeamSize: threads per atom (MtpTuning's choices
// for the backend; a test runs the host in the GPU's shape, one lane and several threads);
// Basis: the model's radial basis (mtp_radial_basis.hpp; make_mtp_for_basis picks it);
// Real: the kernel's arithmetic (double, or float for MtpPrecision::Mixed; mtp_kernel.hpp).
// SplitProducts: the step in three kernels (MtpKernel::Stage) instead of one.
template <class ExecSpace, int Lanes = MtpTuning<ExecSpace>::lanes, int TeamSize = MtpTuning<ExecSpace>::team_size,
          class Basis = BasisRBChebyshev, class Real = double, bool SplitProducts = false>
class MtpKokkosPotential final : public MtpPotential {
 public:
  using memory_space = typename ExecSpace::memory_space;
  using basis_type = Basis;
  using Kernel = MtpKernel<ExecSpace, Lanes, TeamSize, Basis, Real>;
  static constexpr MtpPrecision kPrecision = std::is_same_v<Real, double> ? MtpPrecision::Double : MtpPrecision::Mixed;
  static constexpr bool kHostAccessible =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, memory_space>::accessible;
  // Whether ExecSpace's ScatterView adds into its target itself (Serial: plain adds; a GPU:
  // atomics) rather than into a copy per thread (OpenMP).
  static constexpr bool kDirectScatter =
      std::is_same_v<typename Kokkos::Impl::Experimental::DefaultDuplication<ExecSpace>::type,
                     Kokkos::Experimental::ScatterNonDuplicated>;
  template <int W>
  using CallerRows = Kokkos::View<double* [W], Kokkos::LayoutRight, memory_space, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  using HostInts = Kokkos::View<int*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

  explicit MtpKokkosPotential(const MtpModel& model)
      : model_(model), params_(make_parameters<memory_space, Real>(model)) {
    if (model.radial_basis_type != Basis::name) {
      throw Error(model.source + ": radial basis '" + model.radial_basis_type + "' given to the " + Basis::name +
                  " kernel");
    }
  }

  std::string kind() const override { return "mtp"; }
  int num_species() const override { return model_.species_count; }
  std::vector<int> atomic_numbers() const override { return std::vector<int>(model_.species_count, 0); }
  double cutoff() const override { return model_.max_dist; }
  std::string backend() const override { return ExecSpace::name(); }
  bool accepts_device_memory() const override { return !kHostAccessible; }
  MtpPrecision precision() const override { return kPrecision; }
  // Teams of several threads: the cache slots per atom the last call ended with (cache_slots).
  int team_cache_slots() const { return cache_slots_; }

  void set_selection(std::shared_ptr<const SelectionState> state) override {
    if (state && kPrecision != MtpPrecision::Double) {
      // A grade multiplies the site energies' parameter gradients by MLIP's inverse selection
      // matrix, which amplifies the float rows' round-off by its conditioning: on MLIP-3's
      // example 04 the mixed grade was 1.4e-5 from double's, beyond the 1e-6 a grade must hold
      // (docs/mtp.md, "Mixed precision"), so it is refused rather than offered worse.
      throw Error("mtp: precision mixed does not compute extrapolation grades (" + model_.source +
                  "); grade with precision double");
    }
    if (state && state->n != model_.parameter_count()) {
      throw Error("mtp: the selection state has n = " + std::to_string(state->n) + " but " + model_.source + " has " +
                  std::to_string(model_.parameter_count()) + " parameters");
    }
    selection_ = state;
    grades_valid_ = false;
    if (!state) return;
    const long n = state->n;
    grade_.n = n;
    grade_.n_species = model_.species_count;
    grade_.block = model_.species_count * model_.radial_funcs_count * model_.radial_basis_size;
    grade_.n_scalar = model_.alpha_scalar_moments();
    grade_.upload(state->inv_A);
    row_ = typename MtpGrades<ExecSpace>::Vector("mtp::energy_gradient", n);
    query_ = typename MtpGrades<ExecSpace>::Vector("mtp::graded_row", n);
  }
  const SelectionState* selection() const override { return selection_.get(); }
  void set_grades_enabled(bool enabled) override {
    grades_enabled_ = enabled;
    grades_valid_ = false;
  }

  std::vector<double> energy_gradient() override {
    require_grades(GradeMode::Configuration, "energy_gradient");
    std::vector<double> out(grade_.n);
    Kokkos::deep_copy(Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(out.data(), out.size()), row_);
    return out;
  }
  double row_grade(const std::vector<double>& row) override {
    if (!selection_) throw Error("mtp: row_grade needs a selection state");
    if (long(row.size()) != grade_.n) throw Error("mtp: row_grade: row length does not match the selection state");
    Kokkos::deep_copy(query_, Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(row.data(), row.size()));
    return grade_.row_grade(query_, MtpGrades<ExecSpace>::nonzero_runs(row));
  }
  double neighborhood_grades(double* grades) override {
    require_grades(GradeMode::Neighborhood, "neighborhood_grades");
    const int n_local = graded_atoms_;
    if (grades && n_local > 0) {
      Kokkos::deep_copy(Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(grades, n_local),
                        Kokkos::subview(atom_grades_, std::make_pair(0, n_local)));
    }
    double g = 0.0;
    if (n_local > 0) {
      auto src = atom_grades_;
      Kokkos::parallel_reduce("mlpot::mtp_max_grade", Kokkos::RangePolicy<ExecSpace>(0, n_local),
                              KOKKOS_LAMBDA(int i, double& m) { if (src(i) > m) m = src(i); }, Kokkos::Max<double>(g));
    }
    return g;
  }

  Totals compute(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out) override {
    if (atoms.n_local < 0 || atoms.n_total < atoms.n_local) throw Error("mtp: inconsistent atom counts");
    if (atoms.memory == MemorySpace::Device && kHostAccessible) {
      throw Error(std::string("mtp: device pointers passed to the host backend ") + ExecSpace::name());
    }
    if (atoms.memory == MemorySpace::Host && !kHostAccessible) {
      if (nbr.rows) throw Error("mtp: the rows neighbour-list form is host-only; use CSR or padded lists on a device");
      return compute_staged(atoms, nbr, out);
    }
    return compute_in_place(atoms, nbr, out);
  }

 // The helpers below are public only because nvcc forbids extended lambdas inside private
 // member functions.
  // Inputs and outputs are accessible from ExecSpace.
  Totals compute_in_place(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out) {
    const int n_local = atoms.n_local, n_total = atoms.n_total;
    Kernel k;
    k.p = params_;
    k.x = atoms.positions;
    k.species = atoms.species;
    k.neighbors = nbr.neighbors;
    k.rows = nbr.rows;
    k.offsets = nbr.offsets;
    k.counts = nbr.counts;
    k.row_stride = nbr.row_stride;
    k.slot_stride = nbr.slot_stride;
    k.index_mask = nbr.index_mask;
    if (!nbr.offsets && !nbr.counts && n_local > 0) throw Error("mtp: neighbour list has neither offsets nor counts");
    k.max_neighbors = cache_slots(k, n_local);

    if (int(energy_.extent(0)) < n_local) {
      energy_ = decltype(energy_)("mtp::atom_energy", n_local);
      w_ = decltype(w_)("mtp::atom_w", n_local);
    }
    k.atom_energy = energy_;
    k.atom_w = w_;
    // Forces and per-atom virials: straight into the caller's arrays (outputs accumulate) where
    // the ScatterView adds into its target itself (atomics on a GPU, plain adds on one thread):
    // no zeroing of a buffer of ours and no pass adding it to theirs, two kernels fewer per step.
    // OpenMP's ScatterView keeps a copy per thread, made once for buffers of our own.
    const bool direct_forces = kDirectScatter && out.forces;
    if (direct_forces) {
      k.forces = typename Kernel::ForceScatter(CallerRows<3>(out.forces, n_total));
    } else {
      prepare_scatter(true, n_total, "mtp::forces", f_, f_scatter_, f_scatter_made_);
      k.forces = f_scatter_;
    }
    k.want_atom_virial = out.atom_virial != nullptr;
    const bool direct_virial = kDirectScatter && k.want_atom_virial;
    if (direct_virial) {
      k.atom_virial = typename Kernel::VirialScatter(CallerRows<6>(out.atom_virial, n_total));
    } else {
      prepare_scatter(k.want_atom_virial, n_total, "mtp::atom_virial", v_, v_scatter_, v_scatter_made_);
      k.atom_virial = v_scatter_;
    }
    const bool want_centroid = out.atom_centroid_virial != nullptr;
    const bool direct_centroid = kDirectScatter && want_centroid;
    if (direct_centroid) {
      k.atom_centroid_virial = typename Kernel::CentroidScatter(CallerRows<9>(out.atom_centroid_virial, n_total));
    } else {
      prepare_scatter(want_centroid, n_total, "mtp::atom_centroid_virial", cv_, cv_scatter_, cv_scatter_made_);
      k.atom_centroid_virial = cv_scatter_;
    }
    k.want_param_rows = selection_ != nullptr && grades_enabled_;
    if (k.want_param_rows) {
      const int L = grade_.block + grade_.n_scalar;
      if (int(rows_.extent(0)) < n_local || int(rows_.extent(1)) != L) {
        rows_ = typename MtpGrades<ExecSpace>::Rows("mtp::param_rows", n_local, L);
      }
      k.param_rows = rows_;  // every local atom's row is written whole by the kernel
    }

    if (n_local > 0) {
      if (int(overflow_.extent(0)) < n_local + 2) overflow_ = decltype(overflow_)("mtp::overflow", n_local + 2);
      k.overflow = overflow_;
      // One launch of the stage `Tag` over `league` atoms (atom_list, or all) with kk's cache size.
      auto launch = [&](Kernel& kk, int league, auto tag) {
        const size_t team_bytes = ScratchBytes(kk.team_reals(), kk.team_ints());
        const size_t thread_bytes = kk.thread_reals() * sizeof(Real);
        const size_t level0 = team_bytes + thread_bytes * TeamSize;
        Kokkos::TeamPolicy<ExecSpace, decltype(tag)> policy(league, TeamSize);
        kk.team_level_ = level0 <= size_t(policy.scratch_size_max(0)) ? 0 : 1;
        policy.set_scratch_size(kk.team_level_, Kokkos::PerTeam(team_bytes), Kokkos::PerThread(thread_bytes));
        Kokkos::parallel_for("mlpot::mtp_compute", policy, kk);
      };
      // After a launch of `tag` over all atoms, teams of several threads: the atoms whose
      // neighbours within the cutoff outnumbered the cache (all of them in the first call, which
      // starts from none) again, with room for the most of them, which the cache keeps from then
      // on. Their count is the step's one wait on the device.
      auto again_where_overflowed = [&](auto tag) {
        if constexpr (TeamSize > 1) {
          int head[2] = {0, 0};
          Kokkos::deep_copy(HostInts(head, 2), Kokkos::subview(overflow_, std::make_pair(0, 2)));
          if (head[0] > 0) {
            cache_slots_ = head[1];
            Kernel again = k;
            again.max_neighbors = head[1];
            again.atom_list = overflow_.data() + 2;
            launch(again, head[0], tag);
            Kokkos::deep_copy(Kokkos::subview(overflow_, std::make_pair(0, 2)), 0);
          }
          k.max_neighbors = cache_slots_;
        } else {
          (void)tag;
        }
      };
      if constexpr (SplitProducts) {
        if (int(moments_.extent(0)) != params_.n_moments || int(moments_.extent(1)) < n_local) {
          moments_ = decltype(moments_)("mtp::moments", params_.n_moments, n_local);
          adjoints_ = decltype(adjoints_)("mtp::adjoints", params_.n_moments, n_local);
        }
        k.moments = moments_;
        k.adjoints = adjoints_;
        launch(k, n_local, typename Kernel::BasicMomentsOnly{});
        again_where_overflowed(typename Kernel::BasicMomentsOnly{});
        Kokkos::parallel_for("mlpot::mtp_products_per_atom", Kokkos::RangePolicy<ExecSpace>(0, n_local),
                             MtpProductsPerAtom<Kernel>{k});
        // The cache now holds every atom's neighbours within the cutoff (the same test as above):
        // the force stage cannot overflow.
        if (want_centroid) {
          launch(k, n_local, typename Kernel::ForcesFromAdjointsWithCentroidVirials{});
        } else {
          launch(k, n_local, typename Kernel::ForcesFromAdjoints{});
        }
      } else if (want_centroid) {
        launch(k, n_local, typename Kernel::WithCentroidVirials{});
        again_where_overflowed(typename Kernel::WithCentroidVirials{});
      } else {
        launch(k, n_local, typename Kernel::WholeStep{});
        again_where_overflowed(typename Kernel::WholeStep{});
      }
      if (!direct_forces) Kokkos::Experimental::contribute(f_, f_scatter_);
      if (k.want_atom_virial && !direct_virial) Kokkos::Experimental::contribute(v_, v_scatter_);
      if (want_centroid && !direct_centroid) Kokkos::Experimental::contribute(cv_, cv_scatter_);
    }
    if (k.want_param_rows) reduce_grades(atoms.species, n_local);

    // Totals.
    Totals tot;
    double sums[7] = {0, 0, 0, 0, 0, 0, 0};
    if (n_local > 0 && (out.energy || out.virial)) {
      Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> result(sums, 7);
      Kokkos::parallel_reduce("mlpot::mtp_totals", Kokkos::RangePolicy<ExecSpace>(0, n_local),
                              SumRows{energy_, w_}, result);
    }
    tot.energy = sums[0];
    for (int c = 0; c < 6; ++c) tot.virial[c] = sums[c + 1];

    // Outputs into the caller's arrays (those not scattered there directly).
    if (out.forces && !direct_forces) add_rows("mlpot::mtp_add_forces", out.forces, f_, n_total);
    if (out.atom_virial && !direct_virial) add_rows("mlpot::mtp_add_virial", out.atom_virial, v_, n_total);
    if (out.atom_centroid_virial && !direct_centroid) {
      add_rows("mlpot::mtp_add_centroid_virial", out.atom_centroid_virial, cv_, n_total);
    }
    if (out.atom_energy && n_local > 0) {
      Kokkos::View<double*, memory_space, Kokkos::MemoryTraits<Kokkos::Unmanaged>> dst(out.atom_energy, n_local);
      Kokkos::deep_copy(dst, Kokkos::subview(energy_, std::make_pair(0, n_local)));
    }
    if (out.site_virial && n_local > 0) {
      // w_ is LayoutRight on the host (the caller's row layout) but not on a GPU: copied row by row.
      Kokkos::View<double* [6], Kokkos::LayoutRight, memory_space, Kokkos::MemoryTraits<Kokkos::Unmanaged>> dst(
          out.site_virial, n_local);
      const auto src = w_;
      Kokkos::parallel_for("mlpot::mtp_site_virial", Kokkos::RangePolicy<ExecSpace>(0, n_local), KOKKOS_LAMBDA(int a) {
        for (int c = 0; c < 6; ++c) dst(a, c) = src(a, c);
      });
    }
    Kokkos::fence();
    return tot;
  }

  // While the species are at hand: the configuration row or the atoms' grades.
  void reduce_grades(const int* species, int n_local) {
    graded_atoms_ = n_local;
    if (selection_->mode == GradeMode::Configuration) {
      grade_.energy_gradient(rows_, species, n_local, row_);
    } else {
      if (int(atom_grades_.extent(0)) < n_local) atom_grades_ = typename MtpGrades<ExecSpace>::Vector("mtp::grades", n_local);
      if (n_local > 0) grade_.neighborhood_grades(rows_, species, n_local, atom_grades_);
    }
    grades_valid_ = true;
  }

  void require_grades(GradeMode mode, const char* what) const {
    if (!selection_) throw Error(std::string("mtp: ") + what + " needs a selection state (set_selection)");
    if (selection_->mode != mode) {
      throw Error(std::string("mtp: ") + what + " is for " +
                  (mode == GradeMode::Configuration ? "configuration" : "neighbourhood") + "-mode states; " +
                  model_.source + "'s state is " +
                  (selection_->mode == GradeMode::Configuration ? "configuration" : "neighbourhood") + " mode");
    }
    if (!grades_valid_) {
      throw Error(std::string("mtp: ") + what + ": no compute() with grades enabled since the selection state was set");
    }
  }

  // Host pointers on a device backend: copy in, compute on the device, copy out.
  Totals compute_staged(const AtomsRef& atoms, const NeighborsRef& nbr, const OutputsRef& out) {
    using HostU = Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
    const int n_local = atoms.n_local, n_total = atoms.n_total;
    auto x = copy_to_device<double>(atoms.positions, size_t(3) * n_total, "mtp::x");
    auto s = copy_to_device<int>(atoms.species, n_total, "mtp::species");
    NeighborsRef dn = nbr;
    Kokkos::View<std::int64_t*, memory_space> off;
    Kokkos::View<int*, memory_space> cnt, nb;
    size_t n_entries = 0;
    if (nbr.offsets) {
      off = copy_to_device<std::int64_t>(nbr.offsets, n_local + 1, "mtp::offsets");
      n_entries = n_local > 0 ? size_t(nbr.offsets[n_local]) : 0;
      dn.offsets = off.data();
    } else {
      cnt = copy_to_device<int>(nbr.counts, n_local, "mtp::counts");
      for (int i = 0; i < n_local; ++i) {
        if (nbr.counts[i] > 0) {
          n_entries = std::max<size_t>(n_entries, size_t(i) * nbr.row_stride + size_t(nbr.counts[i] - 1) * nbr.slot_stride + 1);
        }
      }
      dn.counts = cnt.data();
    }
    nb = copy_to_device<int>(nbr.neighbors, n_entries, "mtp::neighbors");
    dn.neighbors = nb.data();
    // Each output the caller asked for, in device memory: filled from the caller's array where
    // outputs accumulate, handed to compute_in_place, copied back.
    struct Staged {
      double* host;
      Kokkos::View<double*, memory_space> dev;
      Staged(double* h, size_t n, const char* label, bool accumulates) : host(h), dev(std::string(label), h ? n : 0) {
        if (h && accumulates) Kokkos::deep_copy(dev, HostU(h, n));
      }
      double* ptr() const { return host ? dev.data() : nullptr; }
      void copy_back() const {
        if (host) Kokkos::deep_copy(Kokkos::View<double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(host, dev.extent(0)), dev);
      }
    };
    const Staged f(out.forces, 3 * size_t(n_total), "mtp::f_out", true);
    const Staged e(out.atom_energy, n_local, "mtp::e_out", false);
    const Staged v(out.atom_virial, 6 * size_t(n_total), "mtp::v_out", true);
    const Staged cv(out.atom_centroid_virial, 9 * size_t(n_total), "mtp::cv_out", true);
    const Staged sv(out.site_virial, 6 * size_t(n_local), "mtp::site_virial_out", false);
    AtomsRef da{n_local, n_total, x.data(), s.data(), MemorySpace::Device};
    OutputsRef dout = out;  // the flags (energy, virial) travel with the arrays
    dout.forces = f.ptr();
    dout.atom_energy = e.ptr();
    dout.atom_virial = v.ptr();
    dout.atom_centroid_virial = cv.ptr();
    dout.site_virial = sv.ptr();
    Totals t = compute_in_place(da, dn, dout);
    for (const Staged* o : {&f, &e, &v, &cv, &sv}) o->copy_back();
    return t;
  }

  // dst[n][W], the caller's array in this memory space, += the first n rows of src [][W].
  template <class Src>
  static void add_rows(const char* label, double* dst_ptr, const Src& src, int n) {
    constexpr int W = int(Src::static_extent(1));
    Kokkos::View<double* [W], Kokkos::LayoutRight, memory_space, Kokkos::MemoryTraits<Kokkos::Unmanaged>> dst(dst_ptr, n);
    Kokkos::parallel_for(label, Kokkos::RangePolicy<ExecSpace>(0, n), KOKKOS_LAMBDA(int a) {
      for (int c = 0; c < W; ++c) dst(a, c) += src(a, c);
    });
  }

  // A per-atom output `view` of n rows and its ScatterView, zeroed, when `wanted`; when not, made
  // once with no rows (a View of extent 0 still allocates, a cudaMalloc on a GPU, so "extent 0"
  // cannot mean "not made yet").
  template <class View, class Scatter>
  static void prepare_scatter(bool wanted, int n, const char* label, View& view, Scatter& scatter, bool& made) {
    if (wanted) {
      if (int(view.extent(0)) < n) {
        view = View(std::string(label), n);
        scatter = Scatter(view);
      }
      Kokkos::deep_copy(view, 0.0);
      scatter.reset_except(view);
    } else if (!made) {
      view = View(std::string(label), 0);
      scatter = Scatter(view);
    }
    made = true;
  }

  template <class T>
  static Kokkos::View<T*, memory_space> copy_to_device(const T* src, size_t n, const char* label) {
    Kokkos::View<T*, memory_space> d(std::string(label), n);
    if (n > 0) {
      Kokkos::deep_copy(d, Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>(src, n));
    }
    return d;
  }

  static size_t ScratchBytes(size_t reals, size_t ints) {
    // Each scratch View allocation is aligned; leave room for the alignment padding.
    return reals * sizeof(Real) + ints * sizeof(int) + 2 * 128;
  }

  // The cache slots per atom. A thread of its own (hosts): all its list entries, the most of any
  // atom (no need to read positions). A team of threads (GPUs): the most neighbours within the
  // cutoff seen so far (a GPU's shared memory holds ~40 KB a team, and LAMMPS' lists with their
  // skin are ~3 times longer at 5 A); an atom with more is evaluated again (compute_in_place).
  // Counting them before every launch cost a kernel and a wait per step: with 1440 atoms, 32 us of
  // a 540 us MD step on an H200 (2026-11-26), when one thread per atom walked its list.
  int cache_slots(const Kernel& k, int n_local) const {
    int result = 0;
    if (n_local == 0) return 0;
    if constexpr (TeamSize == 1) {
      Kokkos::parallel_reduce("mlpot::mtp_cache_slots", Kokkos::RangePolicy<ExecSpace>(0, n_local),
                              KOKKOS_LAMBDA(int i, int& m) {
                                const int c = k.neighbor_count(i);
                                if (c > m) m = c;
                              },
                              Kokkos::Max<int>(result));
    } else {
      result = cache_slots_;
    }
    return result;
  }

  struct SumRows {
    using value_type = double[];
    using size_type = int;
    const unsigned value_count = 7;
    Kokkos::View<double*, memory_space> e;
    Kokkos::View<double* [6], memory_space> w;
    SumRows(Kokkos::View<double*, memory_space> e_, Kokkos::View<double* [6], memory_space> w_) : e(e_), w(w_) {}
    KOKKOS_INLINE_FUNCTION void operator()(int i, double sum[]) const {
      sum[0] += e(i);
      for (int c = 0; c < 6; ++c) sum[c + 1] += w(i, c);
    }
    KOKKOS_INLINE_FUNCTION void init(double sum[]) const {
      for (int c = 0; c < 7; ++c) sum[c] = 0.0;
    }
    KOKKOS_INLINE_FUNCTION void join(double dst[], const double src[]) const {
      for (int c = 0; c < 7; ++c) dst[c] += src[c];
    }
  };

 private:
  MtpModel model_;
  MtpParameters<memory_space, Real> params_;
  Kokkos::View<double*, memory_space> energy_;
  Kokkos::View<double* [6], memory_space> w_;
  Kokkos::View<double* [3], Kokkos::LayoutRight, memory_space> f_;
  Kokkos::View<double* [6], Kokkos::LayoutRight, memory_space> v_;
  Kokkos::View<double* [9], Kokkos::LayoutRight, memory_space> cv_;
  typename Kernel::ForceScatter f_scatter_;
  bool f_scatter_made_ = false;
  Kokkos::View<int*, memory_space> overflow_;  // Kernel::overflow
  int cache_slots_ = 0;                        // teams of several threads: Kernel::max_neighbors
  Kokkos::View<Real**, Kokkos::LayoutRight, memory_space> moments_, adjoints_;  // SplitProducts
  typename Kernel::VirialScatter v_scatter_;
  bool v_scatter_made_ = false;
  typename Kernel::CentroidScatter cv_scatter_;
  bool cv_scatter_made_ = false;
  // Grades.
  std::shared_ptr<const SelectionState> selection_;
  MtpGrades<ExecSpace> grade_;
  typename MtpGrades<ExecSpace>::Rows rows_;
  typename MtpGrades<ExecSpace>::Vector row_, query_, atom_grades_;
  int graded_atoms_ = 0;
  bool grades_valid_ = false;
  bool grades_enabled_ = true;
};

// The potential for the model's radial basis: one kernel instantiation per basis of RadialBases.
template <class ExecSpace, class Real, class... Bases>
std::unique_ptr<MtpPotential> make_mtp_for_basis(const MtpModel& model, BasisList<Bases...>) {
  using Tuning = MtpTuning<ExecSpace, Real>;
  std::unique_ptr<MtpPotential> out;
  ((out || model.radial_basis_type != Bases::name
        ? void()
        : void(out = std::make_unique<MtpKokkosPotential<ExecSpace, Tuning::lanes, Tuning::team_size, Bases, Real,
                                                         Tuning::split_products>>(model))),
   ...);
  if (!out) {
    require_evaluable(model);  // names the reason (an untrained template, a table limit, ...)
    throw Error(model.source + ": radial basis '" + model.radial_basis_type + "' is not evaluated by mlpot");
  }
  return out;
}
template <class ExecSpace, class Real = double>
std::unique_ptr<MtpPotential> make_mtp_for_basis(const MtpModel& model) {
  return make_mtp_for_basis<ExecSpace, Real>(model, RadialBases{});
}

}  // namespace mlpot::kokkos
