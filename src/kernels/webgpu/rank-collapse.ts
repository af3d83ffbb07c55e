/**
 * tfjs-backend-webgpu 4.22's element-wise kernels break on rank-5 tensors: the binary-op shader indexes
 * its rank-5 coordinate struct (`coords[4]` on a `vec5`, invalid WGSL) whenever one input is a vector
 * (every bias add and BatchNorm scale of a 3D U-Net), and Select (tf.where) refuses rank > 4. The
 * failure is silent: the pipeline is invalid, the output stays garbage and gradients turn NaN.
 *
 * Fix, without touching the model: wrap those kernels so that, above rank 4, their inputs are reshaped
 * (free views on webgpu) to the lowest rank that keeps the broadcast: axes of size 1 in the output are
 * dropped and neighbouring axes that every input either has in full or broadcasts together are merged.
 * A bias add [B, D, H, W, C] + [C] becomes [B*D*H*W, C] + [1, C]. The kernel then runs at rank <= 4.
 */
import * as tf from "@tensorflow/tfjs";

type Info = tf.TensorInfo;
type KernelFunc = (args: { inputs: Record<string, Info>; backend: tf.KernelBackend; attrs?: Record<string, unknown> }) => Info | Info[];

/** Kernels that run tfjs-webgpu's BinaryOpProgram (broadcasting, two inputs). */
export const BINARY_KERNELS = [
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
  "FloorDiv",
  "Maximum",
  "Minimum",
  "SquaredDifference",
  "Pow",
  "Prelu",
  "Equal",
  "NotEqual",
  "Greater",
  "GreaterEqual",
  "Less",
  "LessEqual",
  "LogicalAnd",
  "LogicalOr",
  "Atan2",
  "Mod",
];

/**
 * Collapsed shapes for inputs broadcast to `out`, or undefined when the result would still exceed rank 4.
 * Exported for tests.
 */
export function collapseBroadcast(shapes: readonly (readonly number[])[], out: readonly number[]): { shapes: number[][]; out: number[] } | undefined {
  const R = out.length;
  const aligned = shapes.map((s) => [...Array(R - s.length).fill(1), ...s]);
  // Per kept axis: which inputs have it in full (bit set) vs broadcast (size 1).
  const axes: { size: number; mask: number; sizes: number[] }[] = [];
  for (let d = 0; d < R; d++) {
    if (out[d] === 1) continue;
    let mask = 0;
    aligned.forEach((s, i) => {
      if (s[d] === out[d]) mask |= 1 << i;
    });
    const last = axes[axes.length - 1];
    if (last && last.mask === mask) {
      last.size *= out[d];
    } else axes.push({ size: out[d], mask, sizes: [] });
  }
  if (axes.length === 0) axes.push({ size: 1, mask: (1 << shapes.length) - 1, sizes: [] });
  if (axes.length > 4) return undefined;
  return {
    shapes: shapes.map((_, i) => axes.map((a) => (a.mask & (1 << i) ? a.size : 1))),
    out: axes.map((a) => a.size),
  };
}

function wrap(kernelName: string, inputNames: string[], reshape: KernelFunc): void {
  const k = tf.getKernel(kernelName, "webgpu");
  if (!k) return;
  const orig = k.kernelFunc as unknown as KernelFunc;
  tf.unregisterKernel(kernelName, "webgpu");
  tf.registerKernel({
    ...k,
    kernelFunc: ((args: Parameters<KernelFunc>[0]) => {
      const ins = inputNames.map((n) => args.inputs[n]);
      if (kernelName === "Select" && ins[0].shape.length !== ins[1].shape.length) return orig(args); // row select
      const out = tf.backend_util.assertAndGetBroadcastShape(
        ins[0].shape,
        ins.length > 1 ? ins.slice(1).reduce((s, t) => tf.backend_util.assertAndGetBroadcastShape(s, t.shape), ins[1].shape) : ins[0].shape,
      );
      if (out.length <= 4 || ins.some((t) => t.shape.length > out.length)) return orig(args);
      const c = collapseBroadcast(
        ins.map((t) => t.shape),
        out,
      );
      if (!c) return orig(args);
      const backend = args.backend as tf.KernelBackend & { disposeData(id: object): boolean };
      const views = ins.map((t, i) => reshape({ inputs: { x: t }, backend, attrs: { shape: c.shapes[i] } }) as Info);
      const inputs: Record<string, Info> = { ...args.inputs };
      inputNames.forEach((n, i) => (inputs[n] = views[i]));
      const r = orig({ ...args, inputs }) as Info;
      const result = reshape({ inputs: { x: r }, backend, attrs: { shape: out } }) as Info;
      for (const v of [...views, r]) backend.disposeData(v.dataId);
      return result;
    }) as unknown as tf.KernelFunc,
  });
}

let done = false;

/** Wrap the rank-5-broken webgpu kernels (idempotent). */
export function registerRankCollapse(): void {
  if (done) return;
  const reshape = tf.getKernel("Reshape", "webgpu")?.kernelFunc as unknown as KernelFunc | undefined;
  if (!reshape) return;
  done = true;
  for (const name of BINARY_KERNELS) wrap(name, ["a", "b"], reshape);
  // Select needs equal shapes (or a vector condition, which has rank 1 and is left alone).
  wrap("Select", ["condition", "t", "e"], reshape);
}
