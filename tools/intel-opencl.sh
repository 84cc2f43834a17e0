#!/bin/sh
# tools/intel-opencl.sh - Intel's OpenCL CPU runtime, from PyPI, as the
# tests' second OpenCL implementation (ctest label intel; docs/portability.md).
#
#   tools/intel-opencl.sh dir              where it is (or would be) installed
#   tools/intel-opencl.sh install          installs it there unless present
#   tools/intel-opencl.sh run ICD_DIR CMD  runs CMD on it (exit 77, skipped,
#                                          with the reason, when not installed)
#
# It goes into a virtual environment of its own under the user's cache
# (~/.cache/clscale, or CLSCALE_INTEL_OPENCL_DIR), about 800 MB, so that a
# fresh build folder does not download it again. Nothing of the system's is
# changed: `run` writes an ICD folder (ICD_DIR, in the build folder) naming
# the venv's libintelocl.so, and points the ICD loader at it with
# OCL_ICD_VENDORS for CMD alone; LD_LIBRARY_PATH finds the libraries
# libintelocl.so needs (libimf, libsvml, libirng, libintlc from
# intel-cmplr-lib-rt, which intel-opencl-rt does not declare; libtbb from
# tbb). CLSCALE_DEVICE=intel selects its device.
set -eu

# Pinned: every package the runtime loads, at the versions tried together.
INTEL_OPENCL_VERSION=2026.2.0
PACKAGES="intel-opencl-rt==$INTEL_OPENCL_VERSION intel-cmplr-lib-rt==$INTEL_OPENCL_VERSION
intel-cmplr-lic-rt==$INTEL_OPENCL_VERSION tbb==2023.2.0"

cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/clscale
DIR=${CLSCALE_INTEL_OPENCL_DIR:-$cache/intel-opencl-rt-$INTEL_OPENCL_VERSION}
LIB=$DIR/lib/libintelocl.so
# Why the last install failed, for the skip message.
FAILED=$DIR.failed

case "${1:-}" in
dir)
  echo "$DIR"
  ;;
install)
  if [ -f "$LIB" ]; then
    echo "setup: Intel OpenCL runtime present ($DIR)"
    exit 0
  fi
  echo "setup: installing Intel's OpenCL CPU runtime $INTEL_OPENCL_VERSION from PyPI into $DIR"
  mkdir -p "$(dirname "$DIR")"
  rm -rf "$DIR.tmp" "$FAILED"
  log=$DIR.log
  # Installed into DIR.tmp and renamed: an interrupted install leaves no
  # half-filled DIR that would pass for an installed one.
  # shellcheck disable=SC2086
  if python3 -m venv "$DIR.tmp" > "$log" 2>&1 && "$DIR.tmp/bin/pip" install -q --disable-pip-version-check \
    $PACKAGES >> "$log" 2>&1 && [ -f "$DIR.tmp/lib/libintelocl.so" ]; then
    mv "$DIR.tmp" "$DIR"
    echo "setup: Intel OpenCL runtime installed"
  else
    rm -rf "$DIR.tmp"
    {
      echo "pip could not install $(echo $PACKAGES) into a venv (python3 -m venv needs the Debian package"
      echo "python3-venv; pip needs to reach PyPI); its last lines, from $log:"
      tail -n 5 "$log"
    } > "$FAILED"
    echo "setup: Intel OpenCL runtime not installed; the intel tests will be skipped:" >&2
    cat "$FAILED" >&2
  fi
  exit 0 # the rest of the suite does not need it
  ;;
run)
  icd=$2
  shift 2
  if [ ! -f "$LIB" ]; then
    echo "SKIPPED: Intel's OpenCL runtime is not installed in $DIR."
    if [ -f "$FAILED" ]; then cat "$FAILED"; else echo "tools/setup.sh installs it (PyPI intel-opencl-rt)."; fi
    exit 77
  fi
  mkdir -p "$icd"
  echo "$LIB" > "$icd/intel-cpu.icd"
  OCL_ICD_VENDORS=$icd LD_LIBRARY_PATH=$DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} CLSCALE_DEVICE=intel \
    exec "$@"
  ;;
*)
  echo "usage: tools/intel-opencl.sh dir | install | run ICD_DIR COMMAND..." >&2
  exit 2
  ;;
esac
