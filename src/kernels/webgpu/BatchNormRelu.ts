/**
 * The passes of BatchNorm with batch statistics + ReLU and of its gradient (kernels/batchnorm-relu.ts
 * composes them) on webgpu, over x as [rows, C]. The op form launches about 30 kernels a layer, forward
 * and backward, each a pass over the activations; here two element-wise passes and three column sums
 * (each a chunked partial pass plus one short pass per result), the per-channel steps between them as
 * tf ops. Column sums: thread (chunk, c) sums its chunk of rows for channel c (neighbouring threads read
 * neighbouring channels), then a workgroup per channel adds the chunks. The sums run in another order
 * than the op form's, so results agree to float32 rounding, not bit for bit (test/webgpu.test.ts).
 */
import { BN_GRADIENT_SUMS, BN_INPUT_GRADIENT, BN_SCALE_SHIFT_RELU, BN_SQUARE_GRADIENT_SUM, BN_STATISTICS } from "../batchnorm-relu.js";
import { flatProgram, float32, int32, type Info, type KernelArgs, type WebGpuBackendLike } from "./webgpu-backend.js";

/** Threads of a column-sum pass: enough to fill a large GPU, no more chunks than rows. */
const SUM_THREADS = 1 << 16;

export function columnChunks(rows: number, C: number): { chunks: number; rowsPerChunk: number } {
  const want = Math.max(1, Math.min(rows, Math.ceil(SUM_THREADS / C)));
  const rowsPerChunk = Math.ceil(rows / want);
  return { chunks: Math.ceil(rows / rowsPerChunk), rowsPerChunk };
}

/**
 * Partial column sums: out[chunk, j, c] = sum over the chunk's rows r of term j at (r, c). `body` is WGSL
 * that, given `i` (the element r C + c) and `c`, adds to s0 .. s{J-1}.
 */
function partialSumsProgram(key: string, names: string[], J: number, chunks: number, C: number, body: string) {
  const sums = Array.from({ length: J }, (_, j) => `s${j}`);
  return {
    variableNames: names,
    outputShape: [chunks * J * C],
    shaderKey: `massive_bn_partial_${key}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil((chunks * C) / 256), 1, 1],
    workgroupSize: [256, 1, 1] as [number, number, number],
    uniforms: "rows : i32, C : i32, rowsPerChunk : i32, threads : i32,",
    size: false,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.threads) {
          let c = index % uniforms.C;
          let chunk = index / uniforms.C;
          let r0 = chunk * uniforms.rowsPerChunk;
          let r1 = min(uniforms.rows, r0 + uniforms.rowsPerChunk);
          ${sums.map((s) => `var ${s} = 0.0;`).join(" ")}
          for (var r = r0; r < r1; r++) {
            let i = r * uniforms.C + c;
            ${body}
          }
          ${sums.map((s, j) => `result[(chunk * ${J} + ${j}) * uniforms.C + c] = ${s};`).join(" ")}
        }
      }
    `,
  };
}

/** out[c] = (sum over chunks of partial[chunk, j, c]) * scale: a workgroup of 256 per channel, tree-summed. */
function chunkSumProgram(C: number) {
  return {
    variableNames: ["partial"],
    outputShape: [C],
    shaderKey: "massive_bn_chunk_sum",
    dispatchLayout: { x: [0] },
    dispatch: [C, 1, 1],
    workgroupSize: [256, 1, 1] as [number, number, number],
    uniforms: "chunks : i32, C : i32, J : i32, j : i32, scale : f32,",
    size: false,
    getUserCode: () => `
      var<workgroup> part : array<f32, 256>;
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let t = i32(localId.x);
        var s = 0.0;
        for (var k = t; k < uniforms.chunks; k = k + 256) { s = s + partial[(k * uniforms.J + uniforms.j) * uniforms.C + c]; }
        part[t] = s;
        workgroupBarrier();
        for (var h = 128; h > 0; h = h / 2) {
          if (t < h) { part[t] = part[t] + part[t + h]; }
          workgroupBarrier();
        }
        if (t == 0) { result[c] = part[0] * uniforms.scale; }
      }
    `,
  };
}

interface Shapes {
  rows: number;
  C: number;
}

function check(kernel: string, rowInputs: Info[], perChannel: Info[]): Shapes {
  const [rows, C] = rowInputs[0].shape;
  for (const t of rowInputs)
    if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== C)
      throw new Error(`${kernel}: inputs over the activations must be one [rows, C], got [${t.shape}]`);
  for (const t of perChannel)
    if (t.shape.length !== 1 || t.shape[0] !== C) throw new Error(`${kernel}: per-channel input of shape [${t.shape}], expected [${C}]`);
  if ([...rowInputs, ...perChannel].some((t) => t.dtype !== "float32")) throw new Error(`${kernel}: every input must be float32`);
  return { rows, C };
}

