/**
 * What the kit's wasm kernels need of tfjs-backend-wasm beyond the public API: its tensor records, its
 * heap, and columns.wasm instantiated on that heap (once per backend).
 */
import { loadWasmColumns, webAssembly, type WasmColumns, type WasmHeap } from "../columns-wasm.js";

export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: "float32" | "int32" | "bool" | "string" | "complex64";
}

export interface WasmBackendLike {
  wasm: { asm?: Record<string, unknown> };
  makeOutput(shape: number[], dtype: TensorInfo["dtype"]): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

const compiled = new WeakMap<WasmBackendLike, WasmColumns | null>();

/** Which column loops the kernels use: "wasm" (columns.wasm) or "js" (module not built / not loadable). */
export let columnLoopsInUse: "wasm" | "js" | undefined;

/** columns.wasm on this backend's heap, or undefined (JavaScript loops) when it is not built. */
export function wasmColumns(backend: WasmBackendLike): WasmColumns | undefined {
  if (!compiled.has(backend)) {
    const heap = Object.values(backend.wasm.asm ?? {}).find((v): v is WasmHeap => v instanceof webAssembly.Memory);
    compiled.set(backend, (heap && loadWasmColumns(heap)) || null);
    columnLoopsInUse = compiled.get(backend) ? "wasm" : "js";
  }
  return compiled.get(backend) ?? undefined;
}

/** Tensors the copy kernels move as 4-byte words (other dtypes go to the stock kernels). */
export const fourBytes = (t: TensorInfo): boolean => t.dtype === "float32" || t.dtype === "int32";
