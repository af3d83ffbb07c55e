/**
 * SplitV on the wasm backend: one row-copy slice per part (the stock kernel copies rank-5 tensors element
 * by element; the gradient of a U-Net skip connection's concat took ~40% of a training step).
 */
import * as tf from "@tensorflow/tfjs";
import { fastSlice } from "./fast-slice.js";
import { fourBytes, wasmKernel, type TypedKernel, type TensorInfo } from "./wasm-backend.js";

type SplitVKernel = TypedKernel<{ x: TensorInfo }, tf.SplitVAttrs>;

/** The kit's SplitV over `stock` (the backend's own, looked up at registration). */
export function splitVConfig(stock: SplitVKernel): tf.KernelConfig {
  return wasmKernel<{ x: TensorInfo }, tf.SplitVAttrs>(tf.SplitV, (args) => {
    const { x } = args.inputs;
    if (!fourBytes(x)) return stock.kernelFunc(args);
    const ax = tf.util.parseAxisParam(args.attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x, args.attrs.numOrSizeSplits, ax);
    const begin = x.shape.map(() => 0);
    return sizes.map((n) => {
      const size = x.shape.slice();
      size[ax] = n;
      const out = fastSlice(args.backend, x, begin.slice(), size);
      begin[ax] += n;
      return out;
    });
  });
}