/** The J column sums that `body` defines, scaled: J tensors [C]. */
function columnSums(backend: WebGpuBackendLike, key: string, inputs: Record<string, Info>, J: number, { rows, C }: Shapes, body: string, scale = 1): Info[] {
  const { chunks, rowsPerChunk } = columnChunks(rows, C);
  const names = Object.keys(inputs);
  const partial = backend.runWebGPUProgram(partialSumsProgram(key, names, J, chunks, C, body), Object.values(inputs), "float32", [
    int32(rows),
    int32(C),
    int32(rowsPerChunk),
    int32(chunks * C),
  ]);
  const outs = Array.from({ length: J }, (_, j) =>
    backend.runWebGPUProgram(chunkSumProgram(C), [partial], "float32", [int32(chunks), int32(C), int32(J), int32(j), float32(scale)]),
  );
  backend.disposeData(partial.dataId);
  return outs;
}

// Element i = r C + c. d = x - mean, g = dy where the forward's d scale + beta > 0 (the ReLU's gradient),
// as the wasm passes.
const D = `let d = x[i] - mean[c];`;
const G = `var g = 0.0; if (d * scale[c] + beta[c] > 0.0) { g = dy[i]; }`;
/** Element-wise over [rows, C]: i and c for `body`. */
const overElements = (body: string) => `let i = index; let c = i % uniforms.C; ${body}`;

/** mean and biased variance [C] of x over its rows (two passes: the variance from the finished mean). */
export function bnStatisticsWebGpu({ inputs, backend }: KernelArgs): Info[] {
  const b = backend as WebGpuBackendLike;
  const { x } = inputs;
  const s = check(BN_STATISTICS, [x], []);
  const [mean] = columnSums(b, "sum", { x }, 1, s, "s0 = s0 + x[i];", 1 / s.rows);
  const [variance] = columnSums(b, "sqdev", { x, mean }, 1, s, `${D} s0 = s0 + d * d;`, 1 / s.rows);
  return [mean, variance];
}

/** out = relu((x - mean) scale + beta). */
export function bnScaleShiftReluWebGpu({ inputs, backend }: KernelArgs): Info {
  const { x, mean, scale, beta } = inputs;
  const { rows, C } = check(BN_SCALE_SHIFT_RELU, [x], [mean, scale, beta]);
  return (backend as WebGpuBackendLike).runWebGPUProgram(
    flatProgram(
      "massive_bn_scale_shift_relu",
      ["x", "mean", "scale", "beta"],
      [rows, C],
      "C : i32,",
      overElements(`${D} result[i] = max(d * scale[c] + beta[c], 0.0);`),
    ),
    [x, mean, scale, beta],
    "float32",
    [int32(C)],
  );
}

/** [sum g, sum g d, sum g scale] over the rows. */
export function bnGradientSumsWebGpu({ inputs, backend }: KernelArgs): Info[] {
  const { x, dy, mean, scale, beta } = inputs;
  const s = check(BN_GRADIENT_SUMS, [x, dy], [mean, scale, beta]);
  return columnSums(
    backend as WebGpuBackendLike,
    "grad",
    { x, dy, mean, scale, beta },
    3,
    s,
    `${D} ${G} s0 = s0 + g; s1 = s1 + g * d; s2 = s2 + g * scale[c];`,
  );
}

/** sum over the rows of k (2 d). */
export function bnSquareGradientSumWebGpu({ inputs, backend }: KernelArgs): Info {
  const { x, mean, k } = inputs;
  const s = check(BN_SQUARE_GRADIENT_SUM, [x], [mean, k]);
  // One output: returned alone, as the wasm kernel does (tfjs hands a one-element array back as an array).
  return columnSums(backend as WebGpuBackendLike, "sqgrad", { x, mean, k }, 1, s, `${D} s0 = s0 + k[c] * (d + d);`)[0];
}

/** dx = (g scale + k (2 d)) + c0. */
export function bnInputGradientWebGpu({ inputs, backend }: KernelArgs): Info {
  const { x, dy, mean, scale, beta, k, c0 } = inputs;
  const { rows, C } = check(BN_INPUT_GRADIENT, [x, dy], [mean, scale, beta, k, c0]);
  return (backend as WebGpuBackendLike).runWebGPUProgram(
    flatProgram(
      "massive_bn_input_gradient",
      ["x", "dy", "mean", "scale", "beta", "k", "c0"],
      [rows, C],
      "C : i32,",
      overElements(`${D} ${G} result[i] = (g * scale[c] + k[c] * (d + d)) + c0[c];`),
    ),
    [x, dy, mean, scale, beta, k, c0],
    "float32",
    [int32(C)],
  );
}
