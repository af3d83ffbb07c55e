/**
 * SplitV on the wasm backend: one row-copy slice per part (the stock kernel copies rank-5 tensors element
 * by element; the gradient of a U-Net skip connection's concat took ~40% of a training step).
 */
import * as tf from "@tensorflow/tfjs";
import { fastSlice } from "./fast-slice.js";
import { fourBytes, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";

/** The kit's SplitV over `stock` (the backend's own kernel function, looked up at registration). */
export function splitVConfig(stock: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: tf.SplitV,
    backendName: "wasm",
    kernelFunc: (args) => {
      const x = (args.inputs as { x: TensorInfo }).x;
      if (!fourBytes(x)) return stock(args);
      const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
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
  };
}
