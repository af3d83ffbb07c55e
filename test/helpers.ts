import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";
import { convWorker, type PartRunner } from "../src/kernels/conv-worker-pool.js";

/** The shared real CT (../shared/data), or the kit's identical copy in assets/ when shared/ is absent. */
export function realCtPaths(): { ct: string; seg: string; dir: string } {
  const shared = resolve("..", "shared", "data", "totalsegmentator-example");
  const dir = existsSync(join(shared, "example_ct_sm.nii.gz")) ? shared : resolve("assets", "totalsegmentator-example");
  return { ct: join(dir, "example_ct_sm.nii.gz"), seg: join(dir, "example_seg.nii.gz"), dir };
}

export function tempDir(prefix = "massive-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The process's convolution worker once it is up (it starts on first use); fails the test after 30 s. */
export async function startedConvWorker(): Promise<PartRunner> {
  const worker = convWorker();
  assert.ok(worker, "the worker script should be built (dist/src/kernels/conv-worker.js)");
  const t0 = Date.now();
  while (!worker.available()) {
    assert.ok(Date.now() - t0 < 30_000, "the convolution worker did not start in 30 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  return worker;
}
