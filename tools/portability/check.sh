#!/usr/bin/env bash
# tools/portability/check.sh - the vendor portability gate for cl/*.cl.
#
# There is no GPU on our machines, and PoCL (the CPU device every test runs
# on) accepts code that GPU drivers reject: double-precision math, 2 MiB of
# local memory, OpenCL 2.x features. This script compiles kernels as OpenCL
# C 1.2 with Debian's clang-15 for the real GPU targets, with the -D
# parameter set the library's device table gives that vendor, and fails on
# anything a vendor driver could reject. docs/portability.md says what that
# proves and what it does not.
#
#   check.sh [options] TARGET KERNEL.cl...
#
# TARGET   gfx906 | gfx90a | gfx1030   AMD, amdgcn-amd-amdhsa, to assembly
#          sm_70 | sm_80               NVIDIA, nvptx64-nvidia-cuda, to PTX
#          spir64                      Intel and other SPIR-V consumers: LLVM
#                                      bitcode at -O0, llvm-spirv-15, spirv-val
# Options
#   --sets "A B"        parameter sets to compile with (default: the vendor's:
#                       amd-gpu, nvidia-gpu, or "intel-gpu cpu generic-gpu")
#   --defines-tool EXE  cls_print_defines (built from print_defines.c), which
#                       prints the library's -D string for a set; required
#   --out DIR           keep the assembly, PTX, SPIR-V and logs there
#   --expect-reject RE  self-test: succeed only if the gate REJECTS the
#                       kernels with a message matching the extended regex RE
#   --coverage "A B"    instead of compiling: check that every set of the
#                       device table is among A B (the sets some target
#                       compiles), so a new set cannot escape the gate
#
# Exit codes: 0 passed, 1 failed, 2 bad usage, 77 skipped (a tool of the
# target's toolchain is missing; ctest reports it as skipped, never passed).
#
# Tools can be overridden with CLS_CLANG, CLS_LLVM_SPIRV, CLS_SPIRV_VAL,
# CLS_SPIRV_DIS and CLS_LIBCLC_DIR.
set -u

CLANG=${CLS_CLANG:-clang-15}
LLVM_SPIRV=${CLS_LLVM_SPIRV:-llvm-spirv-15}
SPIRV_VAL=${CLS_SPIRV_VAL:-spirv-val}
SPIRV_DIS=${CLS_SPIRV_DIS:-spirv-dis}
LIBCLC=${CLS_LIBCLC_DIR:-/usr/lib/clc}

SKIP=77
sets="" tool="" out="" expect="" coverage="" coverage_mode=0

usage() {
  sed -n '/^#   check.sh/,/CLS_LIBCLC_DIR/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
  --sets) sets=$2; shift 2 ;;
  --defines-tool) tool=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --expect-reject) expect=$2; shift 2 ;;
  --coverage) coverage=$2; coverage_mode=1; shift 2 ;;
  -h | --help) usage ;;
  --) shift; break ;;
  -*) echo "check.sh: unknown option $1" >&2; usage ;;
  *) break ;;
  esac
done

if [ -z "$tool" ] || [ ! -x "$tool" ]; then
  echo "check.sh: --defines-tool must name the built cls_print_defines (got '${tool}')" >&2
  exit 2
fi

# ------------------------------------------------------------------ coverage
if [ "$coverage_mode" = 1 ]; then
  missing=""
  for s in $("$tool" --list); do
    case " $coverage " in *" $s "*) ;; *) missing="$missing $s" ;; esac
  done
  if [ -n "$missing" ]; then
    echo "FAIL: parameter set(s)${missing} of the device table are compiled by no target of the portability gate:"
    echo "      add each to a target's set list in tests/portability.cmake (spir64 takes any set without a vendor target)"
    exit 1
  fi
  echo "every parameter set of the device table is compiled by some target:$("$tool" --list | tr '\n' ' ')"
  exit 0
fi

