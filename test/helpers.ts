import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The shared real CT (../shared/data), or the kit's identical copy in assets/ when shared/ is absent. */
export function realCtPaths(): { ct: string; seg: string; dir: string } {
  const shared = resolve("..", "shared", "data", "totalsegmentator-example");
  const dir = existsSync(join(shared, "example_ct_sm.nii.gz")) ? shared : resolve("assets", "totalsegmentator-example");
  return { ct: join(dir, "example_ct_sm.nii.gz"), seg: join(dir, "example_seg.nii.gz"), dir };
}

export function tempDir(prefix = "massive-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
