/** Sum and Mean on the wasm backend: over middle axes without a transpose (middle-sum.ts); others go to the stock kernels. */
import * as tf from "@tensorflow/tfjs";
import { sumOverMiddleAxes } from "./middle-sum.js";
import { wasmColumns, wasmKernel, type TypedKernel, type TensorInfo } from "./wasm-backend.js";

type ReduceAttrs = tf.SumAttrs & tf.MeanAttrs;
type ReduceKernel = TypedKernel<{ x: TensorInfo }, ReduceAttrs>;

/** The kit's Sum or Mean over `stock` (the backend's own, looked up at registration). */
export function sumMeanConfig(kernelName: typeof tf.Sum | typeof tf.Mean, stock: ReduceKernel): tf.KernelConfig {
  return wasmKernel<{ x: TensorInfo }, ReduceAttrs>(
    kernelName,
    (args) => {
      const fast = wasmColumns(args.backend);
      const mean = kernelName === tf.Mean;
      const out = fast && sumOverMiddleAxes(args.backend, fast, args.inputs.x, args.attrs.axis, args.attrs.keepDims, mean);
      return out || stock.kernelFunc(args);
    },
    stock.setupFunc, // binds the wasm function the stock kernel calls
  );
}