[ $# -ge 2 ] || usage
target=$1
shift

# -------------------------------------------------------------- the targets
# Flags common to every target: OpenCL C 1.2 exactly as the library builds
# (src/device/program.c passes -cl-std=CL1.2 plus the set's -D options),
# every warning an error, -Wdouble-promotion for float math silently done in
# double. -cl-single-precision-constant is deliberately NOT passed: it would
# turn 0.5 into 0.5f here and hide the double literal that a driver without
# that flag compiles as double (or rejects, on GPUs without fp64).
COMMON=(-x cl -cl-std=CL1.2 -Werror -Wall -Wextra -Wdouble-promotion -Wno-unused-parameter)

need=("$CLANG=clang-15")
case "$target" in
gfx906 | gfx90a | gfx1030)
  vendor=amd
  # libclc's amdgcn bitcode is built for the triple amdgcn-unknown-amdhsa,
  # which generates the same code as amdgcn-amd-amdhsa; the linker's
  # triple-mismatch warning is therefore silenced (and only that one).
  libclc=$LIBCLC/amdgcn--amdhsa.bc
  triple="amdgcn-amd-amdhsa -mcpu=$target"
  flags=(-target amdgcn-amd-amdhsa "-mcpu=$target" -nogpulib -O2 -S -Wno-linker-warnings
    -Xclang -mlink-builtin-bitcode -Xclang "$libclc")
  ast_flags=(-target amdgcn-amd-amdhsa "-mcpu=$target" -nogpulib)
  ext=s
  default_sets="amd-gpu"
  ;;
sm_70 | sm_80)
  vendor=nvidia
  libclc=$LIBCLC/nvptx64--nvidiacl.bc
  triple="nvptx64-nvidia-cuda -march=$target"
  flags=(-target nvptx64-nvidia-cuda "-march=$target" -O2 -S -Wno-linker-warnings
    -Xclang -mlink-builtin-bitcode -Xclang "$libclc")
  ast_flags=(-target nvptx64-nvidia-cuda "-march=$target")
  ext=ptx
  default_sets="nvidia-gpu"
  ;;
spir64)
  vendor=spirv
  libclc=""
  triple="spir64 (SPIR-V 1.0)"
  # -O0: llvm-spirv 15 cannot translate the `freeze` that -O2 introduces.
  flags=(-target spir64 -O0 -emit-llvm -c)
  ast_flags=(-target spir64)
  ext="bc"
  default_sets="intel-gpu cpu generic-gpu"
  need+=("$LLVM_SPIRV=llvm-spirv-15" "$SPIRV_VAL=spirv-tools" "$SPIRV_DIS=spirv-tools")
  ;;
*)
  echo "check.sh: unknown target '$target' (gfx906 gfx90a gfx1030 sm_70 sm_80 spir64)" >&2
  exit 2
  ;;
esac
[ -n "$sets" ] || sets=$default_sets

# A missing toolchain is a skip, named with the Debian package to install.
for entry in "${need[@]}"; do # "tool=Debian package"
  t=${entry%=*}
  if ! command -v "$t" >/dev/null 2>&1; then
    echo "SKIPPED: target $triple: $t not found; install the Debian package ${entry##*=} (tools/setup.sh)"
    exit $SKIP
  fi
done
if [ -n "$libclc" ] && [ ! -r "$libclc" ]; then
  echo "SKIPPED: target $triple: $libclc not found; install the Debian package libclc-15 (tools/setup.sh)"
  exit $SKIP
fi

