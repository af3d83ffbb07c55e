/**
 * Checkpoints: model weights, optimiser state, and the run's state (stream position, memory, generator),
 * in <run>/checkpoint/{state.json, tensors.bin}, with a SHA-256 per tensor that loading verifies.
 *
 * Saving is crash-safe at every point: the new checkpoint is written and fsynced in checkpoint.tmp-<pid>,
 * the current one is renamed to checkpoint.old, the new one renamed into place, and only then is
 * checkpoint.old deleted. A complete checkpoint exists at every moment (checkpoint/, else checkpoint.old/),
 * and a checkpoint.old that is the only complete one is never deleted before its successor is in place.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NamedArray } from "../model/params.js";
import { describeIoError, fsyncPath } from "../util/atomic.js";

export interface CheckpointIndexEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
  /** SHA-256 (hex) of the tensor's little-endian float32 bytes; absent in checkpoints of older kits. */
  sha256?: string;
}

export interface CheckpointFile<S> {
  format: "massive-checkpoint-v1";
  savedAt: string;
  state: S;
  tensors: CheckpointIndexEntry[];
}

/** Points of the swap where a test may simulate a kill (the hook throws there). */
export type SwapPoint = "tmp-written" | "old-removed" | "current-moved-to-old" | "new-in-place" | "old-deleted";

export interface SaveHooks {
  /** Called at each point of the swap, in order; a throw there leaves the folder as a kill would. */
  at?: (point: SwapPoint) => void;
}

export function checkpointDir(runDir: string): string {
  return join(runDir, "checkpoint");
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function complete(dir: string): boolean {
  return existsSync(join(dir, "state.json")) && existsSync(join(dir, "tensors.bin"));
}

/** checkpoint.tmp-<pid> folders left by killed runs (one writer per run folder: all are stale). */
function removeStaleTmp(runDir: string): void {
  if (!existsSync(runDir)) return;
  for (const n of readdirSync(runDir)) if (/^checkpoint\.tmp-\d+$/.test(n)) rmSync(join(runDir, n), { recursive: true, force: true });
}

export function saveCheckpoint<S>(runDir: string, state: S, arrays: NamedArray[], hooks: SaveHooks = {}): void {
  const final = checkpointDir(runDir);
  const old = `${final}.old`;
  const tmp = `${final}.tmp-${process.pid}`;
  const at = hooks.at ?? (() => {});
  removeStaleTmp(runDir);
  try {
    mkdirSync(tmp, { recursive: true });
    const total = arrays.reduce((s, a) => s + a.values.length, 0);
    const buf = new Float32Array(total);
    const index: CheckpointIndexEntry[] = [];
    let off = 0;
    for (const a of arrays) {
      buf.set(a.values, off);
      const bytes = new Uint8Array(buf.buffer, off * 4, a.values.length * 4);
      index.push({ name: a.name, shape: a.shape, offset: off, length: a.values.length, sha256: sha256(bytes) });
      off += a.values.length;
    }
    writeFileSync(join(tmp, "tensors.bin"), new Uint8Array(buf.buffer));
    const file: CheckpointFile<S> = { format: "massive-checkpoint-v1", savedAt: new Date().toISOString(), state, tensors: index };
    writeFileSync(join(tmp, "state.json"), JSON.stringify(file));
    fsyncPath(join(tmp, "tensors.bin"));
    fsyncPath(join(tmp, "state.json"));
    fsyncPath(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${tmp}: cannot write the checkpoint (${describeIoError(e)}); the previous checkpoint is kept`);
  }
  at("tmp-written");
  if (complete(final)) {
    // The current checkpoint is complete: an older checkpoint.old is redundant.
    rmSync(old, { recursive: true, force: true });
    at("old-removed");
    renameSync(final, old);
    at("current-moved-to-old");
  } else {
    // No complete current checkpoint (an earlier save was killed between its renames): checkpoint.old
    // may be the only complete one, so it stays until the new one is in place.
    rmSync(final, { recursive: true, force: true });
  }
  renameSync(tmp, final);
  fsyncPath(runDir);
  at("new-in-place");
  rmSync(old, { recursive: true, force: true });
  at("old-deleted");
}

export function hasCheckpoint(runDir: string): boolean {
  return complete(checkpointDir(runDir)) || complete(`${checkpointDir(runDir)}.old`);
}

export interface LoadedCheckpoint<S> {
  state: S;
  arrays: NamedArray[];
  dir: string;
  /** What could not be verified (checkpoints of older kits have no checksums). */
  warnings: string[];
}

export function loadCheckpoint<S>(runDir: string): LoadedCheckpoint<S> {
  // A kill between the two renames leaves only checkpoint.old: it is the last complete one.
  let dir = checkpointDir(runDir);
  if (!complete(dir) && complete(`${dir}.old`)) dir = `${dir}.old`;
  const stateFile = join(dir, "state.json");
  if (!existsSync(stateFile)) throw new Error(`${runDir}: no checkpoint to resume from`);
  let file: CheckpointFile<S>;
  try {
    file = JSON.parse(readFileSync(stateFile, "utf8")) as CheckpointFile<S>;
  } catch (e) {
    throw new Error(`${stateFile}: checkpoint state is not valid JSON (${(e as Error).message}); the checkpoint is damaged`);
  }
  if (file === null || typeof file !== "object" || file.format !== "massive-checkpoint-v1" || !Array.isArray(file.tensors)) {
    throw new Error(`${stateFile}: not a massive checkpoint`);
  }
  const binFile = join(dir, "tensors.bin");
  const bin = readFileSync(binFile);
  const need = file.tensors.reduce((s, t) => Math.max(s, t.offset + t.length), 0) * 4;
  if (bin.length !== need) throw new Error(`${binFile}: ${bin.length} bytes, the index needs ${need} (truncated checkpoint)`);
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
  const bytes = new Uint8Array(all.buffer);
  const warnings: string[] = [];
  const unchecked = file.tensors.filter((t) => typeof t.sha256 !== "string");
  const bad: string[] = [];
  for (const t of file.tensors) {
    if (typeof t.sha256 === "string" && sha256(bytes.subarray(t.offset * 4, (t.offset + t.length) * 4)) !== t.sha256) bad.push(t.name);
  }
  if (bad.length) {
    throw new Error(
      `${binFile}: checksum mismatch in ${bad.length} of ${file.tensors.length} tensor(s) (${bad.slice(0, 3).join(", ")}${bad.length > 3 ? ", ..." : ""}); ` +
        `the checkpoint is damaged (zeroed or overwritten); start a new run folder`,
    );
  }
  if (unchecked.length) {
    // An older kit's checkpoint: at least refuse what cannot be weights.
    let finite = true,
      nonzero = false;
    for (let i = 0; i < all.length; i++) {
      if (!Number.isFinite(all[i])) finite = false;
      else if (all[i] !== 0) nonzero = true;
    }
    if (!finite || !nonzero) throw new Error(`${binFile}: the tensors are ${finite ? "all zero" : "not finite"}; the checkpoint is damaged`);
    warnings.push(`${binFile}: ${unchecked.length} tensor(s) have no checksum (a checkpoint of an older kit); not verified`);
  }
  const arrays = file.tensors.map((t) => ({ name: t.name, shape: t.shape, values: all.slice(t.offset, t.offset + t.length) }));
  return { state: file.state, arrays, dir, warnings };
}
