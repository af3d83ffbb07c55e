/**
 * Atomic file writes: data goes to "<file>.tmp-<pid>" and is renamed into place, so a killed writer
 * never leaves half a file. A failed write (disk full, permissions) removes its temporary file and
 * says which file it was writing.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface AtomicWriteOptions {
  /** fsync the data before the rename (durable against power loss, not only against kills). */
  fsync?: boolean;
}

export function tempPathFor(file: string): string {
  return `${file}.tmp-${process.pid}`;
}

/** The reason of a failed system call without Node's bare "ENOSPC: ..., write" form's missing path. */
export function describeIoError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "ENOSPC") return "no space left on device (disk full)";
  if (err?.code === "EACCES" || err?.code === "EPERM") return `permission denied (${err.code})`;
  if (err?.code === "EROFS") return "read-only file system";
  return err?.message ?? String(e);
}

export function writeFileAtomic(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const tmp = tempPathFor(file);
  try {
    writeFileSync(tmp, data);
    if (options.fsync) fsyncPath(tmp);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`${file}: cannot write (${describeIoError(e)})`);
  }
}

/** fsync a file or a folder (folders: where the platform allows opening one). */
export function fsyncPath(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return; // folders cannot be opened on some platforms; nothing more to do there
  }
  try {
    fsyncSync(fd);
  } catch {
    /* EINVAL/EISDIR on platforms that cannot fsync folders */
  } finally {
    closeSync(fd);
  }
}

/**
 * Remove "*.tmp-<pid>" leftovers of killed writers in a folder (not recursive). Only one process writes
 * a prepared folder or a run folder at a time, so every leftover is stale. Returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => /\.tmp-\d+$/.test(n));
  for (const n of stale) rmSync(join(dir, n), { recursive: true, force: true });
  return stale;
}

/** A JSON file written atomically (one space of indentation: small files that stay readable). */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 1));
}
