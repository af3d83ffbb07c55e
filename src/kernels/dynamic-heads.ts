/**
 * The Universal Model's per-class dynamic heads (8 -> 8 -> 8 -> 1, 1x1x1 convolutions whose weights the
 * controller makes for each class) as one fused operation with its own gradient, on heads.wasm (generated
 * by scripts/heads-wat.mjs). The same function as the tf-op form in universal-unet.ts, which took about
 * half of a CPU training step in products, transposes, bias adds and ReLUs over [C, V, 8] tensors; fused,
 * each voxel's hidden units stay in registers and are recomputed in the backward pass instead of stored.
 *
 * Used on the CPU backends (wasm, cpu) for the model's 8 head channels; the inputs are read on the host
 * (dataSync), so webgpu and tensorflow keep the tf-op form. With the convolution worker up, half of the
 * classes run there (forwardHost, backwardHost), with the same results.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { env } from "../env.js";
import { kitRoot } from "../util/paths.js";
import { webAssembly, type WasmHeap } from "./columns-wasm.js";
import { convWorker, type HeadsJob, type PartRunner } from "./conv-worker-pool.js";

/** Channels of the heads the fused kernel computes (the Universal Model's, and the kit's every profile's). */
export const FUSED_HEAD_CHANNELS = 8;
/** Parameters of one class's head: w1 [8, 8], w2 [8, 8], w3 [8], b1 [8], b2 [8], b3. */
export const HEAD_PARAMS = 2 * 8 * 8 + 3 * 8 + 1;

type Call = (...args: number[]) => void;

interface HeadsModule {
  memory: WasmHeap;
  forward: Call;
  backward: Call;
  /** The backward pass storing each class's input-gradient term instead of adding it up. */
  backwardTerms: Call;
  addTerms: Call;
}

let loaded: HeadsModule | null | undefined;

function headsWasmPath(): string {
  return join(kitRoot(), "dist", "src", "kernels", "heads.wasm");
}

function load(): HeadsModule | null {
  if (loaded !== undefined) return loaded;
  const path = headsWasmPath();
  if (!existsSync(path)) return (loaded = null);
  const Memory = webAssembly.Memory as unknown as new (d: { initial: number }) => WasmHeap;
  const memory = new Memory({ initial: 1 });
  const instance = new webAssembly.Instance(new webAssembly.Module(readFileSync(path)), { env: { memory } });
  const e = instance.exports as Record<string, Call>;
  return (loaded = { memory, forward: e.forward, backward: e.backward, backwardTerms: e.backwardTerms, addTerms: e.addTerms });
}

/**
 * Whether dynamicHeads can run fused here: heads.wasm built, a CPU backend, 8 head channels, V a multiple
 * of 4, and MASSIVE_FUSED_HEADS not 0.
 */
export function canFuseHeads(headChannels: number, voxels: number): boolean {
  if (env("MASSIVE_FUSED_HEADS") === "0") return false;
  if (headChannels !== FUSED_HEAD_CHANNELS || voxels % 4 !== 0) return false;
  const backend = tf.getBackend();
  return (backend === "wasm" || backend === "cpu") && load() !== null;
}

/** Float views of consecutive regions of the module's memory, grown to fit (16-byte aligned). */
function regions(m: HeadsModule, sizes: number[]): { ptr: number; view: Float32Array }[] {
  const bytes = sizes.map((n) => Math.ceil((n * 4) / 16) * 16);
  const total = bytes.reduce((a, b) => a + b, 0);
  const have = m.memory.buffer.byteLength;
  if (total > have) m.memory.grow(Math.ceil((total - have) / 65536));
  let at = 0;
  return sizes.map((n, i) => {
    const r = { ptr: at, view: new Float32Array(m.memory.buffer, at, n) };
    at += bytes[i];
    return r;
  });
}

/** dst[j * rows + i] = src[i * cols + j]: [rows, cols] -> [cols, rows]. */
function transposeInto(dst: Float32Array, src: Float32Array, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) dst[j * rows + i] = src[o + j];
  }
}

