/**
 * Pick the fastest working tfjs backend: @tensorflow/tfjs-node-gpu (only when it really uses a GPU),
 * then webgpu (Dawn's Node binding, the npm package `webgpu`, only on a hardware GPU adapter), then
 * wasm, then cpu. MASSIVE_BACKEND=tensorflow|webgpu|wasm|cpu forces one; a forced webgpu also takes a
 * software adapter (Mesa llvmpipe through Dawn's OpenGL ES backend) when no hardware one exists, and
 * MASSIVE_WEBGPU_ADAPTER=software picks that software adapter even on a GPU machine (tests, CI).
 * Says which one runs, which adapter, and why faster ones were skipped (tfjs-node-gpu 4.22 is built on
 * libtensorflow 2.9.1: it needs CUDA 11.2 + cuDNN 8.1 and silently falls back to the CPU without them).
 * This is the only file in src/ that loads a backend package.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { kitRoot } from "./util/paths.js";
import { registerWasmKernels } from "./kernels/wasm/register-all.js";
import { kernelModulePath } from "./kernels/columns-wasm.js";
import { enabledFusedOps } from "./kernels/fused-switch.js";
import { registerConv3dTransposeGradient } from "./kernels/gradients/Conv3DBackpropInputV2.js";
import { registerWebGpuKernels } from "./kernels/webgpu/register-all.js";
import * as tf from "@tensorflow/tfjs";
import { env } from "./env.js";

export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";
const BACKENDS: BackendName[] = ["tensorflow", "webgpu", "wasm", "cpu"];

export interface BackendReport {
  backend: BackendName;
  /** The package that provides it. */
  provider: string;
  /** For the tensorflow and webgpu backends: is a GPU device really used? */
  gpu: "yes" | "no" | "unknown" | "n/a";
  /** For the webgpu backend: the adapter in use. */
  adapter?: WebGpuAdapterInfo;
  skipped: { provider: string; reason: string }[];
  notes: string[];
}

let current: BackendReport | undefined;

