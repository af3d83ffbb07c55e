/** Plain-text summaries of Dice results for terminals and logs. */
import { CLASS_NAMES } from "../data/ontology.js";
import type { DiceSummary } from "../eval/dice.js";

const fmt = (v: number | null) => (v === null ? "  -   " : v.toFixed(4));

export function formatDiceSummary(s: DiceSummary): string {
  const lines = ["class                              Dice    cases"];
  for (const [id, v] of Object.entries(s.perClass)) {
    lines.push(`${String(id).padStart(2)} ${CLASS_NAMES[Number(id) - 1].padEnd(30)} ${v.mean.toFixed(4)}  ${v.cases}`);
  }
  lines.push(`Organ average (1-25):  ${fmt(s.organAverage)}`);
  lines.push(`Tumor average (26-32): ${fmt(s.tumorAverage)}`);
  lines.push(`Average (all present): ${fmt(s.average)}`);
  return lines.join("\n");
}
