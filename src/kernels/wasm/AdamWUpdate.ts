/**
 * One AdamW update of one parameter on the wasm backend, in one pass over its four arrays: the op-by-op
 * update launches 14 kernels a parameter (about 1100 a mini training step, 18 ms, most of it dispatch).
 * In float32 four elements at a time (adamw.wasm), the last n mod 4 (or all, without the module) in
 * JavaScript; it differs from the op-by-op chain by rounding only (test/fused-kernels.test.ts checks both
 * against a float64 reference).
 */
import { ADAMW_UPDATE, type AdamWUpdateAttrs, type AdamWUpdateInputs } from "../adamw-update.js";
import { wasmAdamW, wasmKernel, type TensorInfo } from "./wasm-backend.js";

export const adamwUpdateConfig = wasmKernel<AdamWUpdateInputs<TensorInfo>, AdamWUpdateAttrs>(ADAMW_UPDATE, (args) => {
  const { param, m, v, grad } = args.inputs;
  const { lr, beta1, beta2, eps, weightDecay, step } = args.attrs;
  const { backend } = args;
  const n = param.shape.reduce((a, b) => a * b, 1);
  for (const t of [m, v, grad]) {
    if (t.shape.reduce((a, b) => a * b, 1) !== n)
      throw new Error(`${ADAMW_UPDATE}: input of shape [${t.shape}] does not match the parameter's [${param.shape}]`);
  }
  if ([param, m, v, grad].some((t) => t.dtype !== "float32")) throw new Error(`${ADAMW_UPDATE}: every input must be float32`);
  const outs = [param, m, v].map((t) => backend.makeOutput(t.shape, "float32"));
  // Views taken after every allocation: growing the heap detaches older views.
  const [p0, m0, v0, g] = [param, m, v, grad].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const [p1, m1, v1] = outs.map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const decay = 1 - lr * weightDecay;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const fast = wasmAdamW(backend);
  const quads = fast ? n >> 2 : 0;
  if (fast) {
    const [a, b, c, d, e, f, h] = [p0, m0, v0, g, p1, m1, v1].map((t) => t.byteOffset);
    fast.adamw(a, b, c, d, e, f, h, quads, beta1, beta2, eps, decay, lr / bc1, bc2);
  }
  for (let i = 4 * quads; i < n; i++) {
    const gi = g[i];
    const mi = beta1 * m0[i] + (1 - beta1) * gi;
    const vi = beta2 * v0[i] + (1 - beta2) * gi * gi;
    m1[i] = mi;
    v1[i] = vi;
    p1[i] = p0[i] * decay - (lr / bc1) * (mi / (Math.sqrt(vi / bc2) + eps));
  }
  return outs;
});
