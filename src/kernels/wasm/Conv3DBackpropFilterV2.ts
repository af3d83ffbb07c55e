/** The filter gradient of Conv3D on the wasm backend: transposed im2col and one product (the stock kernel is wrong for stride 2 in tfjs-backend-wasm 4.22). */
import * as tf from "@tensorflow/tfjs";
import { convWorker } from "../conv-worker-pool.js";
import { filterGradInParts } from "../conv3d-parallel.js";
import { asOutput, wasmArena } from "./arena.js";
import { conv3dGeometry } from "./conv-geometry.js";
import type { TensorInfo, WasmBackendLike } from "./wasm-backend.js";

function conv3dBackpropFilter(args: { inputs: tf.Conv3DBackpropFilterV2Inputs; backend: tf.KernelBackend; attrs: tf.Conv3DBackpropFilterV2Attrs }): TensorInfo {
  const { x, dy } = args.inputs as unknown as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, filterShape } = args.attrs;
  const { geometry } = conv3dGeometry(x.shape, filterShape, strides, pad);
  const arena = wasmArena(args.backend as unknown as WasmBackendLike);
  return asOutput(filterGradInParts(arena, geometry, { id: x }, { id: dy }, convWorker()), filterShape);
}

export const conv3dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv3DBackpropFilterV2,
  backendName: "wasm",
  kernelFunc: conv3dBackpropFilter as unknown as tf.KernelFunc,
};
