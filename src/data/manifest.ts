/**
 * The manifest of a prepared data directory: what each prepared case is and where it came from.
 * Written atomically after every case, so a killed prep run loses nothing it finished.
 */
import { existsSync, readFileSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../util/atomic.js";
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
  /** The list file the case came from (for messages). */
  sourceList?: string;
  /** Sizes of the prepared files, to notice files truncated or replaced after prep. */
  imageBytes?: number;
  labelBytes?: number;
}

export interface ManifestFailure {
  sourceImage: string;
  sourceLabel: string;
  error: string;
}

export interface Manifest {
  /** v2: labels are post-label codes (src/data/post-label.ts); v1 held one class id per voxel. */
  format: "massive-prepared-v2";
  spacing: Vec3;
  huWindow: [number, number];
  cases: ManifestCase[];
  failures: ManifestFailure[];
}

export const MANIFEST_NAME = "manifest.json";

export function emptyManifest(spacing: Vec3, huWindow: [number, number]): Manifest {
  return { format: "massive-prepared-v2", spacing, huWindow, cases: [], failures: [] };
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
  if ((m?.format as string) === "massive-prepared-v1") {
    throw new Error(`${file}: prepared by an older kit (one class id per voxel, tumours not inside their organ): run massive prep again into a new folder`);
  }
  if (m === null || typeof m !== "object" || m.format !== "massive-prepared-v2" || !Array.isArray(m.cases)) {
    throw new Error(`${file}: not a massive manifest (format ${JSON.stringify(m?.format)})`);
  }
  if (!Array.isArray(m.failures)) m.failures = [];
  validateManifestCases(m.cases, file);
  return m;
}

/** Every case has the fields training reads, with the right types; ids are unique. */
export function validateManifestCases(cases: unknown[], file: string): void {
  const seen = new Map<string, number>();
  cases.forEach((raw, i) => {
    const c = raw as Partial<Record<keyof ManifestCase, unknown>>;
    const where = `${file}: case #${i + 1}${typeof c?.id === "string" ? ` ("${c.id}")` : ""}`;
    if (c === null || typeof c !== "object") throw new Error(`${where}: not an object`);
    for (const key of ["id", "site", "template", "image", "label"] as const) {
      if (typeof c[key] !== "string" || c[key] === "") {
        throw new Error(`${where}: "${key}" must be a non-empty string, got ${JSON.stringify(c[key])} (hand-edited manifest?)`);
      }
    }
    if (c.split !== "train" && c.split !== "test") throw new Error(`${where}: "split" must be "train" or "test", got ${JSON.stringify(c.split)}`);
    for (const key of ["shape", "spacing"] as const) {
      const v = c[key];
      if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== "number" || !(x > 0))) {
        throw new Error(`${where}: "${key}" must be three positive numbers, got ${JSON.stringify(v)}`);
      }
    }
    if (!Array.isArray(c.classesPresent) || c.classesPresent.some((x) => !Number.isInteger(x))) {
      throw new Error(`${where}: "classesPresent" must be a list of class ids, got ${JSON.stringify(c.classesPresent)}`);
    }
    const prev = seen.get(c.id as string);
    if (prev !== undefined) throw new Error(`${where}: case id "${c.id}" is also case #${prev + 1}; ids must be unique`);
    seen.set(c.id as string, i);
  });
}

export function writeManifest(dir: string, m: Manifest): void {
  const file = join(dir, MANIFEST_NAME);
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(m, null, 1));
}

/** Size check of a prepared case's files against the manifest (files truncated or replaced after prep). */
export function preparedFilesProblem(dir: string, c: ManifestCase): string | undefined {
  for (const [name, bytes] of [
    [c.image, c.imageBytes],
    [c.label, c.labelBytes],
  ] as const) {
    const f = join(dir, name);
    if (!existsSync(f)) return `${f} is missing`;
    const size = statSync(f).size;
    if (bytes !== undefined && size !== bytes) return `${f} is ${size} bytes, the manifest recorded ${bytes} (truncated or replaced after prep)`;
  }
  return undefined;
}
