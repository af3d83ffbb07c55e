/**
 * Checkpoints: model weights, optimiser state, and the run's state (stream position, memory, generator),
 * in <run>/checkpoint/{state.json, tensors.bin}. Written into a fresh folder and swapped in by rename, so
 * a run killed while writing keeps its previous checkpoint intact.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NamedArray } from "../model/params.js";

export interface CheckpointIndexEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export interface CheckpointFile<S> {
  format: "massive-checkpoint-v1";
  savedAt: string;
  state: S;
  tensors: CheckpointIndexEntry[];
}

export function checkpointDir(runDir: string): string {
  return join(runDir, "checkpoint");
}

export function saveCheckpoint<S>(runDir: string, state: S, arrays: NamedArray[]): void {
  const final = checkpointDir(runDir);
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const total = arrays.reduce((s, a) => s + a.values.length, 0);
  const buf = new Float32Array(total);
  const index: CheckpointIndexEntry[] = [];
  let off = 0;
  for (const a of arrays) {
    buf.set(a.values, off);
    index.push({ name: a.name, shape: a.shape, offset: off, length: a.values.length });
    off += a.values.length;
  }
  writeFileSync(join(tmp, "tensors.bin"), Buffer.from(buf.buffer));
  const file: CheckpointFile<S> = { format: "massive-checkpoint-v1", savedAt: new Date().toISOString(), state, tensors: index };
  writeFileSync(join(tmp, "state.json"), JSON.stringify(file));
  const old = `${final}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

export function hasCheckpoint(runDir: string): boolean {
  return existsSync(join(checkpointDir(runDir), "state.json")) || existsSync(join(`${checkpointDir(runDir)}.old`, "state.json"));
}

export function loadCheckpoint<S>(runDir: string): { state: S; arrays: NamedArray[]; dir: string } {
  // A kill between the two renames leaves only checkpoint.old: it is the last complete one.
  let dir = checkpointDir(runDir);
  if (!existsSync(join(dir, "state.json")) && existsSync(join(`${dir}.old`, "state.json"))) dir = `${dir}.old`;
  const stateFile = join(dir, "state.json");
  if (!existsSync(stateFile)) throw new Error(`${runDir}: no checkpoint to resume from`);
  let file: CheckpointFile<S>;
  try {
    file = JSON.parse(readFileSync(stateFile, "utf8")) as CheckpointFile<S>;
  } catch (e) {
    throw new Error(`${stateFile}: checkpoint state is not valid JSON (${(e as Error).message})`);
  }
  if (file.format !== "massive-checkpoint-v1") throw new Error(`${stateFile}: not a massive checkpoint`);
  const bin = readFileSync(join(dir, "tensors.bin"));
  const need = file.tensors.reduce((s, t) => Math.max(s, t.offset + t.length), 0) * 4;
  if (bin.length !== need) throw new Error(`${join(dir, "tensors.bin")}: ${bin.length} bytes, the index needs ${need} (truncated checkpoint)`);
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
  const arrays = file.tensors.map((t) => ({ name: t.name, shape: t.shape, values: all.slice(t.offset, t.offset + t.length) }));
  return { state: file.state, arrays, dir };
}
