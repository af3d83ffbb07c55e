/** The geometry of a Conv3D-family kernel call, shared by Conv3D and its two gradients. */
import * as tf from "@tensorflow/tfjs";
import type { ConvGeometry } from "../conv3d-im2col.js";

type Shape5 = [number, number, number, number, number];

/**
 * The im2col geometry and output shape of a 3D convolution of input `xShape` with `filterShape`
 * (tfjs's computeConv3DInfo; dilation 1 only).
 */
export function conv3dGeometry(
  xShape: number[],
  filterShape: number[],
  strides: [number, number, number] | number,
  pad: "valid" | "same",
  dilations: [number, number, number] | number = 1,
): { geometry: ConvGeometry; outShape: number[] } {
  const info = tf.backend_util.computeConv3DInfo(xShape as Shape5, filterShape as Shape5, strides, dilations, pad);
  return { geometry: geometry(info), outShape: info.outShape };
}

function geometry(info: tf.backend_util.Conv3DInfo): ConvGeometry {
  if (info.dilationDepth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error("fast Conv3D kernels support dilation 1 only");
  }
  return {
    batch: info.batchSize,
    inD: info.inDepth,
    inH: info.inHeight,
    inW: info.inWidth,
    cin: info.inChannels,
    outD: info.outDepth,
    outH: info.outHeight,
    outW: info.outWidth,
    cout: info.outChannels,
    fd: info.filterDepth,
    fh: info.filterHeight,
    fw: info.filterWidth,
    sd: info.strideDepth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    padFront: info.padInfo.front,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}
