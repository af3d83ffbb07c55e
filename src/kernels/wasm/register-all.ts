/**
 * Every wasm kernel of the kit, registered over the stock ones (call after the wasm backend is registered).
 * The stock convolution kernels are slow (about 1 GFLOP/s) and, in tfjs-backend-wasm 4.22, wrong: the stock
 * Conv3DBackpropInputV2 fails the adjoint identity <conv(x), dy> = <x, dx>, and Conv3DBackpropFilterV2 is
 * wrong for stride 2 (test/kernels.test.ts), so training through them uses wrong gradients. The others are
 * faster copies (Identity: none at all), products, sums, max pooling, and the fused AdamW update, loss terms
 * and BatchNorm+ReLU (see each file). Stock kernels that ours fall back to are looked up first, and kept
 * for tests (stockWasmKernel).
 */
import * as tf from "@tensorflow/tfjs";
import { adamwUpdateConfig } from "./AdamWUpdate.js";
import { batchMatMulConfig } from "./BatchMatMul.js";
import { bnGradientSumsConfig, bnInputGradientConfig, bnScaleShiftReluConfig, bnSquareGradientSumConfig, bnStatisticsConfig } from "./BatchNormRelu.js";
import { concatConfig } from "./Concat.js";
import { conv3dConfig } from "./Conv3D.js";
import { conv3dBackpropFilterConfig } from "./Conv3DBackpropFilterV2.js";
import { conv3dBackpropInputConfig } from "./Conv3DBackpropInputV2.js";
import { diceBceConfig, diceBceGradConfig } from "./DiceBce.js";
import { identityConfig } from "./Identity.js";
import { maxPool3dConfig, maxPool3dGradConfig } from "./MaxPool3D.js";
import { sliceConfig } from "./Slice.js";
import { splitVConfig } from "./SplitV.js";
import { sumMeanConfig } from "./SumMean.js";
import { transposeConfig } from "./Transpose.js";
import { wasmKernelOf } from "./wasm-backend.js";

let registered = false;

export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: tf.KernelConfig[] = [
    conv3dConfig,
    conv3dBackpropInputConfig,
    conv3dBackpropFilterConfig,
    batchMatMulConfig(wasmKernelOf(tf.BatchMatMul)),
    transposeConfig(wasmKernelOf(tf.Transpose)),
    concatConfig(wasmKernelOf(tf.Concat)),
    sliceConfig(wasmKernelOf(tf.Slice)),
    splitVConfig(wasmKernelOf(tf.SplitV)),
    identityConfig(wasmKernelOf(tf.Identity)),
    maxPool3dConfig(wasmKernelOf(tf.MaxPool3D)),
    maxPool3dGradConfig(wasmKernelOf(tf.MaxPool3DGrad)),
    sumMeanConfig(tf.Sum, wasmKernelOf(tf.Sum)),
    sumMeanConfig(tf.Mean, wasmKernelOf(tf.Mean)),
    adamwUpdateConfig,
    diceBceConfig,
    diceBceGradConfig,
    bnStatisticsConfig,
    bnScaleShiftReluConfig,
    bnGradientSumsConfig,
    bnSquareGradientSumConfig,
    bnInputGradientConfig,
  ];
  for (const k of kernels) {
    // The kit's own kernel names (the fused AdamW update) have no stock kernel to replace.
    const before = tf.getKernel(k.kernelName, k.backendName);
    if (before) {
      stock.set(k.kernelName, before);
      tf.unregisterKernel(k.kernelName, k.backendName);
    }
    tf.registerKernel(k);
  }
}

const stock = new Map<string, tf.KernelConfig>();

/** The stock wasm kernel that the kit's replaced (for tests that compare the two on the same inputs). */
export function stockWasmKernel(kernelName: string): tf.KernelConfig | undefined {
  return stock.get(kernelName);
}
