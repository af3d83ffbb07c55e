// `npm run gpu-bundle`: everything scripts/gpu-check.sh needs on a GPU machine without internet or Node,
// in one ignored folder, gpu-bundle/ (at most 64 MiB; the engineer carries it to the GPU machine):
//   node.gz                      this machine's Node binary (gzip; glibc >= 2.28)
//   kit/gpu-check.js             the kit + the check, bundled by esbuild (CommonJS, one file)
//   kit/dist/src/kernels/        conv-worker.js (bundled), every .wasm module of the kit's kernels
//   kit/*.wasm                   tfjs-backend-wasm's binaries (found next to the bundle)
//   kit/assets/                  the class embeddings and the example CT (phantoms); kit/bench/torch_bench.py
//   kit/node_modules/webgpu/     Dawn's Node binding: index.js + dist/linux-x64/dawn.node.gz
//   debs/*.deb                   Debian 12 libraries, unpacked with dpkg-deb -x only where the machine
//                                lacks them: the Vulkan loader, GLVND (libGLdispatch for NVIDIA's ICD),
//                                X11 client libraries NVIDIA's libGLX links, GCC 12's libstdc++
// Needs the kit built (npm run build) and apt-get (apt-get download, no root needed for that).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// GPU_BUNDLE: where to build it (default gpu-bundle/ in the repository; scripts/gpu-check.sh reads the same).
const out = process.env.GPU_BUNDLE ? resolve(process.env.GPU_BUNDLE) : join(root, "gpu-bundle");
const kit = join(out, "kit");
const require = createRequire(join(root, "package.json"));
const say = (s) => process.stderr.write(`gpu-bundle: ${s}\n`);

const DEBS = [
  "libvulkan1",
  "libglvnd0",
  "libegl1",
  "libgles2",
  "libglx0",
  "libx11-6",
  "libxext6",
  "libxcb1",
  "libxau6",
  "libxdmcp6",
  "libbsd0",
  "libmd0",
  "libstdc++6",
];

rmSync(out, { recursive: true, force: true });
mkdirSync(join(kit, "dist", "src", "kernels"), { recursive: true });
mkdirSync(join(kit, "assets"), { recursive: true });
mkdirSync(join(kit, "bench"), { recursive: true });

// 1. The kit, bundled. CommonJS: tfjs-backend-wasm finds its .wasm through __dirname.
const esbuild = join(root, "node_modules", ".bin", "esbuild");
if (!existsSync(esbuild)) throw new Error("esbuild is not installed (it comes with tsx in devDependencies): run npm ci");
const common = [
  "--bundle",
  "--platform=node",
  "--target=node20",
  "--format=cjs",
  "--external:webgpu",
  "--log-level=warning",
  "--legal-comments=none",
  "--minify-whitespace",
];
execFileSync(esbuild, [join(root, "scripts", "gpu-check.ts"), ...common, `--outfile=${join(kit, "gpu-check.js")}`], { stdio: "inherit" });
execFileSync(esbuild, [join(root, "src", "kernels", "conv-worker.ts"), ...common, `--outfile=${join(kit, "dist", "src", "kernels", "conv-worker.js")}`], {
  stdio: "inherit",
});
writeFileSync(
  join(kit, "package.json"),
  JSON.stringify({ name: "massive", private: true, description: "the kit bundled for scripts/gpu-check.sh" }, null, 2) + "\n",
);
const wasmDir = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
for (const f of readdirSync(join(wasmDir, "dist")).filter((f) => f.endsWith(".wasm"))) {
  copyFileSync(join(wasmDir, "dist", f), join(kit, f));
  copyFileSync(join(wasmDir, "dist", f), join(kit, "dist", "src", "kernels", f)); // for the worker bundle
}
// Every wasm module the kit's kernels load (columns, heads, max-pool, adamw, batchnorm-relu, sigmoid-bce, ...),
// found from the build rather than listed: a kernel added later travels without a change here.
const kernelsDir = join(root, "dist", "src", "kernels");
const kitWasm = existsSync(kernelsDir) ? readdirSync(kernelsDir).filter((f) => f.endsWith(".wasm")) : [];
if (!kitWasm.includes("columns.wasm")) throw new Error(`${join(kernelsDir, "columns.wasm")} missing: run npm run build first`);
for (const f of kitWasm) copyFileSync(join(kernelsDir, f), join(kit, "dist", "src", "kernels", f));
say(`kit wasm modules: ${kitWasm.join(", ")}`);
cpSync(join(root, "assets"), join(kit, "assets"), { recursive: true }); // embeddings, the example CT the phantoms start from
copyFileSync(join(root, "bench", "torch_bench.py"), join(kit, "bench", "torch_bench.py"));

