/**
 * One AdamW update of one parameter on the wasm backend, in one pass over its four arrays: the op-by-op
 * update launches 14 kernels a parameter (about 1100 a mini training step, 18 ms, most of it dispatch).
 * In float32 four elements at a time (adamw.wasm), the last n mod 4 (or all, without the module) in
 * JavaScript, each doing train/adamw.ts's float32 operations in its order: the results are bit for bit the
 * op chain's (test/fused-kernels.test.ts), so switching it on does not change training.
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
  // The op chain's scalar tensors: each constant taken in float64, then rounded to float32 once.
  const f = Math.fround;
  const [b1, c1, b2, c2] = [f(beta1), f(1 - beta1), f(beta2), f(1 - beta2)];
  const [bc1, bc2] = [f(1 - beta1 ** step), f(1 - beta2 ** step)];
  const [e, decay, rate] = [f(eps), f(1 - lr * weightDecay), f(lr)];
  const fast = wasmAdamW(backend);
  const quads = fast ? n >> 2 : 0;
  if (fast) {
    const [a, b, c, d, o1, o2, o3] = [p0, m0, v0, g, p1, m1, v1].map((t) => t.byteOffset);
    fast.adamw(a, b, c, d, o1, o2, o3, quads, b1, c1, b2, c2, bc1, bc2, e, decay, rate);
  }
  // The rest in float64, rounded after every operation: the same float32 results (a float32 +, -, *, / or
  // sqrt taken in float64 and rounded once is the correctly rounded float32 one).
  for (let i = 4 * quads; i < n; i++) {
    const gi = g[i];
    const mi = f(f(m0[i] * b1) + f(gi * c1));
    const vi = f(f(v0[i] * b2) + f(f(gi * gi) * c2));
    m1[i] = mi;
    v1[i] = vi;
    p1[i] = f(p0[i] * decay) - f(f(f(mi / bc1) / f(f(Math.sqrt(f(vi / bc2))) + e)) * rate);
  }
  return outs;
});
