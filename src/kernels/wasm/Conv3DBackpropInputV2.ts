/** The input gradient of Conv3D on the wasm backend: product with the filter, then col2im (the stock kernel fails the adjoint identity in tfjs-backend-wasm 4.22). */
import * as tf from "@tensorflow/tfjs";
import { convWorker } from "../conv-worker-pool.js";
import { inputGradInParts } from "../conv3d-parallel.js";
import { asOutput, wasmArena } from "./arena.js";
import { conv3dGeometry } from "./conv-geometry.js";
import type { TensorInfo, WasmBackendLike } from "./wasm-backend.js";

function conv3dBackpropInput(args: { inputs: tf.Conv3DBackpropInputV2Inputs; backend: tf.KernelBackend; attrs: tf.Conv3DBackpropInputV2Attrs }): TensorInfo {
  const { dy, filter } = args.inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, inputShape } = args.attrs;
  const { geometry } = conv3dGeometry(inputShape, filter.shape, strides, pad);
  const arena = wasmArena(args.backend as unknown as WasmBackendLike);
  return asOutput(inputGradInParts(arena, geometry, { id: dy }, { id: filter }, convWorker()), inputShape);
}

export const conv3dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv3DBackpropInputV2,
  backendName: "wasm",
  kernelFunc: conv3dBackpropInput as unknown as tf.KernelFunc,
};
