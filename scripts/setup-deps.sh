#!/usr/bin/env bash
# Obtains and builds mlpot's dependencies from the package registries, cached outside the clone.
#
#   scripts/setup-deps.sh [--cuda] [--lammps] [--lammps-cuda]
#
# Cache root: $MLPOT_CACHE (default ~/.cache/mlpot). Each step writes a stamp file that records
# the exact inputs it was built from, so a second run is a no-op and a changed pin rebuilds.
#
# What comes from where (see docs/install.md for why):
#   - Kokkos 4.5.1: the only registry copy of Kokkos >= 4.5 reachable here is the one vendored,
#     complete and unmodified, in PyPI's source distribution of pycompadre 1.7.6 (kokkos/).
#     We download that sdist by pinned version, check its sha256 and build kokkos/ only.
#   - GoogleTest, ccache, ninja: Debian packages.
#   - Python oracles (motep, ase, numpy, matplotlib), torch (LibTorch) and mace-torch: PyPI,
#     pinned, in a venv; the Python package's build requirements (nanobind, scikit-build-core)
#     pinned and checksummed in the same venv; older mace-torch wheels (scripts/mace-compat-versions.txt, checksummed)
#     beside it, to export models as those releases did; the training pipeline's labeller
#     (chgnet 0.4.2 and pymatgen, scripts/train-requirements.txt, hash-checked) in the same venv.
#   - LAMMPS 4Feb2025 (--lammps): Debian's source package lammps 20250204+dfsg.1-2 (its upstream
#     tarball, checksummed), built against our Kokkos with KOKKOS (OpenMP), PLUGIN and MPI
#     (Debian's OpenMPI).
#   - --lammps-cuda: the same LAMMPS source built for the GPU check (perf/device/prepare.sh):
#     KOKKOS on CUDA sm_90 (against the shared kokkos-cuda), PLUGIN, serial (one rank, one GPU).
#     About an hour on 2 cores; never part of the test command.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${MLPOT_CACHE:-$HOME/.cache/mlpot}"
jobs="${MLPOT_JOBS:-$(nproc)}"
with_cuda=0
with_lammps=0
with_lammps_cuda=0
for arg in "$@"; do
  case "$arg" in
    --cuda) with_cuda=1 ;;
    --lammps) with_lammps=1 ;;
    --lammps-cuda) with_lammps_cuda=1; with_cuda=1; with_lammps=1 ;;
    *) echo "setup-deps: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
mkdir -p "$cache"

