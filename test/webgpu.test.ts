import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend, releaseWebGpu, type BackendReport } from "../src/backend.js";
import { collapseBroadcast } from "../src/kernels/webgpu/rank-collapse.js";
import { conv3dWebGpu } from "../src/kernels/webgpu/Conv3D.js";
import { chunkPlan, conv3dFilterGradWebGpu } from "../src/kernels/webgpu/Conv3DBackpropFilterV2.js";
import { conv3dInputGradWebGpu } from "../src/kernels/webgpu/Conv3DBackpropInputV2.js";
import { THREAD_TILES, workgroupBytes } from "../src/kernels/webgpu/implicit-gemm.js";
import { AdamW } from "../src/train/adamw.js";
import { fusedBatchNormRelu, hasFusedBatchNormRelu } from "../src/kernels/batchnorm-relu.js";
import { hasFusedAdamW } from "../src/kernels/adamw-update.js";
import { columnChunks } from "../src/kernels/webgpu/BatchNormRelu.js";
import { countDispatches } from "../bench/dispatch-count.js";
import { Rng } from "../src/util/rng.js";
import { CASES, checkConvCase, rand, reference, relErr, type S5 } from "./conv-reference.js";
import { smokePrepared } from "./fixtures.js";

/**
 * The webgpu backend (Dawn's Node binding + @tensorflow/tfjs-backend-webgpu). Without a GPU it runs on
 * a software adapter: Mesa's llvmpipe through Dawn's OpenGL ES backend (Debian: libegl-mesa0 libgles2
 * libgl1-mesa-dri; .ci/run installs them). Every test here skips, with the reason, only when no adapter
 * of any kind can be created (or the optional packages are absent).
 */
let report: BackendReport | undefined;
let unavailable: string | undefined;

try {
  report = await initBackend({ force: "webgpu", log: () => {} });
} catch (e) {
  unavailable = `no WebGPU adapter of any kind: ${(e as Error).message}`;
  process.stderr.write(`webgpu tests skipped: ${unavailable}\n`);
}

after(() => releaseWebGpu());

const skip = () => (unavailable ? unavailable : false);

test("collapseBroadcast merges axes that broadcast alike and drops size-1 axes", () => {
  assert.deepEqual(collapseBroadcast([[2, 3, 4, 5, 6], [6]], [2, 3, 4, 5, 6]), {
    shapes: [
      [120, 6],
      [1, 6],
    ],
    out: [120, 6],
  });
  assert.deepEqual(
    collapseBroadcast(
      [
        [1, 3, 4, 5, 6],
        [1, 3, 4, 5, 6],
      ],
      [1, 3, 4, 5, 6],
    ),
    { shapes: [[360], [360]], out: [360] },
  );
  assert.deepEqual(
    collapseBroadcast(
      [
        [2, 1, 1, 1, 6],
        [2, 3, 4, 5, 6],
      ],
      [2, 3, 4, 5, 6],
    ),
    {
      shapes: [
        [2, 1, 6],
        [2, 60, 6],
      ],
      out: [2, 60, 6],
    },
  );
  assert.equal(
    collapseBroadcast(
      [
        [2, 1, 4, 1, 6],
        [1, 3, 1, 5, 1],
      ],
      [2, 3, 4, 5, 6],
    ),
    undefined,
  ); // 5 alternating axes
});

test("filter-gradient chunk plan: covers every voxel once, bounded partial sums", () => {
  for (const [M, N, K] of [
    [27, 32, 96 ** 3],
    [27 * 64, 64, 48 ** 3],
    [27 * 256, 512, 12 ** 3],
    [27, 4, 315],
    [27 * 512, 512, 8],
  ]) {
    const { chunks, kc } = chunkPlan(M, N, K);
    assert.ok(kc % 16 === 0 && chunks * kc >= K && (chunks - 1) * kc < K, `${M}x${N}x${K}: ${chunks} x ${kc}`);
    assert.ok(chunks * M * N <= Math.max(M * N, 32 << 20));
  }
});

