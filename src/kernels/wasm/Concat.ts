/**
 * Concat on the wasm backend, row by row in one strided copy per input (stock: a subarray per row, ~5 ms
 * for a U-Net skip connection). Other dtypes go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { fourBytes, wasmColumns, wasmKernel, type TypedKernel, type TensorInfo } from "./wasm-backend.js";

/** tfjs passes Concat's inputs as an array. */
type ConcatKernel = TypedKernel<TensorInfo[], tf.ConcatAttrs>;

/** The kit's Concat over `stock` (the backend's own, looked up at registration). */
export function concatConfig(stock: ConcatKernel): tf.KernelConfig {
  return wasmKernel<TensorInfo[], tf.ConcatAttrs>(tf.Concat, (args) => {
    const { inputs, backend } = args;
    const fast = wasmColumns(backend);
    const size = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);
    const parts = inputs.filter((t) => size(t) > 0);
    if (!fast || parts.length < 2 || !parts.every(fourBytes)) return stock.kernelFunc(args);
    const axis = tf.util.parseAxisParam(args.attrs.axis, parts[0].shape)[0];
    tf.backend_util.assertParamsConsistent(
      parts.map((t) => t.shape),
      axis,
    );
    const out = backend.makeOutput(
      tf.backend_util.computeOutShape(
        parts.map((t) => t.shape),
        axis,
      ),
      parts[0].dtype,
    );
    const rows = parts[0].shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = parts.map((t) => size(t) / rows);
    const total = inner.reduce((a, b) => a + b, 0);
    let offset = 0;
    parts.forEach((t, i) => {
      const dst = backend.typedArrayFromHeap(out).byteOffset + 4 * offset;
      fast.copyRows(dst, backend.typedArrayFromHeap(t).byteOffset, rows, 4 * inner[i], 4 * total, 4 * inner[i]);
      offset += inner[i];
    });
    return out;
  });
}