/** [rows, cols] -> a new [cols, rows] array. */
function transposed(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  transposeInto(out, src, rows, cols);
  return out;
}

/**
 * The second thread (the convolution worker), when it is up, takes the last half of the classes: their
 * forward pass, and their backward pass with each class's input-gradient term stored, which the main
 * thread then adds into dxT after its own classes, in class order. Each class's logits and parameter
 * gradients are its own, and dxT gets the same float32 additions in the same order, so the results are
 * the same bits with or without the worker (test/dynamic-heads.test.ts).
 */
function worker(C: number): PartRunner | undefined {
  const w = convWorker();
  return C >= 2 && w?.available() ? w : undefined;
}

/** The worker's input-gradient terms take (C / 2) x 8 x V floats: above this, the backward pass stays on one thread. */
const MAX_TERM_FLOATS = 1 << 25; // 128 MB: 32 classes up to 64^3 voxels

function forwardHost(m: HeadsModule, x: Float32Array, dyn: Float32Array, V: number, C: number): Float32Array {
  const h = FUSED_HEAD_CHANNELS;
  const w = worker(C);
  const mine = w ? Math.ceil(C / 2) : C;
  const [xT, d, outT] = regions(m, [h * V, C * HEAD_PARAMS, C * V]);
  transposeInto(xT.view, x, V, h);
  d.view.set(dyn);
  let remote: Float32Array | undefined;
  if (w) {
    const Cw = C - mine;
    const arena = w.arena(h * V + Cw * HEAD_PARAMS + Cw * V);
    arena.set(xT.view, 0);
    arena.set(dyn.subarray(mine * HEAD_PARAMS), h * V);
    const out: [number, number] = [h * V + Cw * HEAD_PARAMS, Cw * V];
    w.start({ op: "heads-forward", V, C: Cw, xT: [0, h * V], dyn: [h * V, Cw * HEAD_PARAMS], out });
    remote = arena.subarray(out[0], out[0] + out[1]);
  }
  m.forward(xT.ptr, V, d.ptr, mine, outT.ptr);
  if (remote && w!.wait()) outT.view.set(remote, mine * V);
  else if (mine < C) m.forward(xT.ptr, V, d.ptr + mine * HEAD_PARAMS * 4, C - mine, outT.ptr + mine * V * 4);
  return transposed(outT.view, C, V); // [V, C]
}

function backwardHost(m: HeadsModule, x: Float32Array, dyn: Float32Array, dy: Float32Array, V: number, C: number): [Float32Array, Float32Array] {
  const h = FUSED_HEAD_CHANNELS;
  const half = Math.floor(C / 2);
  const w = half * FUSED_HEAD_CHANNELS * V <= MAX_TERM_FLOATS ? worker(C) : undefined;
  const mine = w ? C - half : C;
  const Cw = C - mine;
  const [xT, d, dyT, dxT, ddyn, acc, terms] = regions(m, [h * V, C * HEAD_PARAMS, C * V, h * V, C * HEAD_PARAMS, HEAD_PARAMS * 4, Cw * h * V]);
  transposeInto(xT.view, x, V, h);
  d.view.set(dyn);
  transposeInto(dyT.view, dy, V, C);
  dxT.view.fill(0);
  let remote: Float32Array | undefined;
  if (w) {
    const [dynAt, dyAt, outAt] = [h * V, h * V + Cw * HEAD_PARAMS, h * V + Cw * HEAD_PARAMS + Cw * V];
    const arena = w.arena(outAt + Cw * HEAD_PARAMS + Cw * h * V);
    arena.set(xT.view, 0);
    arena.set(dyn.subarray(mine * HEAD_PARAMS), dynAt);
    arena.set(dyT.view.subarray(mine * V), dyAt);
    const out: [number, number] = [outAt, Cw * HEAD_PARAMS + Cw * h * V];
    w.start({ op: "heads-backward", V, C: Cw, xT: [0, h * V], dyn: [dynAt, Cw * HEAD_PARAMS], dyT: [dyAt, Cw * V], out });
    remote = arena.subarray(out[0], out[0] + out[1]);
  }
  m.backward(xT.ptr, V, d.ptr, mine, dyT.ptr, dxT.ptr, ddyn.ptr, acc.ptr);
  if (Cw > 0) {
    const [pOff, vOff] = [mine * HEAD_PARAMS, mine * V];
    if (remote && w!.wait()) {
      ddyn.view.set(remote.subarray(0, Cw * HEAD_PARAMS), pOff);
      terms.view.set(remote.subarray(Cw * HEAD_PARAMS));
    } else m.backwardTerms(xT.ptr, V, d.ptr + pOff * 4, Cw, dyT.ptr + vOff * 4, terms.ptr, ddyn.ptr + pOff * 4, acc.ptr);
    m.addTerms(dxT.ptr, terms.ptr, Cw, V);
  }
  return [transposed(dxT.view, h, V), ddyn.view.slice()];
}