test("webgpu: the backend names its adapter and why faster backends were skipped", { skip: skip() }, () => {
  assert.equal(report!.backend, "webgpu");
  assert.ok(report!.adapter, "adapter info");
  const line = describeBackend(report!);
  assert.match(line, /adapter: (software adapter|hardware GPU) /);
  assert.match(line, /skipped|note/);
  process.stderr.write(`${line}\n`);
});

test("webgpu: rank-5 element-wise ops with broadcasting and where() match the cpu backend", { skip: skip() }, async () => {
  const rng = new Rng(5);
  const shape: S5 = [2, 3, 4, 5, 6];
  const a = Float32Array.from({ length: 720 }, () => rng.uniform(-2, 2));
  const b = Float32Array.from({ length: 6 }, () => rng.uniform(-2, 2));
  const c = Float32Array.from({ length: 2 * 6 }, () => rng.uniform(-2, 2));
  const run = () => {
    const x = tf.tensor5d(a, shape);
    const v = tf.tensor1d(b);
    const w = tf.tensor5d(c, [2, 1, 1, 1, 6]);
    return [
      tf.add(x, v),
      tf.mul(x, v),
      tf.sub(v, x),
      tf.div(x, tf.add(tf.abs(v), 1)),
      tf.maximum(x, v),
      tf.squaredDifference(x, w),
      tf.mul(w, x),
      tf.where(tf.greater(x, v), x, tf.neg(x)),
      tf.relu(tf.sub(x, v)),
    ];
  };
  const got = await Promise.all(run().map((t) => t.data()));
  await tf.setBackend("cpu");
  const want = run().map((t) => t.dataSync());
  await tf.setBackend("webgpu");
  got.forEach((g, i) => assert.ok(relErr(g as Float32Array, Float64Array.from(want[i] as Float32Array)) <= 1e-6, `op ${i}`));
});

