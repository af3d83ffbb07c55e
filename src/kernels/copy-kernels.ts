import * as tf from "@tensorflow/tfjs";
import { planSlice, runSlicePlan } from "./slice-plan.js";
import { wasmColumns, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";

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
 * Concat, Slice, SplitV and Transpose for the wasm backend: the stock ones copy rank-5 tensors element by element
 * or row by row (the concat gradient of a U-Net skip connection took ~40% of a training step); other
 * dtypes go to the stock kernels.
 */
export function copyKernels(): tf.KernelConfig[] {
  const stockSlice = tf.getKernel("Slice", "wasm")!.kernelFunc;
  const stockSplit = tf.getKernel("SplitV", "wasm")!.kernelFunc;
  const stockConcat = tf.getKernel("Concat", "wasm")!.kernelFunc;
  const stockTransposeConfig = tf.getKernel("Transpose", "wasm")!;
  const stockTranspose = stockTransposeConfig.kernelFunc;
  return [
    {
      // Transposes that keep the last axis as row copies; swaps of the last two axes as 4x4 register
      // transposes (stock: ~6.5 ns a float, which made the matMul gradients' explicit transposes costly).
      kernelName: "Transpose",
      backendName: "wasm",
      setupFunc: stockTransposeConfig.setupFunc, // binds the wasm function the stock kernel calls
      kernelFunc: (args) => {
        const x = (args.inputs as { x: TensorInfo }).x;
        const perm = (args.attrs as unknown as { perm: number[] }).perm;
        const backend = args.backend as unknown as WasmBackendLike;
        const fast = wasmColumns(backend);
        const n = x.shape.length;
        const moved = perm.some((p, i) => p !== i);
        if (!fast || !fourBytes(x) || n < 2 || !moved || x.shape.some((d) => d === 0)) return stockTranspose(args);
        const out = backend.makeOutput(perm.map((p) => x.shape[p]), x.dtype);
        const xp = backend.typedArrayFromHeap(x).byteOffset;
        const op = backend.typedArrayFromHeap(out).byteOffset;
        const strides = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((a, b) => a * b, 1));
        const leadingKept = perm.slice(0, n - 2).every((p, i) => p === i);
        if (perm[n - 1] === n - 1) {
          const outShape = perm.map((p) => x.shape[p]);
          const plan = {
            outerCounts: outShape.slice(0, n - 2),
            outerStrides: perm.slice(0, n - 2).map((p) => strides[p]),
            rows: outShape[n - 2],
            rowStride: strides[perm[n - 2]],
            rowLength: x.shape[n - 1],
            start: 0,
          };
          runSlicePlan(plan, (d, s, rows, len, ds, ss) => fast.copyRows(op + 4 * d, xp + 4 * s, rows, 4 * len, 4 * ds, 4 * ss));
        } else if (leadingKept && perm[n - 2] === n - 1 && perm[n - 1] === n - 2) {
          const batch = x.shape.slice(0, n - 2).reduce((a, b) => a * b, 1);
          fast.transposeLast2(op, xp, batch, x.shape[n - 2], x.shape[n - 1]);
        } else {
          backend.disposeData(out.dataId, true);
          return stockTranspose(args);
        }
        return out as never;
      },
    },
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

