/**
 * PAOT-style list files: one case per line, "image<TAB>label", paths relative to a data root, as in
 * the reference code's dataset lists. Blank lines and lines starting with # are ignored.
 * A line with a tab is split on tabs only, so paths may contain spaces; a line without one is split
 * at a run of two or more spaces, or at the space before the second ".nii" path.
 */
import { readFileSync } from "node:fs";

export interface ListEntry {
  image: string;
  label: string;
  /** 1-based line number, for error messages. */
  line: number;
}

export function parseListFile(text: string, file: string): ListEntry[] {
  const out: ListEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^[ \r\n]+|[ \r\n]+$/g, "").replace(/^\t+|\t+$/g, "");
    if (!line.trim() || line.trim().startsWith("#")) return;
    const cols = line.includes("\t")
      ? line
          .split(/\t+/)
          .map((c) => c.trim())
          .filter(Boolean)
      : line.split(/\s{2,}|\s+(?=\S+\.nii)/).filter(Boolean);
    if (cols.length !== 2) {
      const hint = line.includes("\t") ? "" : "; separate image and label with a tab when a path contains spaces";
      throw new Error(`${file}:${i + 1}: expected "image<TAB>label" (two paths), got ${cols.length} column(s) in "${line}"${hint}`);
    }
    out.push({ image: cols[0], label: cols[1], line: i + 1 });
  });
  if (out.length === 0) throw new Error(`${file}: the list has no cases`);
  return out;
}

export function readListFile(file: string): ListEntry[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read list file (${(e as Error).message})`);
  }
  return parseListFile(text, file);
}

export function formatListFile(entries: { image: string; label: string }[]): string {
  return entries.map((e) => `${e.image}\t${e.label}`).join("\n") + "\n";
}