test("webgpu: Conv3D, its input and filter gradients and the transposed-convolution gradient match float64 loops", { skip: skip() }, async () => {
  // The kit's three convolution kernels are the ones registered (src/kernels/webgpu/).
  assert.equal(tf.getKernel("Conv3DBackpropFilterV2", "webgpu")?.kernelFunc, conv3dFilterGradWebGpu as unknown);
  assert.equal(tf.getKernel("Conv3D", "webgpu")?.kernelFunc, conv3dWebGpu as unknown);
  assert.equal(tf.getKernel("Conv3DBackpropInputV2", "webgpu")?.kernelFunc, conv3dInputGradWebGpu as unknown);
  const rng = new Rng(2024);
  // Products of fewer than 32 columns run tfjs's stock shaders (implicit-gemm.ts). Added cases: 8 -> 80
  // (several 64-wide tiles in both dimensions, partial ones included: filter gradient 216 x 80, Conv3D 120
  // voxels x 80 channels, staged element by element), the input gradient of 40 -> 5 (element by element)
  // and 32 -> 48 (both products staged by tap, batch 2, stride 2, partial tiles); the shared cases with 64
  // or 16 channels stage by tap too.
  const cases = [
    ...CASES,
    { x: [1, 5, 4, 6, 8] as S5, f: [3, 3, 3, 8, 80] as S5, s: 1, pad: "same" as const },
    { x: [1, 4, 5, 6, 40] as S5, f: [3, 3, 3, 40, 5] as S5, s: 1, pad: "same" as const },
    { x: [2, 5, 7, 6, 32] as S5, f: [3, 3, 3, 32, 48] as S5, s: 2, pad: "same" as const },
  ];
  for (const c of cases) await checkConvCase(c, rng, "webgpu");
  // Each fixed thread tile (MASSIVE_WEBGPU_CONV_TILE; the default picks by size), on the cases the kit's
  // products take (the narrow ones run tfjs's shaders whatever the tile); 8x8 only where the device has
  // the workgroup memory.
  const before = process.env.MASSIVE_WEBGPU_CONV_TILE;
  const limit = (tf.backend() as unknown as { device: { limits: { maxComputeWorkgroupStorageSize: number } } }).device.limits.maxComputeWorkgroupStorageSize;
  try {
    for (const tile of ["4x4", "8x4", "8x8"].filter((t) => workgroupBytes(THREAD_TILES[t]) <= limit)) {
      process.env.MASSIVE_WEBGPU_CONV_TILE = tile;
      for (const c of cases.filter((c) => c.f[4] >= 32 || c.f[3] >= 32)) await checkConvCase(c, rng, "webgpu");
    }
    process.env.MASSIVE_WEBGPU_CONV_TILE = "9x9";
    assert.throws(
      () => tf.conv3d(tf.zeros([1, 4, 4, 4, 8]) as tf.Tensor5D, tf.zeros([3, 3, 3, 8, 64]) as tf.Tensor5D, 1, "same"),
      /MASSIVE_WEBGPU_CONV_TILE must be auto or one of/,
    );
  } finally {
    if (before === undefined) delete process.env.MASSIVE_WEBGPU_CONV_TILE;
    else process.env.MASSIVE_WEBGPU_CONV_TILE = before;
  }
  // Transposed convolution (the U-Net's up path): its gradients through the kit's registered gradient.
  const xs: S5 = [1, 2, 3, 2, 5],
    fs: S5 = [2, 2, 2, 4, 5];
  const xv = rand(xs, rng),
    wv = rand(fs, rng),
    r = rand([1, 4, 6, 4, 4], rng);
  // y = convT(x, W) is the input gradient of a stride-2 conv: dL/dx = conv(r, W), dL/dW = dW(conv of r over x).
  const refT = reference([1, 4, 6, 4, 4], fs, 2, "valid", r, wv, xv);
  const [gx, gw] = tf.grads((a, b) =>
    tf.sum(tf.mul(tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, [1, 4, 6, 4, 4], 2, "valid"), tf.tensor5d(Float32Array.from(r), [1, 4, 6, 4, 4]))),
  )([tf.tensor5d(Float32Array.from(xv), xs), tf.tensor5d(Float32Array.from(wv), fs)]);
  const [gxd, gwd] = await Promise.all([gx.data(), gw.data()]);
  assert.ok(relErr(gxd as Float32Array, refT.y) <= 1e-4, `convT dx: ${relErr(gxd as Float32Array, refT.y)}`);
  assert.ok(relErr(gwd as Float32Array, refT.dw) <= 1e-4, `convT dW: ${relErr(gwd as Float32Array, refT.dw)}`);
});

test("BatchNorm column sums on webgpu: chunks cover every row once and fill the GPU", () => {
  for (const [rows, C] of [
    [1, 4],
    [40, 8],
    [40960, 4],
    [884736, 32],
    [27, 512],
  ]) {
    const { chunks, rowsPerChunk } = columnChunks(rows, C);
    assert.ok(chunks * rowsPerChunk >= rows && (chunks - 1) * rowsPerChunk < rows, `${rows} x ${C}`);
    assert.ok(chunks * C >= Math.min(rows * C, 1 << 15), `${rows} x ${C}: ${chunks} chunks`);
  }
});