// The bundled kit must train on wasm by itself (the GPU check's reference side): a 10-step smoke run from
// the bundle's own folder, before anything is carried to a GPU machine.
{
  const data = mkdtempSync(join(tmpdir(), "massive-gpu-bundle-"));
  const selfCheck = (args) => {
    const r = spawnSync(process.execPath, [join(kit, "gpu-check.js"), ...args], {
      cwd: kit,
      encoding: "utf8",
      env: { ...process.env, MASSIVE_HOME: kit, MASSIVE_BACKEND: "wasm" },
      timeout: 180_000,
    });
    if (r.status !== 0) throw new Error(`the bundled kit fails "${args.join(" ")}" on wasm (exit ${r.status}):\n${(r.stderr || "").trim()}`);
  };
  selfCheck(["prep", data]);
  selfCheck(["run", data, "10"]); // 10 as the check runs it (the smoke run checkpoints every 5 steps)
  rmSync(data, { recursive: true, force: true });
  say("self-check: the bundled kit prepares smoke data and trains 10 steps on wasm");
}

// 2. Dawn's binding: only Linux x64, its binary gzipped (unpacked by gpu-check.sh).
const webgpuDir = dirname(require.resolve("webgpu/package.json"));
const wgOut = join(kit, "node_modules", "webgpu");
mkdirSync(join(wgOut, "dist", "linux-x64"), { recursive: true });
for (const f of ["package.json", "index.js", "LICENSE.md"]) if (existsSync(join(webgpuDir, f))) copyFileSync(join(webgpuDir, f), join(wgOut, f));
writeFileSync(join(wgOut, "dist", "linux-x64", "dawn.node.gz"), gzipSync(readFileSync(join(webgpuDir, "dist", "linux-x64", "dawn.node")), { level: 9 }));

// 3. Node itself.
say(`compressing ${process.execPath} (${process.version})...`);
writeFileSync(join(out, "node.gz"), gzipSync(readFileSync(process.execPath), { level: 9 }));
writeFileSync(join(out, "node.version"), process.version + "\n");

// 4. Debian libraries (used on the GPU machine only where its own are missing).
mkdirSync(join(out, "debs"), { recursive: true });
const dl = spawnSync("apt-get", ["download", ...DEBS], { cwd: join(out, "debs"), encoding: "utf8" });
for (const f of readdirSync(join(out, "debs"))) {
  const pkg = DEBS.find((d) => f.startsWith(`${d}_`));
  if (pkg) renameSync(join(out, "debs", f), join(out, "debs", `${pkg}.deb`)); // no ':' or '%' in names
}
if (dl.status !== 0)
  say(`apt-get download failed (${dl.stderr.trim().split("\n").pop()}); the bundle has no .debs: the GPU machine must have libvulkan1 and libglvnd0`);

// Sizes.
const sizeOf = (p) => (statSync(p).isDirectory() ? readdirSync(p).reduce((s, f) => s + sizeOf(join(p, f)), 0) : statSync(p).size);
const total = sizeOf(out);
for (const f of readdirSync(out)) say(`${f}: ${(sizeOf(join(out, f)) / 2 ** 20).toFixed(1)} MiB`);
say(`total ${(total / 2 ** 20).toFixed(1)} MiB in ${out}`);
if (total > 64 * 2 ** 20) {
  say("over 64 MiB: it will not travel");
  process.exit(1);
}
