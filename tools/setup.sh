#!/bin/sh
# tools/setup.sh — install the Debian packages clscale needs, if missing.
#
# Idempotent and quick when everything is there (one dpkg-query). As root it
# installs what is missing with apt-get; otherwise it prints the exact
# command to run and exits 1. Then Intel's OpenCL CPU runtime, from PyPI into
# a venv under the user's cache (tools/intel-opencl.sh; the ctest label
# intel), unless present; if that fails the intel tests are skipped, with
# the reason, and setup still succeeds.
#
# clang-15 serves the portability gate and the sanitized build with its
# fuzzers (libclang-common-15-dev: the ASan, UBSan and libFuzzer runtimes;
# llvm-15: llvm-symbolizer, for file:line in their reports).
set -eu
here=$(dirname "$0")

PACKAGES="
build-essential cmake pkg-config
ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
libclblast-dev libopenblas-dev
libpng-dev zlib1g-dev libcjson-dev liblbfgs-dev liblapacke-dev librandom123-dev hershey-fonts-data
libcmocka-dev
clang-15 libclang-common-15-dev libclc-15 llvm-15 llvm-spirv-15 spirv-tools
oclgrind python3-venv
"

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -z "$missing" ]; then
  echo "setup: all packages present"
  exec sh "$here/intel-opencl.sh" install
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages:$missing" >&2
  echo "setup: run:  sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi

echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
exec sh "$here/intel-opencl.sh" install
