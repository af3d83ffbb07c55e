/** The filter gradient of Conv3D on the wasm backend: transposed im2col and one product (the stock kernel is wrong for stride 2 in tfjs-backend-wasm 4.22). */
import * as tf from "@tensorflow/tfjs";
import { convWorker } from "../conv-worker-pool.js";
import { filterGradInParts } from "../conv3d-parallel.js";
import { asOutput, wasmArena } from "./arena.js";
import { conv3dGeometry } from "./conv-geometry.js";
import { wasmKernel, type TensorInfo } from "./wasm-backend.js";

export const conv3dBackpropFilterConfig = wasmKernel<{ x: TensorInfo; dy: TensorInfo }, tf.Conv3DBackpropFilterV2Attrs>(
  tf.Conv3DBackpropFilterV2,
  ({ inputs: { x, dy }, attrs: { strides, pad, filterShape }, backend }) => {
    const { geometry } = conv3dGeometry(x.shape, filterShape, strides, pad);
    return asOutput(filterGradInParts(wasmArena(backend), geometry, { id: x }, { id: dy }, convWorker()), filterShape);
  },
);
