/**
 * The manifest of a prepared data directory: what each prepared case is and where it came from.
 * Written atomically after every case, so a killed prep run loses nothing it finished.
 */
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Vec3 } from "./volume.js";

export type Split = "train" | "test";

export interface ManifestCase {
  id: string;
  /** Stream site (D1..D16), or "external" for data outside the paper's stream. */
  site: string;
  template: string;
  split: Split;
  shape: Vec3;
  spacing: Vec3;
  /** Prepared files, relative to the prepared directory. */
  image: string;
  label: string;
  /** Source files as given (relative to the list's root). */
  sourceImage: string;
  sourceLabel: string;
  classesPresent: number[];
}

export interface ManifestFailure {
  sourceImage: string;
  sourceLabel: string;
  error: string;
}

export interface Manifest {
  format: "massive-prepared-v1";
  spacing: Vec3;
  huWindow: [number, number];
  cases: ManifestCase[];
  failures: ManifestFailure[];
}

export const MANIFEST_NAME = "manifest.json";

export function emptyManifest(spacing: Vec3, huWindow: [number, number]): Manifest {
  return { format: "massive-prepared-v1", spacing, huWindow, cases: [], failures: [] };
}

export function readManifest(dir: string): Manifest {
  const file = join(dir, MANIFEST_NAME);
  if (!existsSync(file)) throw new Error(`${file}: no manifest; prepare the data first (massive prep / massive phantom)`);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch (e) {
    throw new Error(`${file}: manifest is not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== "massive-prepared-v1" || !Array.isArray(m.cases)) {
    throw new Error(`${file}: not a massive manifest (format ${JSON.stringify(m.format)})`);
  }
  return m;
}

export function writeManifest(dir: string, m: Manifest): void {
  const file = join(dir, MANIFEST_NAME);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(m, null, 1));
  renameSync(tmp, file);
}
