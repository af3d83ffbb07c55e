/** Slice on the wasm backend, in a few row copies (slice-plan.ts); other dtypes go to the stock kernel. */
import * as tf from "@tensorflow/tfjs";
import { fastSlice } from "./fast-slice.js";
import { fourBytes, wasmKernel, type TypedKernel, type TensorInfo } from "./wasm-backend.js";

type SliceKernel = TypedKernel<{ x: TensorInfo }, tf.SliceAttrs>;

/** The kit's Slice over `stock` (the backend's own, looked up at registration). */
export function sliceConfig(stock: SliceKernel): tf.KernelConfig {
  return wasmKernel<{ x: TensorInfo }, tf.SliceAttrs>(tf.Slice, (args) => {
    const { x } = args.inputs;
    if (!fourBytes(x)) return stock.kernelFunc(args);
    const [b, s] = tf.slice_util.parseSliceParams(x, args.attrs.begin, args.attrs.size);
    return fastSlice(args.backend, x, b, s);
  });
}