/** The real name of an installed package (danfojs-node's override installs plain tfjs as tfjs-node). */
function installedName(pkg: string): string | undefined {
  try {
    const req = createRequire(join(kitRoot(), "package.json"));
    return (JSON.parse(readFileSync(req.resolve(`${pkg}/package.json`), "utf8")) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

async function tryTensorflow(pkg: string): Promise<string | undefined> {
  const name = installedName(pkg);
  if (name === undefined) return "not installed";
  if (name !== pkg) return `installed as an alias of ${name} (no native binding; danfojs-node's override)`;
  try {
    await import(pkg);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    return /Cannot find (package|module)/.test(msg) ? "not installed" : `failed to load: ${msg}`;
  }
  // danfojs-node's override aliases @tensorflow/tfjs-node to plain tfjs: then no 'tensorflow' backend exists.
  if (!tf.findBackendFactory("tensorflow")) return "installed as an alias of plain tfjs (no native binding)";
  const ok = await tf.setBackend("tensorflow");
  return ok ? undefined : "the native backend failed to initialise";
}

async function tryWasm(): Promise<string | undefined> {
  try {
    await import("@tensorflow/tfjs-backend-wasm");
  } catch (e) {
    return `failed to load: ${(e as Error).message.split("\n")[0]}`;
  }
  try {
    if (env("MASSIVE_STOCK_KERNELS") !== "1") registerWasmKernels();
    return (await tf.setBackend("wasm")) ? undefined : "wasm backend failed to initialise";
  } catch (e) {
    return `wasm backend failed to initialise: ${(e as Error).message}`;
  }
}

export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Dawn's backend behind it: vulkan (hardware GPUs on Linux) or opengles (Mesa's software rasteriser). */
  dawnBackend: "default" | "opengles";
  software: boolean;
}

/** Software rasterisers: usable for tests, never chosen automatically. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  limits: Record<string, number>;
  features: Set<string>;
  requestDevice(d?: unknown): Promise<unknown>;
}

function adapterInfo(a: GpuAdapterLike, dawnBackend: WebGpuAdapterInfo["dawnBackend"]): WebGpuAdapterInfo {
  const i = a.info ?? {};
  const text = [i.vendor, i.architecture, i.device, i.description].join(" ");
  return {
    vendor: i.vendor ?? "",
    architecture: i.architecture ?? "",
    device: i.device ?? "",
    description: i.description ?? "",
    dawnBackend,
    software: Boolean(i.isFallbackAdapter || a.isFallbackAdapter) || SOFTWARE_ADAPTER.test(text),
  };
}

export function describeAdapter(a: WebGpuAdapterInfo): string {
  const name = [a.vendor, a.architecture, a.device].filter((s) => s).join(" ") || "unnamed adapter";
  return `${a.software ? "software adapter" : "hardware GPU"} ${name}${a.description ? ` (${a.description})` : ""}, Dawn ${a.dawnBackend === "default" ? "Vulkan" : "OpenGL ES"} backend`;
}

/** Keeps the Dawn instance alive (and lets releaseWebGpu drop it so that Node can exit). */
let webgpuHandle: { gpu: unknown; adapter: WebGpuAdapterInfo } | undefined;

/**
 * Find a WebGPU adapter through Dawn: a hardware one on Dawn's default backend (Vulkan on Linux), else,
 * when allowed, Mesa's llvmpipe through Dawn's OpenGL ES backend in compatibility mode (Debian's
 * lavapipe Vulkan driver lacks a feature Dawn requires). Registers tfjs's webgpu backend on it.
 */
async function tryWebgpu(mode: "hardware" | "any" | "software", notes: string[]): Promise<string | undefined> {
  let dawn: { create(opts: string[]): { requestAdapter(o?: unknown): Promise<GpuAdapterLike | null> }; globals: Record<string, unknown> };
  try {
    dawn = (await import("webgpu")) as unknown as typeof dawn;
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    return /Cannot find (package|module)/.test(msg) ? "not installed (optional dependency `webgpu`)" : `dawn.node failed to load: ${msg}`;
  }
  let wg: { WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend };
  try {
    wg = (await import("@tensorflow/tfjs-backend-webgpu")) as unknown as typeof wg;
  } catch (e) {
    return `@tensorflow/tfjs-backend-webgpu failed to load: ${(e as Error).message.split("\n")[0]}`;
  }
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const tried: string[] = [];
  const toggles = env("MASSIVE_WEBGPU_DAWN_TOGGLES");
  const options = toggles ? [`enable-dawn-features=${toggles}`] : [];
  let found: { gpu: unknown; adapter: GpuAdapterLike; info: WebGpuAdapterInfo } | undefined;
  if (mode !== "software") {
    try {
      const gpu = dawn.create(options);
      const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
      if (!adapter) tried.push("no adapter on Dawn's default (Vulkan) backend: no GPU driver, Vulkan loader (libvulkan.so.1) or ICD");
      else {
        const info = adapterInfo(adapter, "default");
        if (info.software) tried.push(`Dawn's default backend offers only a ${describeAdapter(info)}`);
        else found = { gpu, adapter, info };
      }
    } catch (e) {
      tried.push(`Dawn's default backend failed: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  if (!found && mode !== "hardware") {
    process.env.EGL_PLATFORM ??= "surfaceless"; // no display: EGL's surfaceless platform
    try {
      const gpu = dawn.create(["backend=opengles", ...options]);
      const adapter = await gpu.requestAdapter({ featureLevel: "compatibility" });
      if (!adapter) tried.push("no adapter on Dawn's OpenGL ES backend (Mesa: apt-get install libegl-mesa0 libgles2 libgl1-mesa-dri)");
      else found = { gpu, adapter, info: adapterInfo(adapter, "opengles") };
    } catch (e) {
      tried.push(`Dawn's OpenGL ES backend failed: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  if (!found) return tried.join("; ") || "no adapter";
  if (mode === "hardware" && found.info.software) return `only a ${describeAdapter(found.info)}`;
  for (const t of tried) notes.push(`webgpu: ${t}`);
  const { gpu, adapter, info } = found;
  // tfjs-backend-webgpu checks navigator.gpu; Node 20 has no navigator.
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator) Object.defineProperty(globalThis, "navigator", { value: {}, configurable: true, writable: true });
  g.navigator!.gpu = gpu;
  const limits = adapter.limits;
  const want = [
    "maxComputeWorkgroupStorageSize",
    "maxComputeWorkgroupsPerDimension",
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxComputeWorkgroupSizeX",
    "maxComputeInvocationsPerWorkgroup",
  ];
  const requiredLimits = Object.fromEntries(want.filter((k) => typeof limits[k] === "number").map((k) => [k, limits[k]]));
  const requiredFeatures = ["timestamp-query"].filter((f) => adapter.features.has(f));
  let device: unknown;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    return `${describeAdapter(info)}: requestDevice failed: ${(e as Error).message.split("\n")[0]}`;
  }
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => new wg.WebGPUBackend(device, adapter.info), 3);
  try {
    if (!(await tf.setBackend("webgpu"))) return `${describeAdapter(info)}: tfjs's webgpu backend failed to initialise`;
  } catch (e) {
    return `${describeAdapter(info)}: tfjs's webgpu backend failed to initialise: ${(e as Error).message}`;
  }
  webgpuHandle = { gpu, adapter: info };
  if (env("MASSIVE_STOCK_KERNELS") !== "1") for (const n of registerWebGpuKernels()) notes.push(`webgpu kernels: ${n}`);
  else notes.push("MASSIVE_STOCK_KERNELS=1: tfjs's stock webgpu kernels (rank-5 element-wise ops are broken there)");
  return undefined;
}

/**
 * Drop the references that keep Dawn's instance (and with it the Node process) alive. Call when done with
 * tensors on webgpu; the CLI does it before exiting. No-op on other backends.
 */
export function releaseWebGpu(): void {
  if (!webgpuHandle) return;
  if (tf.getBackend() === "webgpu") tf.removeBackend("webgpu");
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator) delete g.navigator.gpu;
  webgpuHandle = undefined;
  current = undefined;
}

