/** Slice on the wasm backend, in a few row copies (slice-plan.ts); other dtypes go to the stock kernel. */
import * as tf from "@tensorflow/tfjs";
import { fastSlice } from "./fast-slice.js";
import { fourBytes, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";

/** The kit's Slice over `stock` (the backend's own kernel function, looked up at registration). */
export function sliceConfig(stock: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: tf.Slice,
    backendName: "wasm",
    kernelFunc: (args) => {
      const x = (args.inputs as { x: TensorInfo }).x;
      if (!fourBytes(x)) return stock(args);
      const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
      const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, begin, size);
      return fastSlice(args.backend as unknown as WasmBackendLike, x, b, s);
    },
  };
}
