#!/usr/bin/env bash
# Why does Dawn crash on this GPU machine? Tries the WebGPU adapter request under several library
# setups (bundled Vulkan loader / GLVND or the system's), each in its own process with a time limit,
# with the Vulkan loader's log. Uses gpu-bundle/ like scripts/gpu-check.sh. Output: stdout + $OUT/gpu-probe.txt.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"; B="$ROOT/gpu-bundle"; W="$(mktemp -d)"; OUTF="${OUT:-.}/gpu-probe.txt"
gzip -dc "$B/node.gz" > "$W/node"; chmod +x "$W/node"
cp "$B/kit/node_modules/webgpu/dist/linux-x64/dawn.node.gz" "$W/" && gzip -d "$W/dawn.node.gz"
for d in libvulkan1 libglvnd0 libglx0 libegl1; do mkdir -p "$W/$d" && dpkg-deb -x "$B/debs/$d.deb" "$W/$d" 2>/dev/null; done
mk() { mkdir -p "$W/l-$1"; shift; for f in "$@"; do find "$W" -path "*/$f/*" -name "*.so*" -exec cp -a {} "$W/l-$n/" \; 2>/dev/null; done; }
n=vk; mk vk libvulkan1
n=vkgd; mk vkgd libvulkan1 libglvnd0
n=all; mk all libvulkan1 libglvnd0 libglx0 libegl1
cat > "$W/probe.cjs" <<'JS'
const dawn = require(process.argv[2]);
const opts = (process.argv[3] || "").split(",").filter(Boolean);
(async () => {
  const gpu = dawn.create(opts);
  const a = await gpu.requestAdapter(opts.some((o) => o.includes("opengles")) ? { featureLevel: "compatibility" } : { powerPreference: "high-performance" });
  if (!a) { console.log("RESULT no adapter"); process.exit(0); }
  const i = a.info || {};
  console.log("RESULT adapter", JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description }));
  const d = await a.requestDevice();
  console.log("RESULT device ok", !!d);
  process.exit(0);
})().catch((e) => { console.log("RESULT error", e && e.message); process.exit(0); });
JS
run() { # name, LD path, dawn options, extra env
  local name=$1 ld=$2 o=$3; shift 3
  echo "=== $name (LD=$ld opts=$o $*)"
  env LD_LIBRARY_PATH="$ld" VK_LOADER_DEBUG=error,warn "$@" timeout 25 "$W/node" "$W/probe.cjs" "$W/dawn.node" "$o" 2>&1 | tail -15
  echo "exit ${PIPESTATUS[0]}"
}
{
  nvidia-smi -L
  ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null
  run vulkan-bundled-vk-only "$W/l-vk" ""
  run vulkan-bundled-vk+gldispatch "$W/l-vkgd" ""
  run vulkan-bundled-all "$W/l-all" ""
  run vulkan-all-loaderdebug "$W/l-vkgd" "" VK_LOADER_DEBUG=all
  run vulkan-icd-nvidia-lib64 "$W/l-vkgd:/usr/local/nvidia/lib64" ""
  run opengles-bundled-all "$W/l-all:/usr/local/nvidia/lib64" "backend=opengles"
  run vulkan-no-x "$W/l-vkgd" "" DISPLAY= __GLX_VENDOR_LIBRARY_NAME=nvidia
} | tee "$OUTF"
