/**
 * Identity on the wasm backend without a copy: the output shares the input's buffer (reference-counted,
 * as the stock Reshape does). The engine clones every tensor a gradient saves through Identity, and the
 * stock kernel copies each one: about 490 copies of activations in a mini training step (12 ms of kernel
 * time). Tensors are immutable and no kit kernel writes into its inputs, so sharing is safe.
 */
import * as tf from "@tensorflow/tfjs";
import { wasmKernel, type TypedKernel, type TensorInfo } from "./wasm-backend.js";

type IdentityKernel = TypedKernel<{ x: TensorInfo }, Record<string, never>>;

/** The kit's Identity over `stock` (the backend's own, kept for strings, which are not on the heap). */
export function identityConfig(stock: IdentityKernel): tf.KernelConfig {
  return wasmKernel<{ x: TensorInfo }, Record<string, never>>(tf.Identity, (args) => {
    const { x } = args.inputs;
    if (x.dtype === "string") return stock.kernelFunc(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
