/**
 * Conv3D, Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 for the tfjs wasm backend, as im2col/col2im
 * around the backend's own BatchMatMul (XNNPACK). They replace the stock kernels, which are slow
 * (about 1 GFLOP/s) and, in tfjs-backend-wasm 4.22, wrong: the stock Conv3DBackpropInputV2 fails the
 * adjoint identity <conv(x), dy> = <x, dx>, and Conv3DBackpropFilterV2 is wrong for stride 2 (see
 * test/kernels.test.ts), so training through them silently uses wrong gradients.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type Buffer32,
  type ConvGeometry,
  type ColumnLoops,
  type ConvMemory,
  jsColumnLoops,
} from "./conv3d-im2col.js";
import { loadWasmColumns, webAssembly, type WasmColumns, type WasmHeap } from "./columns-wasm.js";
import { planSlice, runSlicePlan } from "./slice-plan.js";
import { filterGradInParts, forwardInParts, inputGradInParts } from "./conv3d-parallel.js";
import { convWorker } from "./conv-worker-pool.js";

interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: "float32" | "int32" | "bool" | "string" | "complex64";
}

interface WasmBackendLike {
  wasm: { asm?: Record<string, unknown> };
  makeOutput(shape: number[], dtype: TensorInfo["dtype"]): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

interface WasmBuf extends Buffer32 {
  id: TensorInfo;
}

const memories = new WeakMap<WasmBackendLike, ConvMemory<WasmBuf>>();
const compiled = new WeakMap<WasmBackendLike, WasmColumns | null>();

let forceJsLoops = false;

/** Run the convolution kernels on the portable JavaScript column loops (tests compare both). */
export function useJavaScriptColumnLoops(on: boolean): void {
  forceJsLoops = on;
}

/** Which column loops the kernels use: "wasm" (columns.wasm) or "js" (module not built / not loadable). */
export let columnLoopsInUse: "wasm" | "js" | undefined;

/** columns.wasm on this backend's heap, or undefined (JavaScript loops) when it is not built. */
function wasmColumns(backend: WasmBackendLike): WasmColumns | undefined {
  if (!compiled.has(backend)) {
    const heap = Object.values(backend.wasm.asm ?? {}).find((v): v is WasmHeap => v instanceof webAssembly.Memory);
    compiled.set(backend, (heap && loadWasmColumns(heap)) || null);
    columnLoopsInUse = compiled.get(backend) ? "wasm" : "js";
  }
  return compiled.get(backend) ?? undefined;
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

/**
 * BatchMatMul around three costs of the stock wasm kernel, measured here:
 * - a transposed operand makes it ~10x slower (1.8 vs 21 GFLOP/s): transpose explicitly, multiply plainly;
 * - XNNPACK packs the second operand on every call at ~10 ns a float (a [16384, 256] second operand cost
 *   40 ms for a 4 ms product): when the first operand is much smaller, compute C^T = B^T A^T instead;
 * - batched products (batch > 1) run a plain loop at ~1.5 GFLOP/s: when each batch's second operand is
 *   small, run one XNNPACK product per batch item instead.
 * Other shapes (broadcast batch dimensions) go to the stock kernel.
 */
function fastBatchMatMul(): tf.KernelConfig {
  const stockConfig = tf.getKernel("BatchMatMul", "wasm")!;
  const stock = stockConfig.kernelFunc;
  const transposeKernel = tf.getKernel("Transpose", "wasm")!.kernelFunc;
  return {
    kernelName: "BatchMatMul",
    backendName: "wasm",
    setupFunc: stockConfig.setupFunc, // binds the wasm function the stock kernel calls
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const backend = args.backend as unknown as WasmBackendLike;
      const temps: TensorInfo[] = [];
      const plain = (x: TensorInfo, y: TensorInfo) =>
        stock({ inputs: { a: x, b: y } as never, backend: args.backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } as never }) as TensorInfo;
      const swapLast = (t: TensorInfo) => {
        const perm = t.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        const out = transposeKernel({ inputs: { x: t } as never, backend: args.backend, attrs: { perm } as never }) as TensorInfo;
        temps.push(out);
        return out;
      };
      const free = () => temps.forEach((t) => backend.disposeData(t.dataId, true));
      const r = a.shape.length;
      const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
      const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
      if (!sameBatch || a.dtype !== "float32" || b.dtype !== "float32") {
        // Stock path, transposes made explicit.
        const out = plain(attrs.transposeA ? swapLast(a) : a, attrs.transposeB ? swapLast(b) : b);
        free();
        return out;
      }
      const [M, K] = attrs.transposeA ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]];
      const N = attrs.transposeB ? b.shape[r - 2] : b.shape[r - 1];
      const batch = batchA.reduce((x, y) => x * y, 1);
      const outShape = [...batchA, M, N];
      if (batch === 1) {
        // Relative costs per float: packing ~10, transposing ~6.5 (both measured on this machine).
        const direct = (attrs.transposeA ? 6.5 * M * K : 0) + (attrs.transposeB ? 6.5 * K * N : 0) + 10 * K * N;
        const swapped = (attrs.transposeB ? 0 : 6.5 * K * N) + (attrs.transposeA ? 0 : 6.5 * K * M) + 10 * K * M + 6.5 * M * N;
        if (!attrs.transposeA && !attrs.transposeB && direct <= swapped) return stock(args);
        if (direct <= swapped) {
          const out = plain(attrs.transposeA ? swapLast(a) : a, attrs.transposeB ? swapLast(b) : b);
          free();
          return out;
        }
        // C^T = op(B)^T op(A)^T: op(B)^T is b itself when transposed, else b transposed (same for a).
        const bt = attrs.transposeB ? b : swapLast(b);
        const at = attrs.transposeA ? a : swapLast(a);
        const ct = plain(bt, at); // [.., N, M]
        temps.push(ct);
        const c = swapLast(ct);
        temps.pop(); // c is the result, not a temporary
        free();
        return { ...c, shape: outShape } as never;
      }
      if (attrs.transposeA || K * N > 65536) {
        const out = plain(attrs.transposeA ? swapLast(a) : a, attrs.transposeB ? swapLast(b) : b);
        free();
        return out;
      }
      // One XNNPACK product per batch item (each second operand is small to pack).
      const bPlain = attrs.transposeB ? swapLast(b) : b;
      const out = backend.makeOutput(outShape, "float32");
      for (let i = 0; i < batch; i++) {
        const ai = backend.makeOutput([M, K], "float32");
        const bi = backend.makeOutput([K, N], "float32");
        (backend.typedArrayFromHeap(ai) as Float32Array).set((backend.typedArrayFromHeap(a) as Float32Array).subarray(i * M * K, (i + 1) * M * K));
        (backend.typedArrayFromHeap(bi) as Float32Array).set((backend.typedArrayFromHeap(bPlain) as Float32Array).subarray(i * K * N, (i + 1) * K * N));
        const ci = plain(ai, bi);
        (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(ci) as Float32Array, i * M * N);
        [ai, bi, ci].forEach((t) => backend.disposeData(t.dataId, true));
      }
      free();
      return out as never;
    },
  };
}

