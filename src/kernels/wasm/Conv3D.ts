/** Conv3D on the wasm backend: im2col + XNNPACK product, split over two threads (conv3d-parallel.ts). */
import * as tf from "@tensorflow/tfjs";
import { convWorker } from "../conv-worker-pool.js";
import { forwardInParts } from "../conv3d-parallel.js";
import { asOutput, wasmArena } from "./arena.js";
import { conv3dGeometry } from "./conv-geometry.js";
import type { TensorInfo, WasmBackendLike } from "./wasm-backend.js";

function conv3d(args: { inputs: tf.Conv3DInputs; backend: tf.KernelBackend; attrs: tf.Conv3DAttrs }): TensorInfo {
  const { x, filter } = args.inputs as unknown as { x: TensorInfo; filter: TensorInfo };
  const { strides, pad, dilations } = args.attrs;
  const { geometry, outShape } = conv3dGeometry(x.shape, filter.shape, strides, pad, dilations);
  const arena = wasmArena(args.backend as unknown as WasmBackendLike);
  return asOutput(forwardInParts(arena, geometry, { id: x }, { id: filter }, convWorker()), outShape);
}

export const conv3dConfig: tf.KernelConfig = {
  kernelName: tf.Conv3D,
  backendName: "wasm",
  kernelFunc: conv3d as unknown as tf.KernelFunc,
};
