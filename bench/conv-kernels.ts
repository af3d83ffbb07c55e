/**
 * Times the three convolution kernels (Conv3D, Conv3DBackpropInputV2, Conv3DBackpropFilterV2) of the
 * active backend on given layer shapes: 3x3x3 filters, "same" padding, stride 1, batch 1.
 *   MASSIVE_BACKEND=webgpu node dist/bench/conv-kernels.js <size> <cin>-><cout>[,...] [max seconds]
 * (MASSIVE_STOCK_KERNELS=1 for tfjs's own kernels). Each kernel runs 3 times (the first compiles its
 * shader on webgpu), read back each time; prints one JSON line per layer and kernel, then a table. The GPU
 * check runs it on the paper's layer shapes at 96^3 (scripts/gpu-check.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend, releaseWebGpu } from "../src/backend.js";
import { env } from "../src/env.js";

export interface ConvLayer {
  layer: string;
  x: [number, number, number, number, number];
  cout: number;
}

export interface ConvKernelRow {
  layer: string;
  op: string;
  ms: number[];
  firstIncludesCompile: true;
  /** Of the best run after the first. */
  gflops: number;
}

/** A cubic layer `cin -> cout` at size^3. */
export function cubeLayer(size: number, cin: number, cout: number): ConvLayer {
  return { layer: `${cin}->${cout} @${size}^3`, x: [1, size, size, size, cin], cout };
}

export async function convKernelTimings(layers: ConvLayer[], maxSeconds: number): Promise<{ backend: string; stock: boolean; rows: ConvKernelRow[] }> {
  const report = await initBackend({ log: () => {} });
  const start = performance.now();
  const rows: ConvKernelRow[] = [];
  for (const s of layers) {
    const cin = s.x[4];
    const fs: [number, number, number, number, number] = [3, 3, 3, cin, s.cout];
    // Filled on the device (Fill kernel): random tensors would be made on the host and uploaded. Speed does not depend on the values.
    const x = tf.fill(s.x, 0.5),
      w = tf.fill(fs, 0.01),
      dy = tf.fill([...s.x.slice(0, 4), s.cout], 0.25);
    const ops: [string, () => tf.Tensor][] = [
      ["Conv3D", () => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, "same")],
      [
        "Conv3DBackpropInputV2",
        () => tf.engine().runKernel("Conv3DBackpropInputV2", { dy, filter: w }, { strides: [1, 1, 1], pad: "same", inputShape: s.x }) as tf.Tensor,
      ],
      [
        "Conv3DBackpropFilterV2",
        () => tf.engine().runKernel("Conv3DBackpropFilterV2", { x, dy }, { strides: [1, 1, 1], pad: "same", filterShape: fs }) as tf.Tensor,
      ],
    ];
    for (const [op, f] of ops) {
      if ((performance.now() - start) / 1000 > maxSeconds) break;
      const ms: number[] = [];
      for (let i = 0; i < 3 && (i === 0 || (performance.now() - start) / 1000 < maxSeconds); i++) {
        const t0 = performance.now();
        const y = f();
        await y.data();
        y.dispose();
        ms.push(performance.now() - t0);
      }
      const gflop = (2 * 27 * cin * s.cout * s.x[1] * s.x[2] * s.x[3]) / 1e9;
      const best = Math.min(...(ms.length > 1 ? ms.slice(1) : ms));
      const row: ConvKernelRow = {
        layer: s.layer,
        op,
        ms: ms.map((v) => +v.toFixed(1)),
        firstIncludesCompile: true,
        gflops: +(gflop / (best / 1000)).toFixed(1),
      };
      rows.push(row);
      process.stderr.write(`kernel-result ${JSON.stringify(row)}\n`);
    }
    tf.dispose([x, w, dy]);
  }
  return { backend: describeBackend(report), stock: env("MASSIVE_STOCK_KERNELS") === "1", rows };
}

if (/conv-kernels\.js$/.test(process.argv[1] ?? "")) {
  const [sizeText, layersText, maxText] = process.argv.slice(2);
  const size = Number(sizeText);
  const layers = (layersText ?? "").split(",").map((l) => l.split("->").map(Number));
  if (!(size > 0) || !layers.length || layers.some((l) => l.length !== 2 || l.some((c) => !(c > 0)))) {
    console.error("usage: node dist/bench/conv-kernels.js <size> <cin>-><cout>[,<cin>-><cout>...] [max seconds]");
    process.exit(2);
  }
  convKernelTimings(
    layers.map(([cin, cout]) => cubeLayer(size, cin, cout)),
    Number(maxText ?? 600),
  )
    .then((r) => {
      console.log(r.backend);
      console.log(`layer             op                       best ms (of runs 2-3)`);
      for (const row of r.rows)
        console.log(
          `${row.layer.padEnd(17)} ${row.op.padEnd(24)} ${Math.min(...row.ms.slice(1))
            .toFixed(0)
            .padStart(8)}`,
        );
      releaseWebGpu();
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
