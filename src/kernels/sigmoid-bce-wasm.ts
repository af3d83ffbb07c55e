/** sigmoid-bce.wasm (the loss's element-wise sigmoid and BCE, four at a time) instantiated on a wasm heap. */
import { instantiateOnHeap, type WasmHeap } from "./columns-wasm.js";

export interface WasmSigmoidBce {
  /** p[i] = sigmoid(x[i]), l[i] = max(x[i], 0) - x[i] y[i] + log1p(exp(-|x[i]|)) for i < 4 quads (byte pointers). */
  sigmoidBce(x: number, y: number, p: number, l: number, quads: number): void;
}

/** Undefined when the module was not built (npm run build). */
export function loadWasmSigmoidBce(memory: WasmHeap): WasmSigmoidBce | undefined {
  const exports = instantiateOnHeap("sigmoid-bce.wasm", memory);
  return exports && { sigmoidBce: exports.sigmoidBce as WasmSigmoidBce["sigmoidBce"] };
}
