/**
 * Everything the kit registers for tfjs's webgpu backend (src/backend.ts calls it once the backend is
 * up). One kernel or fix per file in this folder.
 */
import { registerConv3dFilterGradWebGpu } from "./Conv3DBackpropFilterV2.js";
import { registerRankCollapse } from "./rank-collapse.js";

export function registerWebGpuKernels(): string[] {
  registerRankCollapse();
  registerConv3dFilterGradWebGpu();
  return [
    "rank-5 element-wise ops and Select run at rank <= 4 (reshaped views)",
    "Conv3DBackpropFilterV2: tiled split-K WGSL product (Conv3DBackpropFilterV2.ts); Conv3D and its input gradient: tfjs's shaders",
  ];
}
