/** adamw.wasm (the AdamW update, four elements at a time) instantiated on a wasm heap. */
import { instantiateOnHeap, type WasmHeap } from "./columns-wasm.js";

export interface WasmAdamW {
  /** The update of 4 quads elements (byte pointers); see adamw.wat. */
  adamw(p0: number, m0: number, v0: number, g: number, p1: number, m1: number, v1: number, quads: number, ...scalars: number[]): void;
}

/** Undefined when the module was not built (npm run build). */
export function loadWasmAdamW(memory: WasmHeap): WasmAdamW | undefined {
  const exports = instantiateOnHeap("adamw.wasm", memory);
  return exports && { adamw: exports.adamw as WasmAdamW["adamw"] };
}
