/**
 * Entry point of the convolution worker (conv-worker-pool.ts): a tfjs wasm backend of its own that
 * computes the convolution parts and the dynamic heads' shares it is sent, and flags each one done (or
 * failed) through the shared state array.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { runPartJob } from "./conv3d-parallel.js";
import { runHeadsJob } from "./dynamic-heads.js";
import { wasmArena } from "./wasm/arena.js";
import type { WasmBackendLike } from "./wasm/wasm-backend.js";
import { STATE_DONE, STATE_READY, type HeadsJob, type PartJob } from "./conv-worker-pool.js";

const state = (workerData as { state: Int32Array }).state;

const isHeadsJob = (job: PartJob | HeadsJob): job is HeadsJob => job.op === "heads-forward" || job.op === "heads-backward";

async function main() {
  if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend did not start in the convolution worker");
  const m = wasmArena(tf.backend() as unknown as WasmBackendLike);
  parentPort!.on("message", (job: (PartJob | HeadsJob) & { arena: SharedArrayBuffer }) => {
    let code = 1;
    try {
      const arena = new Float32Array(job.arena, 0, job.out[0] + job.out[1]);
      if (isHeadsJob(job)) runHeadsJob(job, arena);
      else runPartJob(m, job as PartJob, arena);
    } catch (e) {
      code = 2;
      process.stderr.write(`massive: convolution worker: ${(e as Error).stack ?? e}\n`);
    }
    Atomics.store(state, STATE_DONE, code);
    Atomics.notify(state, STATE_DONE);
  });
  Atomics.store(state, STATE_READY, 1);
}

main().catch((e) => {
  process.stderr.write(`massive: convolution worker could not start: ${(e as Error).message}\n`);
  Atomics.store(state, STATE_DONE, 2);
  Atomics.notify(state, STATE_DONE);
});
