/**
 * What a checkpoint was trained on, and the check that a resume continues that same run: the same
 * settings (each differing one named with its flag) and the same training stream (the prepared cases,
 * in order, with the same manifest entries). Anything else would train on, and index memory into,
 * other cases while looking like a continuation.
 */
import { createHash } from "node:crypto";
import type { ManifestCase } from "../data/manifest.js";
import type { MemoryState } from "../memory/item.js";
import type { TrainConfig } from "./config.js";

export interface DataFingerprint {
  /** The prepared folder, as given. */
  data: string;
  /** --sites, if the stream was restricted. */
  sites?: string[];
  /** SHA-256 over the stream's manifest entries (ids, files, file sizes, shapes, templates, sites, classes). */
  streamSha256: string;
  /** Stream case ids, in stream order. */
  caseIds: string[];
  /** Per case, the first 16 hex digits of the SHA-256 of its manifest entry (to name what changed). */
  caseSha256: string[];
}

/** The part of a run's saved state this check reads. */
export interface ResumableState {
  config: TrainConfig;
  data?: DataFingerprint;
  kind: "online" | "repeated";
  pos?: number;
  memory?: MemoryState;
  /** Online runs of several ranks: ranks 1..R-1 (rank 0's memory is `memory`). */
  moreRanks?: { memory: MemoryState }[];
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The manifest fields that decide what training sees (not where the lists were, nor when). */
function caseKey(c: ManifestCase): string {
  const { id, site, template, split, shape, spacing, image, label, sourceImage, sourceLabel, classesPresent, imageBytes, labelBytes } = c;
  return JSON.stringify({ id, site, template, split, shape, spacing, image, label, sourceImage, sourceLabel, classesPresent, imageBytes, labelBytes });
}

export function dataFingerprint(data: string, stream: ManifestCase[], sites?: string[]): DataFingerprint {
  const keys = stream.map(caseKey);
  return {
    data,
    ...(sites ? { sites: [...sites] } : {}),
    streamSha256: sha256(keys.join("\n")),
    caseIds: stream.map((c) => c.id),
    caseSha256: keys.map((k) => sha256(k).slice(0, 16)),
  };
}

/** Training settings and the flag that sets each, for messages. */
const FLAG_OF: Record<string, string> = {
  profile: "--profile",
  strategy: "--strategy",
  memorySize: "--memory",
  samplingRate: "--sampling-rate",
  topOneInK: "--top-k",
  epochs: "--epochs",
  lr: "--lr",
  roi: "--roi",
  seed: "--seed",
  checkpointEvery: "--checkpoint-every",
  ranks: "--ranks",
  "model.seed": "--seed",
  "model.widths": "--profile",
};

function flatten(v: unknown, prefix = "", out: Record<string, string> = {}): Record<string, string> {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = JSON.stringify(v);
  return out;
}

/** "memorySize (--memory): checkpoint 4, now 8", one per differing setting. */
export function configDifferences(saved: TrainConfig, asked: TrainConfig): string[] {
  const a = flatten(saved),
    b = flatten(asked);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
  return keys
    .filter((k) => !(k === "model.seed" && keys.includes("seed"))) // one flag, one line
    .map((k) => `${k}${FLAG_OF[k] ? ` (${FLAG_OF[k]})` : ""}: checkpoint ${a[k] ?? "unset"}, now ${b[k] ?? "unset"}`);
}

function listSome(ids: string[]): string {
  return ids.slice(0, 5).join(", ") + (ids.length > 5 ? `, ... (${ids.length} in all)` : "");
}

/** What differs between the stream a checkpoint was trained on and the one asked for now. */
export function dataDifferences(saved: DataFingerprint, asked: DataFingerprint): string[] {
  const out: string[] = [];
  const sitesText = (s?: string[]) => (s ? s.join(",") : "all");
  if (sitesText(saved.sites) !== sitesText(asked.sites)) out.push(`--sites: checkpoint ${sitesText(saved.sites)}, now ${sitesText(asked.sites)}`);
  if (saved.streamSha256 === asked.streamSha256) return out;
  const dataNote = saved.data !== asked.data ? ` (--data: checkpoint ${saved.data}, now ${asked.data})` : ` (in ${asked.data})`;
  const had = new Set(saved.caseIds),
    has = new Set(asked.caseIds);
  const added = asked.caseIds.filter((id) => !had.has(id));
  const removed = saved.caseIds.filter((id) => !has.has(id));
  if (added.length || removed.length || saved.caseIds.length !== asked.caseIds.length) {
    out.push(
      `the training stream has ${asked.caseIds.length} case(s), the checkpoint's had ${saved.caseIds.length}${dataNote}` +
        (added.length ? `; added: ${listSome(added)}` : "") +
        (removed.length ? `; gone: ${listSome(removed)}` : ""),
    );
  } else if (saved.caseIds.some((id, i) => id !== asked.caseIds[i])) {
    const i = saved.caseIds.findIndex((id, k) => id !== asked.caseIds[k]);
    out.push(`the training stream's order changed${dataNote}: position ${i} was ${saved.caseIds[i]}, is now ${asked.caseIds[i]}`);
  } else {
    const changed = saved.caseIds.filter((_, i) => saved.caseSha256[i] !== asked.caseSha256[i]);
    out.push(`the manifest entries of ${changed.length} case(s) changed${dataNote}: ${listSome(changed)} (prepared again, or another prepared folder)`);
  }
  return out;
}

/**
 * Throw, naming every difference, unless the checkpoint's run can be continued with `config` on `data`.
 * Returns notes to log (e.g. an older checkpoint that does not record its data).
 */
export function checkResume(ckDir: string, saved: ResumableState, config: TrainConfig, data: DataFingerprint): string[] {
  const diffs = configDifferences(saved.config, config);
  const notes: string[] = [];
  if (saved.data) diffs.push(...dataDifferences(saved.data, data));
  else {
    // A checkpoint of an older kit: it does not say what it was trained on. Refuse what cannot fit.
    const len = data.caseIds.length;
    const items = [saved.memory, ...(saved.moreRanks ?? []).map((r) => r.memory)].flatMap((m) => m?.items ?? []);
    const worst = Math.max(saved.pos ?? 0, ...items.map((m) => m.idx + 1));
    if (worst > len) diffs.push(`the checkpoint reaches stream position ${worst}, the training stream now has ${len} case(s)`);
    else notes.push(`${ckDir}: the checkpoint (an older kit's) does not record its data; cannot verify that ${data.data} is the data it was trained on`);
  }
  if (diffs.length) {
    throw new Error(
      `${ckDir}: cannot resume: the checkpoint's run differs from what was asked:\n  ${diffs.join("\n  ")}\n` +
        `pass the same flags and data, or start a new run folder`,
    );
  }
  return notes;
}
