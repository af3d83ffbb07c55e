/** batchnorm-relu.wasm (BatchNorm + ReLU over [rows, C], four channels at a time) instantiated on a wasm heap. */
import { instantiateOnHeap, type WasmHeap } from "./columns-wasm.js";

/** Byte pointers; C floats a row (a multiple of 4); per-channel arrays have C floats. d = x - mean. */
export interface WasmBatchNormRelu {
  /** dst = sum over rows of d^2. */
  sumSquaredDeviations(dst: number, x: number, mean: number, rows: number, C: number): void;
  /** out = max(d a + beta, 0). */
  scaleShiftRelu(out: number, x: number, mean: number, a: number, beta: number, rows: number, C: number): void;
  /** g = dy where d a + beta > 0, else 0: sg = sum of g, sgd = sum of g d. */
  gradientSums(sg: number, sgd: number, x: number, dy: number, mean: number, a: number, beta: number, rows: number, C: number): void;
  /** dx = k1 g + k2 d + k3. */
  inputGradient(dx: number, x: number, dy: number, mean: number, a: number, beta: number, k1: number, k2: number, k3: number, rows: number, C: number): void;
}

/** Undefined when the module was not built (npm run build). */
export function loadWasmBatchNormRelu(memory: WasmHeap): WasmBatchNormRelu | undefined {
  const exports = instantiateOnHeap("batchnorm-relu.wasm", memory);
  return exports && (exports as unknown as WasmBatchNormRelu);
}