/** x[begin : begin + size] as a new tensor, in a few row copies (see slice-plan.ts); 4-byte dtypes. */
function fastSlice(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const plan = planSlice(x.shape, begin, size);
  const fast = wasmColumns(backend);
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  if (fast) {
    const [xp, op] = [xv.byteOffset, ov.byteOffset];
    runSlicePlan(plan, (d, s, rows, len, ds, ss) => fast.copyRows(op + 4 * d, xp + 4 * s, rows, 4 * len, 4 * ds, 4 * ss));
  } else {
    runSlicePlan(plan, (d, s, rows, len, ds, ss) => {
      for (let r = 0; r < rows; r++) ov.set(xv.subarray(s + r * ss, s + r * ss + len), d + r * ds);
    });
  }
  return out;
}

const fourBytes = (t: TensorInfo) => t.dtype === "float32" || t.dtype === "int32";

/**
 * Concat, Slice and SplitV for the wasm backend: the stock ones copy rank-5 tensors element by element
 * or row by row (the concat gradient of a U-Net skip connection took ~40% of a training step); other
 * dtypes go to the stock kernels.
 */
function sliceKernels(): tf.KernelConfig[] {
  const stockSlice = tf.getKernel("Slice", "wasm")!.kernelFunc;
  const stockSplit = tf.getKernel("SplitV", "wasm")!.kernelFunc;
  const stockConcat = tf.getKernel("Concat", "wasm")!.kernelFunc;
  return [
    {
      // Concat row by row in one strided copy per input (stock: a subarray per row, ~5 ms for a U-Net skip).
      kernelName: "Concat",
      backendName: "wasm",
      kernelFunc: (args) => {
        const inputs = args.inputs as unknown as TensorInfo[];
        const backend = args.backend as unknown as WasmBackendLike;
        const fast = wasmColumns(backend);
        const size = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);
        const parts = inputs.filter((t) => size(t) > 0);
        if (!fast || parts.length < 2 || !parts.every(fourBytes)) return stockConcat(args);
        const axis = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, parts[0].shape)[0];
        tf.backend_util.assertParamsConsistent(parts.map((t) => t.shape), axis);
        const out = backend.makeOutput(tf.backend_util.computeOutShape(parts.map((t) => t.shape), axis), parts[0].dtype);
        const rows = parts[0].shape.slice(0, axis).reduce((a, b) => a * b, 1);
        const inner = parts.map((t) => size(t) / rows);
        const total = inner.reduce((a, b) => a + b, 0);
        let offset = 0;
        parts.forEach((t, i) => {
          const dst = backend.typedArrayFromHeap(out).byteOffset + 4 * offset;
          fast.copyRows(dst, backend.typedArrayFromHeap(t).byteOffset, rows, 4 * inner[i], 4 * total, 4 * inner[i]);
          offset += inner[i];
        });
        return out as never;
      },
    },
    {
      kernelName: "Slice",
      backendName: "wasm",
      kernelFunc: (args) => {
        const x = (args.inputs as { x: TensorInfo }).x;
        if (!fourBytes(x)) return stockSlice(args);
        const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
        const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, begin, size);
        return fastSlice(args.backend as unknown as WasmBackendLike, x, b, s);
      },
    },
    {
      kernelName: "SplitV",
      backendName: "wasm",
      kernelFunc: (args) => {
        const x = (args.inputs as { x: TensorInfo }).x;
        if (!fourBytes(x)) return stockSplit(args);
        const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
        const ax = tf.util.parseAxisParam(axis, x.shape)[0];
        const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
        const begin = x.shape.map(() => 0);
        return sizes.map((n) => {
          const size = x.shape.slice();
          size[ax] = n;
          const out = fastSlice(args.backend as unknown as WasmBackendLike, x, begin.slice(), size);
          begin[ax] += n;
          return out;
        }) as never;
      },
    },
  ];
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
  kernels.push(fastBatchMatMul(), ...sliceKernels());
  for (const k of kernels) {
    tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(k);
  }
}
