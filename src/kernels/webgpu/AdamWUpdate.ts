/**
 * The fused AdamW update (kernels/adamw-update.ts) on webgpu: train/adamw.ts's op chain launches about 14
 * kernels a parameter (over 1000 a training step), and on a GPU each launch costs host time (tfjs's
 * bookkeeping, a uniform buffer, a bind group: some 20-30 us) whatever its size. Here three launches a
 * parameter, one per output (a tfjs-webgpu program writes one tensor): each recomputes the moments it
 * needs from the same inputs, in the op chain's float32 operations and order, so m and v are the op
 * chain's and p differs by at most the GPU's own rounding of / and sqrt (test/webgpu.test.ts).
 */
import { ADAMW_UPDATE, type AdamWUpdateAttrs } from "../adamw-update.js";
import { flatProgram, float32, reshapeInfo, type Info, type KernelArgs, type WebGpuBackendLike } from "./webgpu-backend.js";

const UNIFORMS = "b1 : f32, c1 : f32, b2 : f32, c2 : f32, bc1 : f32, bc2 : f32, e : f32, decay : f32, rate : f32,";
// The op chain: m = m b1 + g (1 - b1); v = v b2 + g^2 (1 - b2); p = p (1 - lr wd) - ((m / bc1) / (sqrt(v / bc2) + eps)) lr.
const M1 = `let m1 = mo[index] * uniforms.b1 + gr[index] * uniforms.c1;`;
const V1 = `let g = gr[index]; let v1 = ve[index] * uniforms.b2 + (g * g) * uniforms.c2;`;
// Each program binds only the inputs it reads: tfjs-webgpu's pipelines take their layout from the shader,
// so an unread input is a binding the layout lacks (a validation error, the output left unwritten).
const PROGRAMS = {
  p: {
    inputs: ["pa", "mo", "ve", "gr"],
    body: `${M1} ${V1} result[index] = pa[index] * uniforms.decay - ((m1 / uniforms.bc1) / (sqrt(v1 / uniforms.bc2) + uniforms.e)) * uniforms.rate;`,
  },
  m: { inputs: ["mo", "gr"], body: `${M1} result[index] = m1;` },
  v: { inputs: ["ve", "gr"], body: `${V1} result[index] = v1;` },
};

export function adamwUpdateWebGpu(args: KernelArgs): Info[] {
  const { param, m, v, grad } = args.inputs;
  const backend = args.backend as WebGpuBackendLike;
  const { lr, beta1, beta2, eps, weightDecay, step } = args.attrs as unknown as AdamWUpdateAttrs;
  const n = param.shape.reduce((a, b) => a * b, 1);
  for (const t of [m, v, grad])
    if (t.shape.reduce((a, b) => a * b, 1) !== n)
      throw new Error(`${ADAMW_UPDATE}: input of shape [${t.shape}] does not match the parameter's [${param.shape}]`);
  if ([param, m, v, grad].some((t) => t.dtype !== "float32")) throw new Error(`${ADAMW_UPDATE}: every input must be float32`);
  // The op chain's scalars: JavaScript numbers rounded to float32 once (uniforms are float32).
  const uniforms = [beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1 ** step, 1 - beta2 ** step, eps, 1 - lr * weightDecay, lr].map(float32);
  // Flat programs (rank-1 output), reshaped after: no rank-5 index helpers in the shader.
  const tensors: Record<string, Info> = { pa: param, mo: m, ve: v, gr: grad };
  const run = (which: keyof typeof PROGRAMS) => {
    const { inputs, body } = PROGRAMS[which];
    const program = flatProgram(`massive_adamw_${which}`, inputs, [n], UNIFORMS, body);
    return reshapeInfo(
      backend,
      backend.runWebGPUProgram(
        program,
        inputs.map((name) => tensors[name]),
        "float32",
        uniforms,
      ),
      param.shape,
    );
  };
  return [run("p"), run("m"), run("v")];
}
