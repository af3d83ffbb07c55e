/**
 * Conv3D, Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 for the tfjs wasm backend, as im2col/col2im
 * around the backend's own BatchMatMul (XNNPACK). They replace the stock kernels, which are slow
 * (about 1 GFLOP/s) and, in tfjs-backend-wasm 4.22, wrong: the stock Conv3DBackpropInputV2 fails the
 * adjoint identity <conv(x), dy> = <x, dx>, and Conv3DBackpropFilterV2 is wrong for stride 2 (see
 * test/kernels.test.ts), so training through them silently uses wrong gradients.
 */
import * as tf from "@tensorflow/tfjs";
import {
  conv3dBackpropFilter,
  conv3dBackpropInput,
  conv3dForward,
  type Buffer32,
  type ConvGeometry,
  type ConvMemory,
} from "./conv3d-im2col.js";

interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: "float32";
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

interface WasmBuf extends Buffer32 {
  id: TensorInfo;
}

function wasmMemory(backend: WasmBackendLike): ConvMemory<WasmBuf> {
  const matMul = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc;
  return {
    alloc: (n) => ({ id: backend.makeOutput([n], "float32") }),
    free: (b) => void backend.disposeData(b.id.dataId, true),
    view: (b) => backend.typedArrayFromHeap(b.id),
    matmul(a, ar, ac, b, br, bc, transA, transB) {
      const out = matMul({
        inputs: { a: { ...a.id, shape: [1, ar, ac] }, b: { ...b.id, shape: [1, br, bc] } } as never,
        backend: backend as never,
        attrs: { transposeA: transA, transposeB: transB } as never,
      }) as TensorInfo;
      return { id: out };
    },
  };
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

/**
 * The stock wasm BatchMatMul runs ~10x slower when asked to transpose an operand (measured: 1.8 vs 21
 * GFLOP/s), and every matMul gradient asks for one. Transpose explicitly (cheap) and multiply plainly.
 */
function batchMatMulWithoutTransposes(): tf.KernelConfig {
  const stockConfig = tf.getKernel("BatchMatMul", "wasm")!;
  const stock = stockConfig.kernelFunc;
  const transpose = tf.getKernel("Transpose", "wasm")!.kernelFunc;
  return {
    kernelName: "BatchMatMul",
    backendName: "wasm",
    setupFunc: stockConfig.setupFunc, // binds the wasm function the stock kernel calls
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!attrs.transposeA && !attrs.transposeB) return stock(args);
      const backend = args.backend as unknown as WasmBackendLike;
      const swapLast = (t: TensorInfo) => {
        const perm = t.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        return transpose({ inputs: { x: t } as never, backend: args.backend, attrs: { perm } as never }) as TensorInfo;
      };
      const a2 = attrs.transposeA ? swapLast(a) : a;
      const b2 = attrs.transposeB ? swapLast(b) : b;
      const out = stock({ inputs: { a: a2, b: b2 } as never, backend: args.backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } as never });
      if (a2 !== a) backend.disposeData(a2.dataId, true);
      if (b2 !== b) backend.disposeData(b2.dataId, true);
      return out;
    },
  };
}

let registered = false;

/** Replace the wasm backend's 3D convolution kernels (call after the wasm backend is registered). */
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
        return asOutput(conv3dForward(m, geometry(info), { id: x }, { id: filter }), info.outShape);
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
        return asOutput(conv3dBackpropInput(m, geometry(info), { id: dy }, { id: filter }), inputShape);
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
        return asOutput(conv3dBackpropFilter(m, geometry(info), { id: x }, { id: dy }), filterShape);
      },
    },
  ];
  kernels.push(batchMatMulWithoutTransposes());
  for (const k of kernels) {
    tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(k);
  }
}
