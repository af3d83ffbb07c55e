/**
 * Everything the kit registers for tfjs's webgpu backend (src/backend.ts calls it once the backend is
 * up). One kernel or fix per file in this folder.
 */
import * as tf from "@tensorflow/tfjs";
import { ADAMW_UPDATE } from "../adamw-update.js";
import { BN_GRADIENT_SUMS, BN_INPUT_GRADIENT, BN_SCALE_SHIFT_RELU, BN_SQUARE_GRADIENT_SUM, BN_STATISTICS } from "../batchnorm-relu.js";
import { adamwUpdateWebGpu } from "./AdamWUpdate.js";
import { bnGradientSumsWebGpu, bnInputGradientWebGpu, bnScaleShiftReluWebGpu, bnSquareGradientSumWebGpu, bnStatisticsWebGpu } from "./BatchNormRelu.js";
import { conv3dWebGpu } from "./Conv3D.js";
import { conv3dFilterGradWebGpu } from "./Conv3DBackpropFilterV2.js";
import { conv3dInputGradWebGpu } from "./Conv3DBackpropInputV2.js";
import { registerRankCollapse } from "./rank-collapse.js";
import { registerOverStock } from "./webgpu-backend.js";

export function registerWebGpuKernels(): string[] {
  registerRankCollapse();
  registerOverStock(tf.Conv3D, conv3dWebGpu);
  registerOverStock(tf.Conv3DBackpropFilterV2, conv3dFilterGradWebGpu);
  registerOverStock(tf.Conv3DBackpropInputV2, conv3dInputGradWebGpu);
  registerOverStock(ADAMW_UPDATE, adamwUpdateWebGpu);
  registerOverStock(BN_STATISTICS, bnStatisticsWebGpu);
  registerOverStock(BN_SCALE_SHIFT_RELU, bnScaleShiftReluWebGpu);
  registerOverStock(BN_GRADIENT_SUMS, bnGradientSumsWebGpu);
  registerOverStock(BN_SQUARE_GRADIENT_SUM, bnSquareGradientSumWebGpu);
  registerOverStock(BN_INPUT_GRADIENT, bnInputGradientWebGpu);
  return [
    "rank-5 element-wise ops and Select run at rank <= 4 (reshaped views)",
    "Conv3D, Conv3DBackpropInputV2: tiled implicit-im2col WGSL products (implicit-gemm.ts; tfjs's shaders below 32 output channels); Conv3DBackpropFilterV2: tiled split-K WGSL product",
    "fused AdamW update (3 launches a parameter) and BatchNorm + ReLU passes in WGSL (MASSIVE_FUSED_OPS switches them as on wasm)",
  ];
}
