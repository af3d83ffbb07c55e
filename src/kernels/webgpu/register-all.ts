/**
 * Everything the kit registers for tfjs's webgpu backend (src/backend.ts calls it once the backend is
 * up). One kernel or fix per file in this folder.
 */
import * as tf from "@tensorflow/tfjs";
import { conv3dWebGpu } from "./Conv3D.js";
import { registerConv3dFilterGradWebGpu } from "./Conv3DBackpropFilterV2.js";
import { conv3dInputGradWebGpu } from "./Conv3DBackpropInputV2.js";
import { registerRankCollapse } from "./rank-collapse.js";

/** Replaces the webgpu kernel of that name by the kit's (once: a second call finds it registered). */
function replace(kernelName: string, kernelFunc: unknown): void {
  const k = tf.getKernel(kernelName, "webgpu");
  if (k && (k.kernelFunc as unknown) === kernelFunc) return;
  if (k) tf.unregisterKernel(kernelName, "webgpu");
  tf.registerKernel({ kernelName, backendName: "webgpu", kernelFunc: kernelFunc as tf.KernelFunc });
}

export function registerWebGpuKernels(): string[] {
  registerRankCollapse();
  registerConv3dFilterGradWebGpu();
  replace(tf.Conv3D, conv3dWebGpu);
  replace(tf.Conv3DBackpropInputV2, conv3dInputGradWebGpu);
  return [
    "rank-5 element-wise ops and Select run at rank <= 4 (reshaped views)",
    "Conv3D, Conv3DBackpropInputV2: tiled implicit-im2col WGSL products (implicit-gemm.ts); Conv3DBackpropFilterV2: tiled split-K WGSL product",
  ];
}