test(
  "webgpu: the fused AdamW update matches the op chain on the cpu backend, in 3 launches a parameter (the op chain: over 10)",
  { skip: skip() },
  async () => {
    const rng = new Rng(11);
    const shapes = [[3, 3, 3, 4, 8], [8], [1000, 3]];
    const values = shapes.map((s) => [0, 1, 2].map(() => Float32Array.from(rand(s, rng))));
    // Two steps, so that the moments carried from the first enter the second.
    const before = process.env.MASSIVE_FUSED_OPS;
    const run = async (fused: string) => {
      process.env.MASSIVE_FUSED_OPS = fused;
      const vars = new Map(shapes.map((s, i) => [`p${i}`, tf.variable(tf.tensor(values[i][0], s))] as [string, tf.Variable]));
      const opt = new AdamW(vars);
      let dispatches = 0;
      for (let step = 0; step < 2; step++) {
        const grads = new Map(shapes.map((s, i) => [`p${i}`, tf.tensor(values[i][1 + step], s)] as [string, tf.Tensor]));
        if (tf.getBackend() === "webgpu") dispatches += (await countDispatches(() => opt.apply(grads, 1e-2))).dispatches;
        else opt.apply(grads, 1e-2);
        tf.dispose([...grads.values()]);
      }
      return { vars, opt, dispatches, fusedUsed: hasFusedAdamW() };
    };
    try {
      const gpu = await run("adamw");
      assert.ok(gpu.fusedUsed, "the fused AdamW update is registered on webgpu");
      assert.equal(gpu.dispatches, 2 * 3 * shapes.length);
      const got = await Promise.all([...gpu.vars.values()].map((v) => v.data()));
      const gpuOps = await run("0");
      assert.ok(gpuOps.dispatches >= 2 * 10 * shapes.length, `op chain: ${gpuOps.dispatches} launches`);
      await tf.setBackend("cpu");
      const cpu = await run("0");
      const want = [...cpu.vars.values()].map((v) => Float64Array.from(v.dataSync() as Float32Array));
      await tf.setBackend("webgpu");
      got.forEach((g, i) => assert.ok(relErr(g as Float32Array, want[i]) <= 1e-6, `parameter ${i}: ${relErr(g as Float32Array, want[i])}`));
      for (const r of [gpu, gpuOps, cpu]) {
        r.opt.dispose();
        tf.dispose([...r.vars.values()]);
      }
    } finally {
      if (before === undefined) delete process.env.MASSIVE_FUSED_OPS;
      else process.env.MASSIVE_FUSED_OPS = before;
    }
  },
);

