/**
 * Pick the fastest working tfjs backend: @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node, then
 * wasm, then cpu. MASSIVE_BACKEND=tensorflow|wasm|cpu forces one. Says which one runs, why faster ones
 * were skipped, and whether a GPU is really in use (tfjs-node-gpu 4.22 is built on libtensorflow 2.9.1:
 * it needs CUDA 11.2 + cuDNN 8.1 and silently falls back to the CPU without them).
 * This is the only file in src/ that loads a backend package.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { kitRoot } from "./util/paths.js";
import { registerWasmConv3dKernels } from "./kernels/wasm-kernels.js";
import { columnsWasmPath } from "./kernels/columns-wasm.js";
import { registerConv3dTransposeGradient } from "./model/transpose-grad.js";
import * as tf from "@tensorflow/tfjs";

export type BackendName = "tensorflow" | "wasm" | "cpu";

export interface BackendReport {
  backend: BackendName;
  /** The package that provides it. */
  provider: string;
  /** For the tensorflow backend: is a GPU device really used? */
  gpu: "yes" | "no" | "unknown" | "n/a";
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
    if (process.env.MASSIVE_STOCK_KERNELS !== "1") registerWasmConv3dKernels();
    return (await tf.setBackend("wasm")) ? undefined : "wasm backend failed to initialise";
  } catch (e) {
    return `wasm backend failed to initialise: ${(e as Error).message}`;
  }
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
  const forced = opts.force ?? (process.env.MASSIVE_BACKEND as BackendName | undefined);
  if (forced && !["tensorflow", "wasm", "cpu"].includes(forced)) {
    throw new Error(`MASSIVE_BACKEND must be tensorflow, wasm or cpu, got "${forced}"`);
  }
  const skipped: BackendReport["skipped"] = [];
  const notes: string[] = [];
  let report: BackendReport | undefined;
  const order: BackendName[] = forced ? [forced] : ["tensorflow", "wasm", "cpu"];
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
        report = { backend: "tensorflow", provider: pkg, gpu, skipped, notes };
        break;
      }
    } else if (name === "wasm") {
      const why = await tryWasm();
      if (why) skipped.push({ provider: "@tensorflow/tfjs-backend-wasm", reason: why });
      else {
        notes.push(
          process.env.MASSIVE_STOCK_KERNELS === "1"
            ? "MASSIVE_STOCK_KERNELS=1: stock wasm Conv3D kernels (their input gradient is wrong in tfjs 4.22)"
            : existsSync(columnsWasmPath())
              ? "Conv3D kernels: im2col (columns.wasm, SIMD) + XNNPACK matMul; fast Slice/SplitV (src/kernels)"
              : `Conv3D kernels: im2col (JavaScript loops: ${columnsWasmPath()} not built, run npm run build) + XNNPACK matMul`,
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
  const lines = [`backend: ${r.backend} (${r.provider})${r.backend === "tensorflow" ? `, GPU in use: ${r.gpu}` : ""}`];
  for (const s of r.skipped) lines.push(`  skipped ${s.provider}: ${s.reason}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join("\n");
}

export function backendReport(): BackendReport | undefined {
  return current;
}