/** CUDA 11 runtime and cuDNN 8 libraries, as libtensorflow 2.9.1 needs them. */
function cudaLibraries(): { cudart11: boolean; cudnn8: boolean } {
  let libs = "";
  try {
    libs = execFileSync("ldconfig", ["-p"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    /* no ldconfig */
  }
  const ldPath = process.env.LD_LIBRARY_PATH ?? "";
  return {
    cudart11: /libcudart\.so\.11/.test(libs) || /cuda-11/.test(ldPath),
    cudnn8: /libcudnn\.so\.8/.test(libs),
  };
}

/** A 2048^2 matMul takes well under 20 ms on any GPU and over 100 ms on CPUs. */
async function gpuByTiming(): Promise<{ ms: number; gpu: boolean }> {
  const a = tf.randomNormal([2048, 2048]);
  const warm = tf.matMul(a, a);
  await warm.data();
  warm.dispose();
  const t0 = performance.now();
  const c = tf.matMul(a, a);
  await c.data();
  const ms = performance.now() - t0;
  tf.dispose([a, c]);
  return { ms, gpu: ms < 20 };
}

export interface InitOptions {
  /** Overrides MASSIVE_BACKEND. */
  force?: BackendName;
  log?: (line: string) => void;
}

/** Initialise once per process; later calls return the same report. */
export async function initBackend(opts: InitOptions = {}): Promise<BackendReport> {
  if (current) return current;
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const forced = opts.force ?? (env("MASSIVE_BACKEND") as BackendName | undefined);
  if (forced && !BACKENDS.includes(forced)) {
    throw new Error(`MASSIVE_BACKEND must be ${BACKENDS.join(", ")}, got "${forced}"`);
  }
  const adapterChoice = env("MASSIVE_WEBGPU_ADAPTER");
  if (adapterChoice && !["hardware", "software", "any"].includes(adapterChoice)) {
    throw new Error(`MASSIVE_WEBGPU_ADAPTER must be hardware, software or any, got "${adapterChoice}"`);
  }
  const skipped: BackendReport["skipped"] = [];
  const notes: string[] = [];
  let cpuTensorflow: string | undefined;
  let report: BackendReport | undefined;
  const order: BackendName[] = forced ? [forced] : BACKENDS;
  for (const name of order) {
    if (name === "tensorflow") {
      for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
        const why = await tryTensorflow(pkg);
        if (why) {
          skipped.push({ provider: pkg, reason: why });
          continue;
        }
        let gpu: BackendReport["gpu"] = pkg.endsWith("-gpu") ? "unknown" : "no";
        if (pkg.endsWith("-gpu")) {
          const libs = cudaLibraries();
          const timing = await gpuByTiming();
          gpu = timing.gpu ? "yes" : "no";
          notes.push(`matMul 2048^2 took ${timing.ms.toFixed(1)} ms`);
          if (!libs.cudart11 || !libs.cudnn8) {
            notes.push(
              `libtensorflow 2.9.1 needs CUDA 11.2 (libcudart.so.11) and cuDNN 8.1 (libcudnn.so.8); found cudart11=${libs.cudart11} cudnn8=${libs.cudnn8}`,
            );
          }
          if (gpu === "no") notes.push("tfjs-node-gpu loaded but runs on the CPU (see README: GPU requirements)");
        }
        if (gpu === "no" && !forced) {
          // Automatic choice: a CPU-only libtensorflow loses to a hardware webgpu adapter; keep it as the
          // fallback before wasm only when no GPU path exists (checked below).
          skipped.push({ provider: pkg, reason: `runs on the CPU${notes.length ? ` (${notes.join("; ")})` : ""}; trying webgpu first` });
          cpuTensorflow = pkg;
          notes.length = 0;
          break;
        }
        report = { backend: "tensorflow", provider: pkg, gpu, skipped, notes };
        break;
      }
    } else if (name === "webgpu") {
      const mode = adapterChoice === "software" ? "software" : adapterChoice === "hardware" || !forced ? "hardware" : "any";
      const why = await tryWebgpu(mode as "hardware" | "any" | "software", notes);
      if (why) skipped.push({ provider: "webgpu (Dawn) + @tensorflow/tfjs-backend-webgpu", reason: why });
      else {
        const a = webgpuHandle!.adapter;
        report = {
          backend: "webgpu",
          provider: "@tensorflow/tfjs-backend-webgpu on Dawn (npm webgpu)",
          gpu: a.software ? "no" : "yes",
          adapter: a,
          skipped,
          notes,
        };
      }
      if (!report && cpuTensorflow && (await tf.setBackend("tensorflow"))) {
        report = { backend: "tensorflow", provider: cpuTensorflow, gpu: "no", skipped, notes };
      }
    } else if (name === "wasm") {
      const why = await tryWasm();
      if (why) skipped.push({ provider: "@tensorflow/tfjs-backend-wasm", reason: why });
      else {
        notes.push(
          env("MASSIVE_STOCK_KERNELS") === "1"
            ? "MASSIVE_STOCK_KERNELS=1: stock wasm Conv3D kernels (their input gradient is wrong in tfjs 4.22)"
            : existsSync(kernelModulePath("columns.wasm"))
              ? `Conv3D kernels: im2col (columns.wasm, SIMD) + XNNPACK matMul; fast Slice/SplitV/Sum/Mean, copy-free Identity${env("MASSIVE_FUSED_HEADS") === "0" ? "" : ", fused dynamic heads"}; fused ops (MASSIVE_FUSED_OPS): ${enabledFusedOps().join(", ") || "none"} (src/kernels)`
              : `Conv3D kernels: im2col (JavaScript loops: ${kernelModulePath("columns.wasm")} not built, run npm run build) + XNNPACK matMul`,
        );
        report = { backend: "wasm", provider: "@tensorflow/tfjs-backend-wasm", gpu: "n/a", skipped, notes };
      }
    } else {
      await tf.setBackend("cpu");
      report = { backend: "cpu", provider: "@tensorflow/tfjs (cpu)", gpu: "n/a", skipped, notes };
    }
    if (report) break;
  }
  if (!report) {
    throw new Error(`no tfjs backend could start: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join("; ")}`);
  }
  await tf.ready();
  registerConv3dTransposeGradient(); // a tfjs gap on every backend
  current = report;
  log(describeBackend(report));
  return report;
}

export function describeBackend(r: BackendReport): string {
  const gpu = r.backend === "tensorflow" || r.backend === "webgpu" ? `, GPU in use: ${r.gpu}` : "";
  const lines = [`backend: ${r.backend} (${r.provider})${gpu}${r.adapter ? `, adapter: ${describeAdapter(r.adapter)}` : ""}`];
  for (const s of r.skipped) lines.push(`  skipped ${s.provider}: ${s.reason}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join("\n");
}

export function backendReport(): BackendReport | undefined {
  return current;
}