log() { printf '[setup] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- Debian packages
need_pkgs=()
pkgs=(libgtest-dev ccache ninja-build cmake g++)
((with_lammps)) && pkgs+=(libopenmpi-dev openmpi-bin xz-utils)
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  log "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
export CCACHE_DIR="${CCACHE_DIR:-$cache/ccache}"

# ---------------------------------------------------------------- Python oracles
py_reqs="$here/python-requirements.txt"
py_stamp="$cache/venv/.mlpot-stamp"
py_want="$(sha256sum "$py_reqs" | cut -d' ' -f1)"
if [[ ! -f "$py_stamp" || "$(cat "$py_stamp")" != "$py_want" ]]; then
  log "creating Python venv for test oracles in $cache/venv"
  rm -rf "$cache/venv"
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/pip" install -q -r "$py_reqs"
  echo "$py_want" > "$py_stamp"
fi

# The Python package's build requirements (pyproject.toml): hash-checked wheels, no dependencies
# beyond those listed with them.
build_reqs="$here/python-build-requirements.txt"
build_stamp="$cache/venv/.mlpot-build-stamp"
build_want="$(sha256sum "$build_reqs" | cut -d' ' -f1)"
if [[ ! -f "$build_stamp" || "$(cat "$build_stamp")" != "$build_want" ]]; then
  log "installing the Python package's build requirements (nanobind, scikit-build-core)"
  "$cache/venv/bin/pip" install -q --no-deps --only-binary :all: --require-hashes -r "$build_reqs"
  echo "$build_want" > "$build_stamp"
fi

# The training pipeline's labeller (models/train, docs/training.md; its smoke run is a test):
# chgnet 0.4.2 with CHGNet 0.3.0's weights and what it needs beyond the oracles, hash-checked,
# no dependencies beyond those listed; the two sdists build with the venv's own setuptools.
train_reqs="$here/train-requirements.txt"
train_stamp="$cache/venv/.mlpot-train-stamp"
train_want="$(sha256sum "$train_reqs" | cut -d' ' -f1)"
if [[ ! -f "$train_stamp" || "$(cat "$train_stamp")" != "$train_want" ]]; then
  log "installing the training pipeline's labeller (chgnet 0.4.2, pymatgen)"
  "$cache/venv/bin/pip" install -q --no-deps --no-build-isolation --require-hashes -r "$train_reqs"
  echo "$train_want" > "$train_stamp"
fi

# Older mace-torch releases (wheels only, no dependencies: they run on the venv's torch and
# e3nn), one directory each, to export the tiny model as users of those releases did.
compat_list="$here/mace-compat-versions.txt"
compat_root="$cache/mace-compat"
while read -r version sha; do
  [[ -z "$version" || "$version" == \#* ]] && continue
  dir="$compat_root/$version"
  [[ -f "$dir/.mlpot-stamp" && "$(cat "$dir/.mlpot-stamp")" == "$sha" ]] && continue
  log "installing mace-torch $version (export compatibility tests) into $dir"
  rm -rf "$dir" "$compat_root/dl-$version"
  "$cache/venv/bin/pip" download -q --no-deps --only-binary :all: "mace-torch==$version" -d "$compat_root/dl-$version"
  wheel="$compat_root/dl-$version/mace_torch-$version-py3-none-any.whl"
  echo "$sha  $wheel" | sha256sum -c --quiet -
  "$cache/venv/bin/pip" install -q --no-deps --no-compile --target "$dir" "$wheel"
  rm -rf "$compat_root/dl-$version"
  echo "$sha" > "$dir/.mlpot-stamp"
done < "$compat_list"

# ---------------------------------------------------------------- Kokkos source
kokkos_version=4.5.1
compadre_version=1.7.6
compadre_sha256=c766ec4d445ce076069be4b8c51a23ffac4ee79ea949ca86446bfd8c299b154c
src_root="$cache/src"
kokkos_src="$src_root/kokkos-$kokkos_version"
if [[ ! -f "$kokkos_src/.mlpot-stamp" ]]; then
  log "fetching Kokkos $kokkos_version (vendored in pycompadre $compadre_version sdist)"
  mkdir -p "$src_root/dl"
  tarball="$src_root/dl/pycompadre-$compadre_version.tar.gz"
  if [[ ! -f "$tarball" ]]; then
    # --no-binary for pycompadre only: its build requirements come as wheels, so pip merely
    # prepares metadata and saves the sdist; nothing of pycompadre is built.
    "$cache/venv/bin/pip" download -q --no-deps --no-binary pycompadre \
      "pycompadre==$compadre_version" -d "$src_root/dl"
  fi
  echo "$compadre_sha256  $tarball" | sha256sum -c --quiet -
  rm -rf "$kokkos_src" "$src_root/tmp"
  mkdir -p "$src_root/tmp"
  tar -xzf "$tarball" -C "$src_root/tmp" "pycompadre-$compadre_version/kokkos"
  mv "$src_root/tmp/pycompadre-$compadre_version/kokkos" "$kokkos_src"
  rm -rf "$src_root/tmp"
  got="$(sed -n 's/^set(Kokkos_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\))/\2/p' "$kokkos_src/CMakeLists.txt" | paste -sd.)"
  [[ "$got" == "$kokkos_version" ]] || { echo "setup-deps: expected Kokkos $kokkos_version, sdist has $got" >&2; exit 1; }
  echo "$compadre_sha256" > "$kokkos_src/.mlpot-stamp"
fi

build_kokkos() {  # name, extra cmake args...
  local name="$1"; shift
  local prefix="$cache/$name"
  local want="$kokkos_version $compadre_sha256 $*"
  if [[ -f "$prefix/.mlpot-stamp" && "$(cat "$prefix/.mlpot-stamp")" == "$want" ]]; then
    return 0
  fi
  log "building $name (Kokkos $kokkos_version: $*)"
  rm -rf "$prefix" "$cache/build-$name"
  cmake -S "$kokkos_src" -B "$cache/build-$name" -G Ninja -Wno-dev \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_CXX_STANDARD=17 -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_TESTS=OFF -DKokkos_ENABLE_EXAMPLES=OFF \
    "$@" >"$cache/build-$name.log" 2>&1 || { tail -40 "$cache/build-$name.log"; exit 1; }
  cmake --build "$cache/build-$name" -j "$jobs" >>"$cache/build-$name.log" 2>&1 \
    || { tail -40 "$cache/build-$name.log"; exit 1; }
  cmake --install "$cache/build-$name" >>"$cache/build-$name.log" 2>&1
  rm -rf "$cache/build-$name"
  echo "$want" > "$prefix/.mlpot-stamp"
}

# Shared libraries: LAMMPS and the mlpot plugin it loads must share one Kokkos runtime.
build_kokkos kokkos-openmp -DKokkos_ENABLE_OPENMP=ON -DBUILD_SHARED_LIBS=ON

if ((with_cuda)); then
  # The CUDA 13 adaptation goes into a separate copy of the source, so the host build's
  # tree stays exactly as the registry shipped it.
  cuda_src="$src_root/kokkos-$kokkos_version-cuda13"
  if [[ ! -f "$cuda_src/.mlpot-cuda13" ]]; then
    rm -rf "$cuda_src"
    cp -r "$kokkos_src" "$cuda_src"
    python3 "$here/patch-kokkos-cuda13.py" "$cuda_src"
    sha256sum "$here/patch-kokkos-cuda13.py" > "$cuda_src/.mlpot-cuda13"
  fi
  export CUDA_ROOT="${CUDA_ROOT:-/usr/local/cuda}"
  export PATH="$CUDA_ROOT/bin:$PATH"
  # nvcc_wrapper defaults to sm_70, which CUDA 13 no longer supports.
  export NVCC_WRAPPER_DEFAULT_COMPILER=g++
  kokkos_src="$cuda_src" build_kokkos kokkos-cuda -DKokkos_ENABLE_OPENMP=OFF -DKokkos_ENABLE_CUDA=ON \
    -DKokkos_ARCH_HOPPER90=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON -DBUILD_SHARED_LIBS=ON \
    -DCMAKE_CXX_COMPILER="$cuda_src/bin/nvcc_wrapper" \
    -DCMAKE_CXX_FLAGS="-arch=sm_90"
fi

if ((with_lammps)); then
  lammps_version=20250204+dfsg.1-2
  lammps_sha256=3671165bd52fad36734e0a9136c5bc5ecb225e03988f8c89aa13366a8b53b1c7
  lammps_tar="$src_root/lammps/lammps_20250204+dfsg.1.orig.tar.xz"
  lammps_src="$src_root/lammps/lammps-4Feb2025"
  if [[ ! -f "$lammps_src/.mlpot-stamp" ]]; then
    mkdir -p "$src_root/lammps"
    if [[ ! -f "$lammps_tar" ]]; then
      log "fetching LAMMPS source package $lammps_version"
      # A deb-src entry for trixie derived from this machine's own apt source (no host named here).
      src_list=/etc/apt/sources.list.d/mlpot-deb-src.sources
      if [[ ! -f "$src_list" ]]; then
        awk 'BEGIN{RS="";ORS="\n\n"} /Types: deb/ && /Suites: bookworm bookworm-updates/ {
               sub(/Types: deb/,"Types: deb-src"); sub(/Suites: bookworm bookworm-updates/,"Suites: trixie"); print}' \
          /etc/apt/sources.list.d/debian.sources > "$src_list"
        apt-get update -qq
      fi
      # The .dsc may be missing from the mirror; the upstream tarball is all we use.
      (cd "$src_root/lammps" && apt-get source --download-only "lammps=$lammps_version" >/dev/null 2>&1 || true)
    fi
    echo "$lammps_sha256  $lammps_tar" | sha256sum -c --quiet -
    rm -rf "$lammps_src"
    tar -xJf "$lammps_tar" -C "$src_root/lammps"
    echo "$lammps_sha256" > "$lammps_src/.mlpot-stamp"
  fi
  # build_lammps NAME KOKKOS DESCRIPTION CMAKE-ARGS...: LAMMPS into $cache/NAME against
  # $cache/KOKKOS, rebuilt when that Kokkos changes. The build directory stays: plugins compile
  # against the source headers plus its generated ones.
  build_lammps() {
    local name="$1" kokkos="$2" what="$3"; shift 3
    local prefix="$cache/$name" build="$cache/build-$name"
    local want="$lammps_version $kokkos $(cat "$cache/$kokkos/.mlpot-stamp" | sha256sum | cut -c1-16) $*"
    if [[ -f "$prefix/.mlpot-stamp" && "$(cat "$prefix/.mlpot-stamp")" == "$want" ]]; then
      return 0
    fi
    log "building LAMMPS 4Feb2025 ($what)"
    rm -rf "$prefix"
    cmake -S "$lammps_src/cmake" -B "$build" -G Ninja -Wno-dev \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
      -DPKG_KOKKOS=yes -DEXTERNAL_KOKKOS=yes -DKokkos_ROOT="$cache/$kokkos" -DPKG_PLUGIN=yes \
      -DBUILD_TOOLS=no -DBUILD_DOC=no -DCMAKE_INSTALL_RPATH="$cache/$kokkos/lib" "$@" \
      >"$build.log" 2>&1 || { tail -40 "$build.log"; exit 1; }
    cmake --build "$build" -j "$jobs" >>"$build.log" 2>&1 || { tail -40 "$build.log"; exit 1; }
    cmake --install "$build" >>"$build.log" 2>&1
    echo "$want" > "$prefix/.mlpot-stamp"
  }
  # MOLECULE: molecular atom styles and bonds, so the tests can check that the styles refuse
  # special_bonds settings that drop bonded neighbours from their lists.
  build_lammps lammps kokkos-openmp "KOKKOS/OpenMP, MOLECULE, PLUGIN, MPI: about 20 minutes on 2 cores" \
    -DBUILD_MPI=yes -DBUILD_OMP=yes -DPKG_MOLECULE=yes
  # For the GPU check only (--lammps-cuda): KOKKOS on CUDA against the shared kokkos-cuda (lmp and
  # the plugin must share one Kokkos runtime, as on the host), serial: one rank, one GPU.
  if ((with_lammps_cuda)); then
    build_lammps lammps-cuda kokkos-cuda "KOKKOS/CUDA sm_90, PLUGIN, serial: about 50 minutes on 2 cores" \
      -DBUILD_MPI=no -DBUILD_OMP=no -DCMAKE_CXX_COMPILER="$cuda_src/bin/nvcc_wrapper" -DCMAKE_CXX_FLAGS="-arch=sm_90"
  fi
fi

log "dependencies ready in $cache"
