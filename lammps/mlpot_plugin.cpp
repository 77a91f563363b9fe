// LAMMPS plugin entry point: registers the pair styles mtp, mtp/kk, mace, mace/kk, mlip and
// mlip/kk (the MTP styles read with the settings of MLIP's own LAMMPS interfaces) and the
// compute mtp/grade.
// Load with `plugin load mlpotplugin.so`, or let LAMMPS find it through LAMMPS_PLUGIN_PATH.
#include "compute_mtp_grade.h"
#include "lammpsplugin.h"
#ifdef MLPOT_HAVE_MACE
#include "pair_mace.h"
#include "pair_mace_kokkos.h"
#endif
#include "pair_mtp.h"
#include "pair_mtp_kokkos.h"
#include "version.h"

using namespace LAMMPS_NS;

namespace {
template <class Style>
Pair *create(LAMMPS *lmp)
{
  return new Style(lmp);
}

Compute *create_compute_mtp_grade(LAMMPS *lmp, int narg, char **arg)
{
  return new ComputeMTPGrade(lmp, narg, arg);
}

void add(lammpsplugin_regfunc reg, void *lmp, void *handle, const char *name, const char *info,
         lammpsplugin_factory1 *factory)
{
  lammpsplugin_t plugin;
  plugin.version = LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = name;
  plugin.info = info;
  plugin.author = "mlpot developers";
  plugin.creator.v1 = factory;
  plugin.handle = handle;
  (*reg)(&plugin, lmp);
}
}    // namespace

extern "C" void lammpsplugin_init(void *lmp, void *handle, void *regfunc)
{
  auto reg = (lammpsplugin_regfunc) regfunc;
  add(reg, lmp, handle, "mtp", "mlpot Moment Tensor Potential", (lammpsplugin_factory1 *) &create<PairMTP>);
  add(reg, lmp, handle, "mtp/kk", "mlpot Moment Tensor Potential on Kokkos",
      (lammpsplugin_factory1 *) &create<PairMTPKokkos<LMPDeviceType>>);
  add(reg, lmp, handle, "mlip", "mlpot MTP with MLIP's pair_style mlip settings", (lammpsplugin_factory1 *) &create<PairMTP>);
  add(reg, lmp, handle, "mlip/kk", "mlpot MTP on Kokkos with MLIP's pair_style mlip settings",
      (lammpsplugin_factory1 *) &create<PairMTPKokkos<LMPDeviceType>>);
#ifdef MLPOT_HAVE_MACE
  add(reg, lmp, handle, "mace", "mlpot MACE (LibTorch)", (lammpsplugin_factory1 *) &create<PairMACE>);
  add(reg, lmp, handle, "mace/kk", "mlpot MACE (LibTorch) on Kokkos",
      (lammpsplugin_factory1 *) &create<PairMACEKokkos<LMPDeviceType>>);
#endif
  {
    lammpsplugin_t plugin;
    plugin.version = LAMMPS_VERSION;
    plugin.style = "compute";
    plugin.name = "mtp/grade";
    plugin.info = "mlpot MTP extrapolation grade";
    plugin.author = "mlpot developers";
    plugin.creator.v2 = (lammpsplugin_factory2 *) &create_compute_mtp_grade;
    plugin.handle = handle;
    (*reg)(&plugin, lmp);
  }
#ifdef LMP_KOKKOS_GPU
  add(reg, lmp, handle, "mtp/kk/host", "mlpot MTP on the Kokkos host space",
      (lammpsplugin_factory1 *) &create<PairMTPKokkos<LMPHostType>>);
  add(reg, lmp, handle, "mlip/kk/host", "mlpot MTP on the Kokkos host space (MLIP's settings)",
      (lammpsplugin_factory1 *) &create<PairMTPKokkos<LMPHostType>>);
#ifdef MLPOT_HAVE_MACE
  add(reg, lmp, handle, "mace/kk/host", "mlpot MACE on the Kokkos host space",
      (lammpsplugin_factory1 *) &create<PairMACEKokkos<LMPHostType>>);
#endif
#endif
}
