/**
 * The buffer arena of the kit's wasm convolution kernels (Conv3D.ts and its two gradients): buffers on the
 * wasm backend's heap, the column loops (columns.wasm, or JavaScript when it is not built), and the
 * backend's own BatchMatMul (XNNPACK) for the products.
 */
import * as tf from "@tensorflow/tfjs";
import { type Buffer32, type ColumnLoops, type ConvArena, type ConvGeometry, jsColumnLoops } from "../conv3d-im2col.js";
import { wasmColumns, wasmKernelOf, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";

export interface WasmBuf extends Buffer32 {
  id: TensorInfo;
}

const arenas = new WeakMap<WasmBackendLike, ConvArena<WasmBuf>>();

let forceJsLoops = false;

/** Run the convolution kernels on the portable JavaScript column loops (tests compare both). */
export function useJavaScriptColumnLoops(on: boolean): void {
  forceJsLoops = on;
}

/**
 * The buffer arena of a wasm backend: where the convolution kernels allocate their column and result
 * buffers (on the backend's heap, as tensors), the column loops, and XNNPACK's product. Also used by the
 * convolution worker on its own backend.
 */
export function wasmArena(backend: WasmBackendLike): ConvArena<WasmBuf> {
  const known = arenas.get(backend);
  if (known) return known;
  const matMul = wasmKernelOf<{ a: TensorInfo; b: TensorInfo }, tf.BatchMatMulAttrs>(tf.BatchMatMul).kernelFunc;
  const view = (b: WasmBuf) => backend.typedArrayFromHeap(b.id) as Float32Array;
  const fast = wasmColumns(backend);
  const ptr = (buf: WasmBuf, b: number, perItem: number) => view(buf).byteOffset + 4 * b * perItem;
  const item = (g: ConvGeometry) => g.inD * g.inH * g.inW * g.cin;
  const wasmLoops: ColumnLoops<WasmBuf> | undefined = fast && {
    im2col: (g: ConvGeometry, x: WasmBuf, b: number, l0: number, l1: number, col: WasmBuf) => fast.im2col(g, ptr(x, b, item(g)), l0, l1, ptr(col, 0, 0)),
    col2imAdd: (g: ConvGeometry, col: WasmBuf, b: number, l0: number, l1: number, dx: WasmBuf) =>
      fast.col2imAdd(g, ptr(col, 0, 0), l0, l1, ptr(dx, b, item(g))),
    im2colTransposed: (g: ConvGeometry, x: WasmBuf, b: number, l0: number, l1: number, colT: WasmBuf) =>
      fast.im2colTransposed(g, ptr(x, b, item(g)), l0, l1, ptr(colT, 0, 0)),
  };
  const jsLoops = jsColumnLoops(view);
  // Chosen per call, so tests can switch to the JavaScript loops (useJavaScriptColumnLoops).
  const columns: ColumnLoops<WasmBuf> = {
    im2col: (...a) => (wasmLoops && !forceJsLoops ? wasmLoops : jsLoops).im2col(...a),
    col2imAdd: (...a) => (wasmLoops && !forceJsLoops ? wasmLoops : jsLoops).col2imAdd(...a),
    im2colTransposed: (...a) => (wasmLoops && !forceJsLoops ? wasmLoops : jsLoops).im2colTransposed(...a),
  };
  const m: ConvArena<WasmBuf> = {
    alloc: (n) => ({ id: backend.makeOutput([n], "float32") }),
    free: (b) => void backend.disposeData(b.id.dataId, true),
    view,
    columns,
    matmul(a, ar, ac, b, br, bc, transA, transB) {
      const out = matMul({
        inputs: { a: { ...a.id, shape: [1, ar, ac] }, b: { ...b.id, shape: [1, br, bc] } },
        backend,
        attrs: { transposeA: transA, transposeB: transB },
      }) as TensorInfo;
      return { id: out };
    },
  };
  arenas.set(backend, m);
  return m;
}

/** The result buffer becomes the kernel's output tensor, with its real shape. */
export function asOutput(buf: WasmBuf, shape: number[]): TensorInfo {
  return { dataId: buf.id.dataId, shape, dtype: "float32" };
}
