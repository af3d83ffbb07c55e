/**
 * tfjs 4.22 registers no gradient for Conv3DBackpropInputV2, the kernel behind conv3dTranspose, so the
 * U-Net's transposed-convolution up path could not train. Register it here (the 3D analogue of tfjs's
 * Conv2DBackpropInput gradient): for y = convT(x, W),
 *   dL/dx = conv3d(dL/dy, W)              (same strides and padding)
 *   dL/dW = conv3dBackpropFilter(dL/dy, x) (the filter gradient of that convolution)
 * Checked against numerical gradients in test/model.test.ts.
 */
import * as tf from "@tensorflow/tfjs";

let registered = false;

/** Registered once, by initBackend (src/backend.ts): gradients are global, the same for every backend. */
export function registerConv3dTransposeGradient(): void {
  if (registered) return;
  registered = true;
  if (tf.getGradient(tf.Conv3DBackpropInputV2)) return; // a later tfjs may ship its own
  tf.registerGradient({
    kernelName: tf.Conv3DBackpropInputV2,
    inputsToSave: ["dy", "filter"],
    gradFunc: (ddx, saved, attrs) => {
      const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const g = ddx as tf.Tensor5D;
      const { strides, pad } = attrs as unknown as { strides: [number, number, number]; pad: "valid" | "same" };
      return {
        dy: () => tf.conv3d(g, filter, strides, pad),
        filter: () => tf.engine().runKernel("Conv3DBackpropFilterV2", { x: g, dy }, { strides, pad, filterShape: filter.shape }) as tf.Tensor5D,
      };
    },
  });
}
