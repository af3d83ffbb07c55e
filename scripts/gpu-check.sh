#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and no internet (docs/benchmarks.md). Run from the
# repository root with gpu-bundle/ present (built here by `npm run gpu-bundle`, 64 MiB at most):
#
#   bash scripts/gpu-check.sh [result.json]      (default: $OUT/gpu-check.json, else ./gpu-check.json)
#
# It brings its own Node, the bundled kit, Dawn's dawn.node and Debian 12's Vulkan loader / GLVND / X11
# client / libstdc++ libraries (each used only when the machine lacks it). It prints diagnostics
# (nvidia-smi, Vulkan ICD files, NVIDIA libraries, the adapter) so that a failure is understood from
# one run, asserts a hardware NVIDIA WebGPU adapter, compares a 10-step smoke training run on webgpu
# with wasm (losses within 1e-3, same memory decisions), times the training step of the mini and the
# paper-width net at 64^3 and 96^3 on webgpu and, when python3 has torch with CUDA, PyTorch CUDA, and
# writes one JSON. Whole run: under 8 minutes (GPU_CHECK_BUDGET seconds for the timed part, default 400).
# Exit status 0 when the adapter and the comparison pass (timings are reported either way).
set -uo pipefail
START=$(date +%s)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="${GPU_BUNDLE:-$ROOT/gpu-bundle}"
RESULT="${1:-${OUT:-.}/gpu-check.json}"
mkdir -p "$(dirname "$RESULT")"
RESULT="$(cd "$(dirname "$RESULT")" && pwd)/$(basename "$RESULT")"
DIAG="${RESULT%.json}-diagnostics.txt"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/massive-gpu-check.XXXXXX")"
say() { echo "gpu-check.sh [$(($(date +%s) - START)) s]: $*" >&2; }

# ---- the kit: from gpu-bundle/, else from this checkout (dist/ + node_modules/ and a system node) ----
if [ -f "$BUNDLE/kit/gpu-check.js" ]; then
  cp -r "$BUNDLE/kit" "$WORK/kit"
  gzip -dc "$BUNDLE/node.gz" > "$WORK/node" && chmod +x "$WORK/node"
  gzip -d "$WORK/kit/node_modules/webgpu/dist/linux-x64/dawn.node.gz"
  NODE="$WORK/node"
  ENTRY="$WORK/kit/gpu-check.js"
  DAWN="$WORK/kit/node_modules/webgpu/dist/linux-x64/dawn.node"
  export MASSIVE_HOME="$WORK/kit"
  say "bundle $BUNDLE (node $(cat "$BUNDLE/node.version" 2>/dev/null))"
elif [ -f "$ROOT/dist/scripts/gpu-check.js" ] && command -v node >/dev/null; then
  NODE="$(command -v node)"
  ENTRY="$ROOT/dist/scripts/gpu-check.js"
  DAWN="$ROOT/node_modules/webgpu/dist/linux-x64/dawn.node"
  export MASSIVE_HOME="$ROOT"
  say "no gpu-bundle/: using this checkout's dist/ and $NODE"
else
  echo "gpu-check.sh: neither $BUNDLE (npm run gpu-bundle) nor a built checkout with node" >&2
  exit 2
fi

