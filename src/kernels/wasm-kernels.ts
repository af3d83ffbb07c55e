/**
 * Conv3D, Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 for the tfjs wasm backend, as im2col/col2im
 * around the backend's own BatchMatMul (XNNPACK), split over two threads (conv3d-parallel.ts), and the
 * registration of all the kit's wasm kernels (also batch-matmul.ts, copy-kernels.ts). The stock
 * convolution kernels are slow (about 1 GFLOP/s) and, in tfjs-backend-wasm 4.22, wrong: the stock
 * Conv3DBackpropInputV2 fails the adjoint identity <conv(x), dy> = <x, dx>, and Conv3DBackpropFilterV2
 * is wrong for stride 2 (see test/kernels.test.ts), so training through them uses wrong gradients.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type Buffer32,
  type ConvGeometry,
  type ColumnLoops,
  type ConvMemory,
  jsColumnLoops,
} from "./conv3d-im2col.js";
import { fastBatchMatMul } from "./batch-matmul.js";
import { copyKernels } from "./copy-kernels.js";
import { wasmColumns, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";
import { filterGradInParts, forwardInParts, inputGradInParts } from "./conv3d-parallel.js";
import { convWorker } from "./conv-worker-pool.js";

interface WasmBuf extends Buffer32 {
  id: TensorInfo;
}

export { columnLoopsInUse } from "./wasm-backend.js";

const memories = new WeakMap<WasmBackendLike, ConvMemory<WasmBuf>>();

let forceJsLoops = false;

/** Run the convolution kernels on the portable JavaScript column loops (tests compare both). */
export function useJavaScriptColumnLoops(on: boolean): void {
  forceJsLoops = on;
}

/** The convolution memory of a wasm backend (also used by the convolution worker on its own backend). */
export function convMemoryFor(backend: unknown): ConvMemory<WasmBuf> {
  return wasmMemory(backend as WasmBackendLike);
}

function wasmMemory(backend: WasmBackendLike): ConvMemory<WasmBuf> {
  const known = memories.get(backend);
  if (known) return known;
  const matMul = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc;
  const view = (b: WasmBuf) => backend.typedArrayFromHeap(b.id) as Float32Array;
  const fast = wasmColumns(backend);
  const ptr = (buf: WasmBuf, b: number, perItem: number) => view(buf).byteOffset + 4 * b * perItem;
  const item = (g: ConvGeometry) => g.inD * g.inH * g.inW * g.cin;
  const wasmLoops: ColumnLoops<WasmBuf> | undefined = fast && {
        im2col: (g: ConvGeometry, x: WasmBuf, b: number, l0: number, l1: number, col: WasmBuf) => fast.im2col(g, ptr(x, b, item(g)), l0, l1, ptr(col, 0, 0)),
        col2imAdd: (g: ConvGeometry, col: WasmBuf, b: number, l0: number, l1: number, dx: WasmBuf) => fast.col2imAdd(g, ptr(col, 0, 0), l0, l1, ptr(dx, b, item(g))),
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
  const m: ConvMemory<WasmBuf> = {
    alloc: (n) => ({ id: backend.makeOutput([n], "float32") }),
    free: (b) => void backend.disposeData(b.id.dataId, true),
    view,
    columns,
    matmul(a, ar, ac, b, br, bc, transA, transB) {
      const out = matMul({
        inputs: { a: { ...a.id, shape: [1, ar, ac] }, b: { ...b.id, shape: [1, br, bc] } } as never,
        backend: backend as never,
        attrs: { transposeA: transA, transposeB: transB } as never,
      }) as TensorInfo;
      return { id: out };
    },
  };
  memories.set(backend, m);
  return m;
}

function geometry(info: tf.backend_util.Conv3DInfo): ConvGeometry {
  if (info.dilationDepth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error("fast Conv3D kernels support dilation 1 only");
  }
  return {
    batch: info.batchSize,
    inD: info.inDepth,
    inH: info.inHeight,
    inW: info.inWidth,
    cin: info.inChannels,
    outD: info.outDepth,
    outH: info.outHeight,
    outW: info.outWidth,
    cout: info.outChannels,
    fd: info.filterDepth,
    fh: info.filterHeight,
    fw: info.filterWidth,
    sd: info.strideDepth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    padFront: info.padInfo.front,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

type Strides = [number, number, number] | number;
type Pad = "valid" | "same";

/** The result buffer becomes the kernel's output tensor, with its real shape. */
function asOutput(buf: WasmBuf, shape: number[]): TensorInfo {
  return { dataId: buf.id.dataId, shape, dtype: "float32" };
}

let registered = false;

/** Register the kit's wasm kernels over the stock ones (call after the wasm backend is registered). */
export function registerWasmConv3dKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: tf.KernelConfig[] = [
    {
      kernelName: "Conv3D",
      backendName: "wasm",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
        const { strides, pad, dilations } = attrs as unknown as { strides: Strides; pad: Pad; dilations: Strides };
        const info = tf.backend_util.computeConv3DInfo(
          x.shape as [number, number, number, number, number],
          filter.shape as [number, number, number, number, number],
          strides,
          dilations ?? 1,
          pad,
        );
        const m = wasmMemory(backend as unknown as WasmBackendLike);
        return asOutput(forwardInParts(m, geometry(info), { id: x }, { id: filter }, convWorker()), info.outShape);
      },
    },
    {
      kernelName: "Conv3DBackpropInputV2",
      backendName: "wasm",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
        const { strides, pad, inputShape } = attrs as unknown as { strides: Strides; pad: Pad; inputShape: number[] };
        const info = tf.backend_util.computeConv3DInfo(
          inputShape as [number, number, number, number, number],
          filter.shape as [number, number, number, number, number],
          strides,
          1,
          pad,
        );
        const m = wasmMemory(backend as unknown as WasmBackendLike);
        return asOutput(inputGradInParts(m, geometry(info), { id: dy }, { id: filter }, convWorker()), inputShape);
      },
    },
    {
      kernelName: "Conv3DBackpropFilterV2",
      backendName: "wasm",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
        const { strides, pad, filterShape } = attrs as unknown as { strides: Strides; pad: Pad; filterShape: number[] };
        const info = tf.backend_util.computeConv3DInfo(
          x.shape as [number, number, number, number, number],
          filterShape as [number, number, number, number, number],
          strides,
          1,
          pad,
        );
        const m = wasmMemory(backend as unknown as WasmBackendLike);
        return asOutput(filterGradInParts(m, geometry(info), { id: x }, { id: dy }, convWorker()), filterShape);
      },
    },
  ];
  kernels.push(fastBatchMatMul(), ...copyKernels());
  for (const k of kernels) {
    tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(k);
  }
}
