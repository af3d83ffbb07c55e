/** Conv3D on the wasm backend: im2col + XNNPACK product, split over two threads (conv3d-parallel.ts). */
import * as tf from "@tensorflow/tfjs";
import { convWorker } from "../conv-worker-pool.js";
import { forwardInParts } from "../conv3d-parallel.js";
import { asOutput, wasmArena } from "./arena.js";
import { conv3dGeometry } from "./conv-geometry.js";
import { wasmKernel, type TensorInfo } from "./wasm-backend.js";

export const conv3dConfig = wasmKernel<{ x: TensorInfo; filter: TensorInfo }, tf.Conv3DAttrs>(tf.Conv3D, ({ inputs: { x, filter }, attrs, backend }) => {
  const { geometry, outShape } = conv3dGeometry(x.shape, filter.shape, attrs.strides, attrs.pad, attrs.dilations);
  return asOutput(forwardInParts(wasmArena(backend), geometry, { id: x }, { id: filter }, convWorker()), outShape);
});
