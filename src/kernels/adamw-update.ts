/**
 * The fused AdamW update as a kernel: its name, inputs and attributes. Backends that register it (wasm:
 * kernels/wasm/AdamWUpdate.ts, one launch a parameter, bit for bit as train/adamw.ts's op chain; webgpu:
 * kernels/webgpu/AdamWUpdate.ts, three launches, the same operations on the GPU's float32 arithmetic) use it
 * unless MASSIVE_FUSED_OPS leaves "adamw" out (fused-switch.ts; on by default).
 */
import * as tf from "@tensorflow/tfjs";
import { fusedOpEnabled } from "./fused-switch.js";

export const ADAMW_UPDATE = "MassiveAdamWUpdate";

export interface AdamWUpdateInputs<T> {
  param: T;
  m: T;
  v: T;
  grad: T;
}

/** torch.optim.AdamW's hyper-parameters and the 1-based step whose bias corrections apply. */
export interface AdamWUpdateAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  [key: string]: number;
}

/** Whether the active backend has the fused update (MASSIVE_FUSED_OPS allows "adamw"). */
export function hasFusedAdamW(): boolean {
  return fusedOpEnabled("adamw") && tf.getKernel(ADAMW_UPDATE, tf.getBackend()) !== undefined;
}

/** The updated [param, m, v] of one parameter, by the fused kernel (check hasFusedAdamW first). */
export function fusedAdamW(inputs: AdamWUpdateInputs<tf.Tensor>, attrs: AdamWUpdateAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const out = tf.engine().runKernel(ADAMW_UPDATE, { ...inputs }, attrs) as tf.Tensor[];
  return [out[0], out[1], out[2]];
}
