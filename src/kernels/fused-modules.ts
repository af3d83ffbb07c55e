/**
 * The interfaces of the small WebAssembly modules behind the fused kernels (adamw.wat, sigmoid-bce.wat,
 * batchnorm-relu.wat), and their loader. All pointers are byte offsets into the wasm backend's heap.
 */
import { instantiateOnHeap, type WasmHeap } from "./columns-wasm.js";

export interface WasmAdamW {
  /** The AdamW update of 4 quads elements; see adamw.wat for the scalars' order. */
  adamw(p0: number, m0: number, v0: number, g: number, p1: number, m1: number, v1: number, quads: number, ...scalars: number[]): void;
}

export interface WasmSigmoidBce {
  /** p[i] = sigmoid(x[i]), l[i] = max(x[i], 0) - x[i] y[i] + log1p(exp(-|x[i]|)) for i < 4 quads. */
  sigmoidBce(x: number, y: number, p: number, l: number, quads: number): void;
}

/** One batch item x [D, H, W, C] (D, H, W even, C a multiple of 4); see max-pool.wat. */
export interface WasmMaxPool {
  /** out [D/2, H/2, W/2, C]: 2x2x2 windows, stride 2. */
  maxPool2(out: number, x: number, D: number, H: number, W: number, C: number): void;
  /** dx [D, H, W, C] from dy [D/2, H/2, W/2, C]. */
  maxPool2Grad(dx: number, x: number, dy: number, D: number, H: number, W: number, C: number): void;
}

/** x as [rows, C] (C a multiple of 4); per-channel arrays have C floats; d = x - mean. */
export interface WasmBatchNormRelu {
  /** dst = sum over rows of d^2. */
  sumSquaredDeviations(dst: number, x: number, mean: number, rows: number, C: number): void;
  /** out = max(d a + beta, 0). */
  scaleShiftRelu(out: number, x: number, mean: number, a: number, beta: number, rows: number, C: number): void;
  /** g = dy where d a + beta > 0, else 0: sg = sum of g, sgd = sum of g d, sga = sum of g a. */
  gradientSums(sg: number, sgd: number, sga: number, x: number, dy: number, mean: number, a: number, beta: number, rows: number, C: number): void;
  /** dst = sum of k (2 d). */
  squareGradientSum(dst: number, x: number, mean: number, k: number, rows: number, C: number): void;
  /** dx = (g a + k (2 d)) + c0. */
  inputGradient(dx: number, x: number, dy: number, mean: number, a: number, beta: number, k: number, c0: number, rows: number, C: number): void;
}

/** A loader of one built module's exports as interface M on a heap (undefined when not built: npm run build). */
export const moduleLoader =
  <M>(file: string) =>
  (memory: WasmHeap): M | undefined =>
    instantiateOnHeap(file, memory) as M | undefined;
