/**
 * Transpose on the wasm backend: permutations that keep the last axis as row copies; swaps of the last two
 * axes as 4x4 register transposes (stock: ~6.5 ns a float, which made the matMul gradients' explicit
 * transposes costly). Others, and other dtypes, go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { runSlicePlan } from "../slice-plan.js";
import { fourBytes, wasmColumns, wasmKernel, type TypedKernel, type TensorInfo } from "./wasm-backend.js";

type TransposeKernel = TypedKernel<{ x: TensorInfo }, tf.TransposeAttrs>;

/** The kit's Transpose over `stock` (the backend's own, looked up at registration). */
export function transposeConfig(stock: TransposeKernel): tf.KernelConfig {
  return wasmKernel<{ x: TensorInfo }, tf.TransposeAttrs>(
    tf.Transpose,
    (args) => {
      const { x } = args.inputs;
      const { perm } = args.attrs;
      const { backend } = args;
      const fast = wasmColumns(backend);
      const n = x.shape.length;
      const moved = perm.some((p, i) => p !== i);
      if (!fast || !fourBytes(x) || n < 2 || !moved || x.shape.some((d) => d === 0)) return stock.kernelFunc(args);
      const out = backend.makeOutput(
        perm.map((p) => x.shape[p]),
        x.dtype,
      );
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
        return stock.kernelFunc(args);
      }
      return out;
    },
    stock.setupFunc, // binds the wasm function the stock kernel calls
  );
}