tmp_out=""
if [ -z "$out" ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/cls-portability.XXXXXX") || exit 1
  tmp_out=$out
fi

# -------------------------------------------------------------- the checks

# Lists every double-typed expression, declaration and literal that the
# kernel's own source contributes (clang's AST with this target and these
# -D options, so code under #if is judged as it is really compiled). The
# header's typedefs (double2, ...) are ignored, comments never seen. Output:
# "FILE:LINE: WHAT", one per source line.
double_scan() { # kernel, -D options...
  local kernel=$1
  shift
  set -o pipefail # a scan that cannot run must fail the gate, not pass it
  "$CLANG" "${COMMON[@]}" -Wno-everything "${ast_flags[@]}" "$@" -fsyntax-only -Xclang -ast-dump "$kernel" 2>/dev/null |
    awk '
    # The dumper prints a location only where it differs from the last one
    # printed ("<file:L:C", "<line:L:C", "<col:C"), so follow every location
    # in order; the first one on a line is where that node starts.
    function step(t,   p, n, i) {
      if (t ~ /^col:/) return
      n = split(t, p, ":")
      if (t ~ /^line:/) { line = p[2]; return }
      file = p[1]; for (i = 2; i <= n - 2; i++) file = file ":" p[i]; line = p[n - 1]
    }
    function is_double(q) { return q ~ /(^|[^A-Za-z_0-9])double[0-9]*([^A-Za-z_0-9]|$)/ }
    /<invalid sloc>/ { next }
    {
      s = $0; hf = ""; hl = ""
      while (match(s, /(col:[0-9]+|[^ <>,:\047]+:[0-9]+:[0-9]+)/)) {
        step(substr(s, RSTART, RLENGTH))
        if (hf == "") { hf = file; hl = line }
        s = substr(s, RSTART + RLENGTH)
      }
      if (hf == "") { hf = file; hl = line }
      # Only the kernel source itself: not clang s own OpenCL headers.
      if (hf == "" || hf ~ /\/clang\/[0-9.]+\/include\//) next
      # Any quoted type that is, or contains, double.
      s = $0; hit = 0
      while (match(s, /\047[^\047]*\047/)) {
        if (is_double(substr(s, RSTART + 1, RLENGTH - 2))) hit = 1
        s = substr(s, RSTART + RLENGTH)
      }
      if (!hit) next
      what = $0; sub(/^[-| `]*/, "", what); split(what, w, " ")
      key = hf ":" hl
      if (!(key in msg)) { order[++count] = key; msg[key] = w[1] " of type double" }
      if (w[1] == "FloatingLiteral") {
        v = what; sub(/.*\047double\047 /, "", v)
        lits[key] = (nlit[key]++ ? lits[key] ", " : "") v
        msg[key] = "double literal " lits[key] " (write float literals with an f suffix)"
      }
    }
    END { for (i = 1; i <= count; i++) print order[i] ": " msg[order[i]] }'
}

# Bytes of __local memory: per kernel from AMD's metadata, per module from
# the PTX .shared declarations and the LLVM IR addrspace(3) globals (a
# module's sum bounds every kernel in it). Prints "NAME BYTES" lines.
local_bytes() { # output file
  case "$vendor" in
  amd) awk '$1 == ".amdhsa_kernel" {n = $2} $1 == ".amdhsa_group_segment_fixed_size" {print n, $2}' "$1" ;;
  nvidia)
    awk '/^[ \t]*\.shared[ \t]/ && /\[[0-9]+\];/ && !/\.extern/ {
      m = $0; sub(/.*\[/, "", m); sub(/\].*/, "", m); w = 1
      if ($0 ~ /\.[bsuf]16 /) w = 2; else if ($0 ~ /\.[bsuf]32 /) w = 4; else if ($0 ~ /\.[bsuf]64 /) w = 8
      s += m * w } END { print "module", s + 0 }' "$1"
    ;;
  spirv)
    awk '/addrspace\(3\) global / {
      t = $0; sub(/.*addrspace\(3\) global /, "", t); sub(/ (undef|zeroinitializer|poison).*/, "", t)
      n = 1; r = t
      while (match(r, /[0-9]+ x /)) { n *= substr(r, RSTART, RLENGTH - 3); r = substr(r, RSTART + RLENGTH) }
      gsub(/[][<> ]/, "", r); b = 4
      if (r == "double" || r == "i64") b = 8; else if (r == "half" || r == "i16") b = 2; else if (r == "i8") b = 1
      s += n * b } END { print "module", s + 0 }' "$1"
    ;;
  esac
}

# The __local limit each target is held to: AMD's hardware limit (the
# backend itself refuses more), NVIDIA's static shared memory per block,
# and for SPIR-V consumers OpenCL's guaranteed minimum CL_DEVICE_LOCAL_MEM_SIZE.
case "$vendor" in
amd) local_limit=65536 ;;
nvidia) local_limit=49152 ;;
spirv) local_limit=32768 ;;
esac

report=$(mktemp "${TMPDIR:-/tmp}/cls-portability-report.XXXXXX") || exit 1
trap 'rm -f "$report"; [ -n "$tmp_out" ] && rm -rf "$tmp_out"' EXIT
mkdir -p "$out" || exit 1

failed=0
compiled=0
indent() { sed 's/^/  | /'; } # quotes a tool's output under the FAIL line

for kernel in "$@"; do
  if [ ! -r "$kernel" ]; then
    echo "check.sh: cannot read $kernel" >&2
    exit 2
  fi
  base=$(basename "$kernel" .cl)
  for set in $sets; do
    defines=$("$tool" "$set" "$base") || exit 1
    # shellcheck disable=SC2206 # the -D string is split into words on purpose
    dflags=($defines)
    what="$kernel for $triple with parameter set $set ($defines)"
    dir=$out/$target/$set
    mkdir -p "$dir"
    obj=$dir/$base.$ext
    log=$dir/$base.log
    compiled=$((compiled + 1))

    # 1. The compiler: OpenCL C 1.2 rules (no generic address space, no
    #    implicit address-space casts, no 2.x builtins), warnings as errors,
    #    and the target's own backend limits.
    if ! "$CLANG" "${COMMON[@]}" "${flags[@]}" "${dflags[@]}" "$kernel" -o "$obj" >"$log" 2>&1; then
      {
        echo "FAIL: $what:"
        echo "  compiler rejected it: $CLANG ${COMMON[*]} ${flags[*]} $defines $kernel"
        indent <"$log"
      } >>"$report"
      failed=$((failed + 1))
      continue
    fi

    # 2. Double precision: none in fp32 kernels. GPUs without fp64 (Intel
    #    Arc, many integrated parts) reject it and the others run it at
    #    1/2..1/64 of the float rate; PoCL runs it silently.
    if ! dbl=$(double_scan "$kernel" "${dflags[@]}" 2>&1); then
      {
        echo "FAIL: $what:"
        echo "  the gate's scan for double precision could not run:"
        indent <<<"$dbl"
      } >>"$report"
      failed=$((failed + 1))
      continue
    fi
    if [ -n "$dbl" ]; then
      {
        echo "FAIL: $what:"
        echo "  double precision in an fp32 kernel (OpenCL C turns an unsuffixed 0.5 into a double):"
        indent <<<"$dbl"
      } >>"$report"
      failed=$((failed + 1))
      continue
    fi

    # 3. SPIR-V: translate, validate for an OpenCL 1.2 environment, and
    #    refuse the Float64 / Float16 capabilities (double or half math left
    #    after all, e.g. from a builtin's double overload).
    if [ "$vendor" = spirv ]; then
      spv=$dir/$base.spv
      if ! "$LLVM_SPIRV" --spirv-max-version=1.0 --spirv-ext=-all "$obj" -o "$spv" >>"$log" 2>&1; then
        {
          echo "FAIL: $what:"
          echo "  llvm-spirv could not translate it to SPIR-V 1.0 without extensions:"
          indent <"$log"
        } >>"$report"
      failed=$((failed + 1))
        continue
      fi
      if ! "$SPIRV_VAL" --target-env opencl1.2 "$spv" >>"$log" 2>&1; then
        {
          echo "FAIL: $what:"
          echo "  spirv-val (--target-env opencl1.2) rejected the SPIR-V:"
          indent <"$log"
        } >>"$report"
      failed=$((failed + 1))
        continue
      fi
      caps=$("$SPIRV_DIS" "$spv" 2>>"$log" | awk '$1 == "OpCapability" && ($2 == "Float64" || $2 == "Float16") {print $2}' | tr '\n' ' ')
      if [ -n "$caps" ]; then
        {
          echo "FAIL: $what:"
          echo "  the SPIR-V needs the capabilities ${caps}(double or half arithmetic), which many GPUs lack"
        } >>"$report"
      failed=$((failed + 1))
        continue
      fi
      # The IR as text, for the __local memory count below.
      "$CLANG" -target spir64 -Wno-override-module -S -emit-llvm "$obj" -o "$dir/$base.ll" >>"$log" 2>&1
      lb=$(local_bytes "$dir/$base.ll")
    else
      lb=$(local_bytes "$obj")
    fi

    # 4. __local memory within what the target's devices offer (PoCL offers
    #    2 MiB and forgives any tile size).
    over=$(echo "$lb" | awk -v lim="$local_limit" 'NF == 2 && $2 > lim {print "  | " $1 ": " $2 " bytes"}')
    if [ -n "$over" ]; then
      {
        echo "FAIL: $what:"
        echo "  __local memory over the $local_limit bytes the target's devices are guaranteed to have:"
        echo "$over"
      } >>"$report"
      failed=$((failed + 1))
      continue
    fi
    echo "ok    $what; __local bytes: $(echo "$lb" | awk '{printf "%s%s=%s", (NR > 1 ? ", " : ""), $1, $2}')"
  done
done

if [ -n "$expect" ]; then
  # Self-test of the gate: it must have rejected, for the expected reason.
  if [ "$failed" -eq 0 ]; then
    echo "SELF-TEST FAIL: the gate accepted $* for $target, but it should have rejected it (expected: $expect)"
    exit 1
  fi
  if ! grep -Eq -- "$expect" "$report"; then
    echo "SELF-TEST FAIL: the gate rejected $* for $target, but not for the expected reason ($expect):"
    cat "$report"
    exit 1
  fi
  echo "self-test ok: the gate rejected $* for $target as expected ($expect):"
  sed 's/^/    /' "$report"
  exit 0
fi

if [ "$failed" -gt 0 ]; then
  cat "$report"
  echo "$failed of $compiled compilation(s) for $target failed the portability gate"
  exit 1
fi
echo "$compiled compilation(s) for $target passed the portability gate"
exit 0