# ---- libraries: the system's where present, else the bundled Debian 12 ones ----
LIBS="$WORK/libs"
mkdir -p "$LIBS"
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1" || ls /usr/lib/x86_64-linux-gnu/"$1"* /usr/lib64/"$1"* /lib/x86_64-linux-gnu/"$1"* >/dev/null 2>&1; }
unpack() { # unpack <deb name> <library that it provides>
  if [ -f "$BUNDLE/debs/$1.deb" ]; then
    dpkg-deb -x "$BUNDLE/debs/$1.deb" "$WORK/deb-$1" 2>/dev/null || (cd "$WORK" && mkdir -p "deb-$1" && cd "deb-$1" && ar x "$BUNDLE/debs/$1.deb" && tar xf data.tar.* 2>/dev/null)
    find "$WORK/deb-$1" -name "*.so*" -exec cp -a {} "$LIBS/" \;
    say "using the bundled $1 ($2 not on this machine)"
  else
    say "WARNING: $2 missing and no bundled $1.deb"
  fi
}
have_lib libvulkan.so.1 || unpack libvulkan1 libvulkan.so.1
have_lib libGLdispatch.so.0 || unpack libglvnd0 libGLdispatch.so.0
have_lib libGLX.so.0 || unpack libglx0 libGLX.so.0
have_lib libEGL.so.1 || unpack libegl1 libEGL.so.1
have_lib libX11.so.6 || { unpack libx11-6 libX11.so.6; unpack libxcb1 libxcb.so.1; unpack libxau6 libXau.so.6; unpack libxdmcp6 libXdmcp.so.6; unpack libbsd0 libbsd.so.0; unpack libmd0 libmd.so.0; }
have_lib libXext.so.6 || unpack libxext6 libXext.so.6
# dawn.node needs GCC 12's libstdc++ (GLIBCXX_3.4.30): use the bundled one only if the system's is older.
SYS_STDCXX="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
if [ -z "$SYS_STDCXX" ] || ! grep -q GLIBCXX_3.4.30 "$SYS_STDCXX" 2>/dev/null; then unpack libstdc++6 "libstdc++ with GLIBCXX_3.4.30"; fi
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# ---- the NVIDIA Vulkan ICD: the driver's JSON, else one written for its libGLX_nvidia.so.0 ----
ICDS="$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ')"
if ! echo "$ICDS" | grep -qi nvidia; then
  NVLIB="$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ {print $NF; exit}')"
  [ -z "$NVLIB" ] && NVLIB="$(ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 /usr/local/nvidia/lib64/libGLX_nvidia.so.0 2>/dev/null | head -1)"
  if [ -n "$NVLIB" ]; then
    printf '{"file_format_version": "1.0.1", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$NVLIB" > "$WORK/nvidia_icd.json"
    export VK_ICD_FILENAMES="$WORK/nvidia_icd.json" VK_DRIVER_FILES="$WORK/nvidia_icd.json"
    say "no nvidia_icd.json installed: wrote $WORK/nvidia_icd.json for $NVLIB"
  else
    say "WARNING: no NVIDIA Vulkan ICD and no libGLX_nvidia.so.0: the driver's graphics libraries are absent (in a container: NVIDIA_DRIVER_CAPABILITIES must include graphics)"
  fi
fi

# ---- diagnostics ----
{
  echo "== date"; date -u
  echo "== uname"; uname -a
  echo "== os"; cat /etc/os-release 2>/dev/null | head -4
  echo "== glibc"; ldd --version 2>&1 | head -1
  echo "== nvidia-smi"; if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1; nvidia-smi 2>&1 | head -15; else echo "no nvidia-smi"; fi
  echo "== NVIDIA_* env"; env | grep -E '^(NVIDIA_|CUDA_|VK_|LD_LIBRARY_PATH)' || true
  echo "== Vulkan ICD files"; for f in /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json ${VK_ICD_FILENAMES:-}; do [ -f "$f" ] && { echo "-- $f"; cat "$f"; }; done
  echo "== GLVND EGL vendors"; ls /usr/share/glvnd/egl_vendor.d/ /etc/glvnd/egl_vendor.d/ 2>/dev/null
  echo "== NVIDIA graphics libraries"; ldconfig -p 2>/dev/null | grep -E 'libGLX_nvidia|libEGL_nvidia|libnvidia-glcore|libnvidia-gpucomp|libvulkan|libcuda\.so' || echo "(none in ldconfig)"
  echo "== bundled libraries in use"; ls "$LIBS"
  echo "== dawn.node dependencies"; ldd "$DAWN" 2>&1
  echo "== vulkaninfo"; (command -v vulkaninfo >/dev/null && timeout 20 vulkaninfo --summary 2>&1 | head -40) || echo "no vulkaninfo"
  echo "== python3 / torch"; (timeout 60 python3 -c "import torch; print(torch.__version__, 'cuda', torch.cuda.is_available(), torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')" 2>&1 | tail -2) || echo "no python3"
} > "$DIAG" 2>&1
cat "$DIAG" >&2

# ---- the check ----
SETUP=$(($(date +%s) - START))
BUDGET="${GPU_CHECK_BUDGET:-$((420 - SETUP))}"
say "setup took ${SETUP} s; running the check (timed part within ${BUDGET} s)"
cd "$WORK"
"$NODE" "$ENTRY" check --out "$RESULT" --diag "$DIAG" --budget "$BUDGET"
STATUS=$?
say "exit $STATUS; $RESULT and $DIAG written; total $(($(date +%s) - START)) s"
exit $STATUS
