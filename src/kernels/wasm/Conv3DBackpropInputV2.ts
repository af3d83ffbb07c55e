/** The input gradient of Conv3D on the wasm backend: product with the filter, then col2im (the stock kernel fails the adjoint identity in tfjs-backend-wasm 4.22). */
import * as tf from "@tensorflow/tfjs";
import { convWorker } from "../conv-worker-pool.js";
import { inputGradInParts } from "../conv3d-parallel.js";
import { asOutput, wasmArena } from "./arena.js";
import { conv3dGeometry } from "./conv-geometry.js";
import { wasmKernel, type TensorInfo } from "./wasm-backend.js";

export const conv3dBackpropInputConfig = wasmKernel<{ dy: TensorInfo; filter: TensorInfo }, tf.Conv3DBackpropInputV2Attrs>(
  tf.Conv3DBackpropInputV2,
  ({ inputs: { dy, filter }, attrs: { strides, pad, inputShape }, backend }) => {
    const { geometry } = conv3dGeometry(inputShape, filter.shape, strides, pad);
    return asOutput(inputGradInParts(wasmArena(backend), geometry, { id: dy }, { id: filter }, convWorker()), inputShape);
  },
);
