/**
 * The second thread: one worker_threads Worker with its own tfjs wasm backend, computing one part of a
 * convolution (see depth-parts.ts) while the main thread computes the other, or a share of the fused
 * dynamic heads (dynamic-heads.ts). tfjs-backend-wasm runs
 * single-threaded in Node (its threaded build needs Blob-URL workers), so this is how the kit uses the
 * second core. Inputs and outputs travel through a SharedArrayBuffer; the main thread blocks on an
 * Atomics flag, so kernels stay synchronous. If the worker cannot start or fails, the main thread
 * computes the part itself: same split, same arithmetic, same result.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { kitRoot } from "../util/paths.js";
import type { ConvGeometry } from "./conv3d-im2col.js";
import { env } from "../env.js";

export interface PartJob {
  op: "forward" | "filter";
  /** The part's own geometry. */
  g: ConvGeometry;
  /** [float offset, length] in the arena: the input slab, then the filter (forward) or dy part (filter). */
  a: [number, number];
  b: [number, number];
  out: [number, number];
}

/**
 * A share of the fused dynamic heads (dynamic-heads.ts) on V voxels: the forward pass of C classes, or
 * their backward pass (dyT given; out holds their parameter gradients, then their input-gradient terms).
 * Arena regions as in PartJob.
 */
export interface HeadsJob {
  op: "heads-forward" | "heads-backward";
  V: number;
  C: number;
  xT: [number, number];
  dyn: [number, number];
  dyT?: [number, number];
  out: [number, number];
}

export interface PartRunner {
  /** True once the worker is up (starting it on first use); false while starting or when broken. */
  available(): boolean;
  /** A float view of the shared arena with room for n floats (valid until the next arena call). */
  arena(n: number): Float32Array;
  start(job: PartJob | HeadsJob): void;
  /** Blocks until the job is done: true, or false when the worker failed (then compute locally). */
  wait(): boolean;
  /** Jobs the worker has finished. */
  readonly jobsDone: number;
}

const STATE_DONE = 0; // 0 running, 1 done, 2 failed
const STATE_READY = 1; // 1 when the worker's backend is up

export function convWorkerScript(): string {
  return join(kitRoot(), "dist", "src", "kernels", "conv-worker.js");
}

class ConvWorker implements PartRunner {
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private worker?: Worker;
  private shared?: SharedArrayBuffer;
  private broken = false;
  jobsDone = 0;

  constructor(private readonly script: string) {}

  private fail(why: string): void {
    if (!this.broken) process.stderr.write(`massive: convolution worker disabled (${why}); the main thread computes every part\n`);
    this.broken = true;
    void this.worker?.terminate();
  }

  available(): boolean {
    if (this.broken) return false;
    if (!this.worker) {
      try {
        this.worker = new Worker(this.script, { workerData: { state: this.state } });
        this.worker.unref(); // never keeps a finished program alive
        this.worker.on("error", (e) => this.fail(String(e)));
      } catch (e) {
        this.fail(String(e));
        return false;
      }
    }
    return Atomics.load(this.state, STATE_READY) === 1;
  }

  arena(n: number): Float32Array {
    if (!this.shared || this.shared.byteLength < 4 * n) this.shared = new SharedArrayBuffer(4 * Math.ceil(n * 1.25));
    return new Float32Array(this.shared, 0, n);
  }

  start(job: PartJob | HeadsJob): void {
    Atomics.store(this.state, STATE_DONE, 0);
    this.worker!.postMessage({ ...job, arena: this.shared });
  }

  wait(): boolean {
    const deadline = Date.now() + 120_000;
    while (Atomics.load(this.state, STATE_DONE) === 0) {
      if (Date.now() > deadline) {
        this.fail("no answer in 120 s");
        return false;
      }
      Atomics.wait(this.state, STATE_DONE, 0, 100);
    }
    if (Atomics.load(this.state, STATE_DONE) === 2) {
      this.fail("a part failed in the worker");
      return false;
    }
    this.jobsDone++;
    return true;
  }
}

let pool: PartRunner | null | undefined;

/** The process's convolution worker, or undefined when MASSIVE_CONV_THREADS=1 or it is not built. */
export function convWorker(): PartRunner | undefined {
  if (pool === undefined) {
    const script = convWorkerScript();
    pool = env("MASSIVE_CONV_THREADS") === "1" || !existsSync(script) ? null : new ConvWorker(script);
  }
  return pool ?? undefined;
}

/** For tests: replace the worker (undefined: no second thread). Returns the previous one. */
export function setConvWorker(runner: PartRunner | undefined): PartRunner | undefined {
  const before = convWorker();
  pool = runner ?? null;
  return before;
}

export { STATE_DONE, STATE_READY };