/** The worker's side of a HeadsJob: its inputs from the arena into this thread's heads module, the results back. */
export function runHeadsJob(job: HeadsJob, arena: Float32Array): void {
  const m = load();
  if (!m) throw new Error(`runHeadsJob: ${headsWasmPath()} is not built (npm run build)`);
  const { V, C } = job;
  const h = FUSED_HEAD_CHANNELS;
  const part = ([o, n]: [number, number]) => arena.subarray(o, o + n);
  if (job.op === "heads-forward") {
    const [xT, d, outT] = regions(m, [h * V, C * HEAD_PARAMS, C * V]);
    xT.view.set(part(job.xT));
    d.view.set(part(job.dyn));
    m.forward(xT.ptr, V, d.ptr, C, outT.ptr);
    arena.set(outT.view, job.out[0]);
    return;
  }
  if (!job.dyT) throw new Error("runHeadsJob: heads-backward needs dyT");
  const [xT, d, dyT, ddyn, acc, terms] = regions(m, [h * V, C * HEAD_PARAMS, C * V, C * HEAD_PARAMS, HEAD_PARAMS * 4, C * h * V]);
  xT.view.set(part(job.xT));
  d.view.set(part(job.dyn));
  dyT.view.set(part(job.dyT));
  m.backwardTerms(xT.ptr, V, d.ptr, C, dyT.ptr, terms.ptr, ddyn.ptr, acc.ptr);
  arena.set(ddyn.view, job.out[0]);
  arena.set(terms.view, job.out[0] + C * HEAD_PARAMS);
}

/**
 * Logits [V, C] of C classes' heads on features x [V, 8] with parameters dyn [C, 153] (the layout of
 * universal-unet.ts's applyDynamicHeads), differentiable in x and dyn. Call only where canFuseHeads.
 */
export function fusedDynamicHeads(x: tf.Tensor2D, dyn: tf.Tensor2D): tf.Tensor2D {
  const m = load();
  if (!m) throw new Error(`fusedDynamicHeads: ${headsWasmPath()} is not built (npm run build)`);
  const [V, h] = x.shape;
  const [C, P] = dyn.shape;
  if (h !== FUSED_HEAD_CHANNELS || P !== HEAD_PARAMS || V % 4 !== 0)
    throw new Error(`fusedDynamicHeads: needs x [V, 8] with V a multiple of 4 and dyn [C, ${HEAD_PARAMS}], got [${x.shape}] and [${dyn.shape}]`);
  const op = tf.customGrad((xs, ds, save) => {
    const xIn = xs as tf.Tensor2D;
    const dIn = ds as tf.Tensor2D;
    (save as tf.GradSaveFunc)([xIn, dIn]);
    const value = tf.tensor2d(forwardHost(m, xIn.dataSync() as Float32Array, dIn.dataSync() as Float32Array, V, C), [V, C]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [dx, ddyn] = backwardHost(m, saved[0].dataSync() as Float32Array, saved[1].dataSync() as Float32Array, dy.dataSync() as Float32Array, V, C);
      return [tf.tensor2d(dx, [V, h]), tf.tensor2d(ddyn, [C, P])];
    };
    return { value, gradFunc };
  });
  return op(x, dyn) as tf.Tensor2D;
}