test("webgpu: the BatchNorm + ReLU passes give the op form's output, batch statistics and gradients (cpu backend)", { skip: skip() }, async () => {
  const rng = new Rng(12);
  // The second shape has 40960 rows over 4 channels: several rows a chunk and more chunks than a workgroup.
  for (const shape of [
    [2, 5, 6, 7, 8],
    [1, 32, 32, 40, 4],
  ] as S5[]) {
    const C = shape[4];
    const xv = Float32Array.from(rand(shape, rng)).map((v, i) => v * 2 + (i % C) * 0.3);
    const wv = Float32Array.from(rand(shape, rng));
    const gv = Float32Array.from({ length: C }, () => 1 + rng.uniform(-0.3, 0.3));
    const bv = Float32Array.from({ length: C }, () => rng.uniform(-0.2, 0.2));
    const run = (fused: boolean) =>
      tf.tidy(() => {
        const [x, w, gamma, beta] = [tf.tensor5d(xv, shape), tf.tensor5d(wv, shape), tf.tensor1d(gv), tf.tensor1d(bv)];
        let stats: tf.Tensor[] = [];
        const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          if (fused) {
            const r = fusedBatchNormRelu(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
            stats = [r.mean, r.variance];
            return tf.sum(tf.mul(r.out, w)) as tf.Scalar;
          }
          const { mean, variance } = tf.moments(a, [0, 1, 2, 3]);
          const scale = tf.mul(tf.rsqrt(tf.add(variance, 1e-5)), g);
          return tf.sum(tf.mul(tf.relu(tf.add(tf.mul(tf.sub(a, mean), scale), b)), w)) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(f as (...a: tf.Tensor[]) => tf.Scalar)([x, gamma, beta]);
        // The op form's statistics, outside the tape (which disposes its intermediates).
        if (!fused) stats = Object.values(tf.moments(x, [0, 1, 2, 3]));
        return [value, ...grads, ...stats];
      });
    assert.ok(hasFusedBatchNormRelu(C), "the BatchNorm + ReLU passes are registered on webgpu");
    const got = await Promise.all(run(true).map((t) => t.data()));
    await tf.setBackend("cpu");
    const want = run(false).map((t) => Float64Array.from(t.dataSync() as Float32Array));
    await tf.setBackend("webgpu");
    ["value", "dx", "dgamma", "dbeta", "mean", "variance"].forEach((name, i) =>
      assert.ok(relErr(got[i] as Float32Array, want[i]) <= 2e-5, `${shape}: ${name} ${relErr(got[i] as Float32Array, want[i])}`),
    );
  }
});

interface RunOut {
  backend: string;
  describe: string;
  losses: number[];
  memory: { idx: number; site: string; entropy: number | null; numSeen: number; lifespan: number }[][];
  checkpointIt: number;
  dice: number | null;
}

function runOn(backend: string, data: string, steps: number): RunOut {
  const r = spawnSync(process.execPath, [join("dist", "scripts", "backend-run.js"), data, String(steps)], {
    encoding: "utf8",
    env: { ...process.env, MASSIVE_BACKEND: backend },
    timeout: 10 * 60 * 1000,
  });
  assert.equal(r.status, 0, `${backend} run failed: ${(r.stderr ?? "").split("\n").slice(-8).join("\n")}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as RunOut;
}

test(
  "webgpu: a smoke training run gives wasm's losses (within 1e-3) for 10 steps, the same memory decisions, a checkpoint and an evaluation",
  { skip: skip() },
  () => {
    const data = smokePrepared();
    const wasm = runOn("wasm", data, 10);
    const gpu = runOn("webgpu", data, 10);
    assert.equal(wasm.backend, "wasm");
    assert.equal(gpu.backend, "webgpu");
    assert.equal(gpu.losses.length, 10);
    gpu.losses.forEach((l, i) => assert.ok(Math.abs(l - wasm.losses[i]) <= 1e-3, `step ${i + 1}: webgpu ${l}, wasm ${wasm.losses[i]}`));
    // Decisions: which cases the memory holds, how often each was seen, their lifespans; the stored
    // entropies are float results and agree to 1e-3.
    const decisions = (m: RunOut["memory"]) => m.map((s) => s.map((e) => ({ idx: e.idx, site: e.site, numSeen: e.numSeen, lifespan: e.lifespan })));
    assert.deepEqual(decisions(gpu.memory), decisions(wasm.memory));
    gpu.memory.forEach((s, i) =>
      s.forEach((e, k) => {
        const w = wasm.memory[i][k].entropy;
        assert.ok((e.entropy === null) === (w === null) && (e.entropy === null || Math.abs(e.entropy - w!) <= 1e-3), `entropy step ${i + 1} item ${k}`);
      }),
    );
    assert.equal(gpu.checkpointIt, 10);
    assert.equal(gpu.dice === null, wasm.dice === null);
    if (gpu.dice !== null) assert.ok(Math.abs(gpu.dice - wasm.dice!) <= 0.02, `dice webgpu ${gpu.dice} wasm ${wasm.dice}`);
  },
);

test(
  "automatic choice never picks a software adapter: wasm, with the reason webgpu was skipped",
  { skip: skip() || (report?.adapter && !report.adapter.software ? "a hardware GPU adapter exists here" : false) },
  () => {
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { initBackend, describeBackend } from "./dist/src/backend.js"; const r = await initBackend({ log: () => {} }); console.log(JSON.stringify({ backend: r.backend, line: describeBackend(r) }));`,
      ],
      { encoding: "utf8", env: { ...process.env, MASSIVE_BACKEND: "" } },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { backend: string; line: string };
    assert.equal(out.backend, "wasm");
    assert.match(out.line, /skipped webgpu \(Dawn\)[^:]*: /);
  },
);
