/**
 * Reads of tensor values into host memory that work on every backend. tfjs-backend-webgpu's synchronous
 * read (dataSync) needs OffscreenCanvas, which Node lacks: every read the kit does on a training,
 * evaluation or checkpoint path goes through these async helpers instead (on wasm and cpu they cost a
 * microtask). Several tensors are read concurrently (one GPU round trip, not one per tensor).
 */
import type * as tf from "@tensorflow/tfjs";

export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

export async function readAllFloats(ts: readonly tf.Tensor[]): Promise<Float32Array[]> {
  return (await Promise.all(ts.map((t) => t.data()))) as Float32Array[];
}

export async function readScalar(t: tf.Tensor): Promise<number> {
  return (await t.data())[0];
}
