/**
 * figures/REPORT.md and the notebooks' closing cells: for each claim of the paper, our numbers beside the
 * paper's and the verdict of claims.ts (paired differences over seeds, 95% intervals). Built from the
 * stored results only: it never trains.
 */
import { existsSync, readdirSync } from "node:fs";
import { CLASS_NAMES } from "../data/ontology.js";
import type { PairedDifference, Verdict } from "../eval/paired.js";
import { formatDuration } from "../util/progress.js";
import { forgettingClaims, memoryClaims, NON_INFERIORITY_MARGIN, table1Claims, table2Claims, type Claim } from "./claims.js";
import { forgettingRows } from "./forgetting.js";
import { notebookFiguresDir } from "./outputs.js";
import { EXPERIMENT_NOTEBOOKS, F2, F3, T1, T2 } from "./plan.js";
import type { ReproduceProvenance } from "./provenance.js";
import { notebookResults, type MethodResults } from "./results.js";
import type { ExperimentSettings } from "./settings.js";
import { meanSd, memorySummaryRows } from "./table-rows.js";
import { PAPER_TABLE1, PAPER_TABLE2 } from "./paper-numbers.js";

const f4 = (v: number | null) => (v === null ? "-" : v.toFixed(4));
const pm = (m: { mean: number | null; sd: number | null }) => (m.mean === null ? "-" : m.sd === null ? f4(m.mean) : `${f4(m.mean)} ± ${f4(m.sd)}`);
const signed = (v: number) => (v >= 0 ? `+${v.toFixed(4)}` : `−${Math.abs(v).toFixed(4)}`);
const avg = (r: MethodResults) => meanSd(r.runs.map((x) => x.final.average));

/** "+0.0123, 95% interval [+0.0040, +0.0206], 5 seeds", or why there is no interval. */
export function describeDifference(d: PairedDifference): string {
  if (d.mean === null) return "not defined (no seed has a value on both sides)";
  if (d.lo === null || d.hi === null) return `${signed(d.mean)} from one seed: no interval`;
  return `${signed(d.mean)}, 95% interval [${signed(d.lo)}, ${signed(d.hi)}], ${d.n} seeds`;
}

const verdictWord = (v: Verdict) => `**${v}**`;

function claimLines(c: Claim): string[] {
  const lines = [`- Claim ${c.id}, ${c.statement}: ${verdictWord(c.verdict)}.`];
  for (const x of c.comparisons) {
    const line = x.threshold < 0 ? `above −${Math.abs(x.threshold)}` : `above ${x.threshold}`;
    lines.push(`  - ${x.label} (${c.measure}): ${describeDifference(x.diff)}; the claim wants it ${line}: ${x.verdict}.`);
  }
  return lines;
}

/** Per-class Dice averaged over every run given (each run's per-class mean over its test cases). */
function classDice(runs: MethodResults[]): { name: string; mean: number; runs: number }[] {
  const acc = new Map<number, number[]>();
  for (const r of runs)
    for (const run of r.runs)
      for (const [k, v] of Object.entries(run.final.perClass)) (acc.get(Number(k)) ?? acc.set(Number(k), []).get(Number(k))!).push(v.mean);
  return [...acc]
    .map(([k, vs]) => ({ name: CLASS_NAMES[k - 1] ?? `class ${k}`, mean: vs.reduce((a, b) => a + b, 0) / vs.length, runs: vs.length }))
    .sort((a, b) => b.mean - a.mean);
}

export interface ClaimSection {
  /** The notebook that shows it, e.g. "02-table2-dynamic-adaptation". */
  notebook: string;
  /** Markdown, starting with a "## " heading. */
  lines: string[];
  claims: Claim[];
}

/** Links (relative to figures/) to the tables and figures a notebook wrote, for REPORT.md. */
function artefactLinks(s: ExperimentSettings, notebook: string): string {
  const dir = notebookFiguresDir(s, notebook);
  if (!existsSync(dir)) return "";
  const files = readdirSync(dir).sort();
  const links: string[] = [];
  for (const f of files) {
    const base = f.replace(/\.[^.]+$/, "");
    if (f.endsWith(".csv")) links.push(`[table ${base.replace(notebook, "").replace(/^-/, "") || "(main)"}](${notebook}/${f})`);
    else if (f.endsWith(".json") && files.includes(`${base}.html`)) {
      const img = files.includes(`${base}.png`) ? `${base}.png` : `${base}.html`;
      links.push(`[figure ${base.replace(notebook, "").replace(/^-/, "") || "(main)"}](${notebook}/${img})`);
    }
  }
  return links.length ? `Files: ${links.join(", ")}; notebook: [notebooks/${notebook}.ipynb](../notebooks/${notebook}.ipynb).` : "";
}

function table1Sections(s: ExperimentSettings): ClaimSection[] {
  const t1 = notebookResults(s, T1);
  const claims = table1Claims(s, t1);
  const lines = ["## 1. On one site, LM is about as good as many epochs (Table 1)", ""];
  const lm = PAPER_TABLE1.filter((r) => r.memory !== null);
  const repeated = PAPER_TABLE1.find((r) => r.memory === null)!;
  lines.push(
    `Paper: LM ${lm.map((r) => r.average.toFixed(4)).join(" / ")} (N = ${lm.map((r) => r.memory).join(" / ")}) vs ${repeated.average.toFixed(4)} for 100 epochs.`,
    "",
  );
  lines.push(`Ours (Average Dice, mean ± sd over seeds): ${t1.map((r) => `${r.method} ${pm(avg(r))}`).join("; ")}.`, "");
  lines.push(...claims.flatMap(claimLines), "");
  return [{ notebook: T1, lines, claims }];
}

function table2Sections(s: ExperimentSettings): ClaimSection[] {
  const t2 = notebookResults(s, T2);
  const claims = table2Claims(s, t2);
  const byName = (n: string) => t2.find((r) => r.method === n || r.method.startsWith(n))!;
  const main = ["## 2. On the sequential stream, SM > DM > LM, and SM >= repeated (Table 2)", ""];
  const paper2 = (m: string) => PAPER_TABLE2.find((r) => r.method.startsWith(m))!.average.toFixed(4);
  main.push(`Paper (Average): LM ${paper2("LM")}, DM ${paper2("DM")}, SM top 25% ${paper2("SM top 25%")}, repeated ${paper2("Repeated")}.`, "");
  main.push(
    `Ours (Average, mean ± sd over seeds): ${["LM", "DM", "SM top 25%", "Repeated"].map((n) => `${byName(n).method} ${pm(avg(byName(n)))}`).join("; ")}.`,
    "",
  );
  main.push(...claims.filter((c) => c.id.startsWith("2")).flatMap(claimLines), "");
  const topK = ["## 3. Protecting the top 25% most uncertain cases is best (Table 2)", ""];
  topK.push(`Paper: ${["12.5%", "25%", "50%"].map((k) => `${k} ${paper2(`SM top ${k}`)}`).join(", ")}.`, "");
  topK.push(
    `Ours: ${t2
      .filter((r) => r.method.startsWith("SM"))
      .map((r) => `${r.method.replace("SM top ", "")} ${pm(avg(r))}`)
      .join(", ")}.`,
    "",
  );
  topK.push(...claims.filter((c) => c.id === "3").flatMap(claimLines), "");
  const learned = classDice(t2);
  const context = ["## What the network learned (context for the claims)", ""];
  context.push(
    "Dice per class on the stream's test cases, averaged over all Table 2 runs (every strategy and seed; classes a test case does not label are not counted). " +
      "The paper's Average is over 32 classes, many of them small organs and tumours that about 1500 CPU steps a run do not learn; the large organs show whether training works at all.",
    "",
    learned.length && learned[0].mean > 0
      ? `- best learned: ${learned
          .slice(0, 8)
          .map((c) => `${c.name} ${c.mean.toFixed(3)}`)
          .join(", ")}`
      : "- no class is segmented at all yet (every Dice is 0)",
    `- classes with mean Dice above 0.1: ${learned.filter((c) => c.mean > 0.1).length} of ${learned.length}`,
    "",
  );
  return [
    { notebook: T2, lines: main, claims: claims.filter((c) => c.id.startsWith("2")) },
    { notebook: T2, lines: topK, claims: claims.filter((c) => c.id === "3") },
    { notebook: T2, lines: context, claims: [] },
  ];
}

function forgettingSections(s: ExperimentSettings): ClaimSection[] {
  const online = notebookResults(s, F2);
  const claims = forgettingClaims(s, online);
  const rows = forgettingRows(s, online);
  const lines = ["## 4. LM forgets most (Figure 2)", ""];
  lines.push("Mean relative Dice drop over the sites after each evaluated site (negative = forgotten; mean ± sd over seeds):", "");
  for (const site of s.forgettingSites) {
    const mine = rows.filter((r) => r["evaluated site"] === site);
    lines.push(`- evaluated on ${site}: ${mine.map((r) => `${String(r.strategy)} ${String(r["mean relative drop (mean ± sd over seeds)"])}`).join(", ")}`);
  }
  const undef = rows
    .filter((r) => r["not defined after"])
    .map((r) => `${String(r.strategy)} on ${String(r["evaluated site"])} after ${String(r["not defined after"])}`);
  if (undef.length)
    lines.push(
      "",
      `Not defined (Dice 0 on the evaluated site right after learning it, so the drop is 0/0 in every seed): ${undef.join("; ")}. ` +
        `These are gaps in the figures and left out of every mean; they are not "no forgetting".`,
    );
  lines.push("", ...claims.flatMap(claimLines));
  if (Math.max(...online.map((r) => avg(r).mean ?? 0)) < 0.1)
    lines.push(
      "",
      "Caveat: the Dice values these drops are relative to are below 0.1, so a single test case moving from 0 to a few voxels changes them a lot.",
    );
  lines.push("");
  return [{ notebook: F2, lines, claims }];
}

function memorySections(s: ExperimentSettings): ClaimSection[] {
  const online = notebookResults(s, F3);
  const claims = memoryClaims(s, online);
  const lines = ["## 5. SM keeps older and harder cases (Figure 3)", ""];
  for (const site of s.snapshotSites) {
    const rows = memorySummaryRows(online, site);
    lines.push(
      `- at the end of ${site}: ` +
        rows
          .map((r) => `${String(r.strategy)}: ${String(r["share from earlier sites"])} from earlier sites, mean entropy ${String(r["mean stored entropy"])}`)
          .join("; ") +
        ".",
    );
  }
  lines.push("", ...claims.flatMap(claimLines), "");
  return [{ notebook: F3, lines, claims }];
}

const SECTIONS: Record<string, (s: ExperimentSettings) => ClaimSection[]> = {
  [T1]: table1Sections,
  [T2]: table2Sections,
  [F2]: forgettingSections,
  [F3]: memorySections,
};

/**
 * Each claim of the paper with what the stored runs show (the same verdicts in REPORT.md and in the
 * notebooks). Reads only the runs of the notebooks asked for; a missing run throws MissingRunsError.
 */
export function claimSections(s: ExperimentSettings, only?: string): ClaimSection[] {
  return EXPERIMENT_NOTEBOOKS.filter((nb) => only === undefined || only === nb).flatMap((nb) => SECTIONS[nb](s));
}

const HOW_JUDGED =
  `Each claim is judged on paired differences over seeds (the strategies of one seed share data and initialisation): ` +
  `the mean of the per-seed differences, its 95% Student-t interval, and **supported** when the whole interval is on the claim's side, ` +
  `**contradicted** when it is all on the other side, **undecided** when it straddles the line or there are fewer than two seeds. ` +
  `"About as good" and "matches or beats" mean not worse by more than ${NON_INFERIORITY_MARGIN} (the line is −${NON_INFERIORITY_MARGIN}). ` +
  `A relative Dice drop from a Dice of 0 is not defined and left out, never counted as "no forgetting".`;

/** The notebook's closing cell ("what this shows"), as Markdown. */
export function whatThisShows(s: ExperimentSettings, notebook: string): string {
  const body = claimSections(s, notebook)
    .map((c) => c.lines.join("\n").replace(/^## /m, "### "))
    .join("\n");
  return `## What this shows (profile ${s.profile}, seeds ${s.seeds.join(", ")})\n\nGenerated from the runs above by the code that writes REPORT.md; nothing here is fixed prose. ${HOW_JUDGED}\n\n${body}`;
}

function summaryTable(claims: Claim[]): string[] {
  const rows = claims.map(
    (c) => `| ${c.id} | ${c.statement} | ${c.verdict} | ${c.comparisons.map((x) => `${x.label}: ${describeDifference(x.diff)}`).join("; ")} |`,
  );
  return ["| claim | the paper says | verdict here | paired differences |", "|---|---|---|---|", ...rows, ""];
}

function runTimes(prov: ReproduceProvenance | undefined): string[] {
  const lines = ["## Run times", ""];
  if (!prov) return [...lines, "Not recorded (no PROVENANCE.json).", ""];
  if (prov.runs?.length) {
    const total = prov.runs.reduce((a, r) => a + r.trainSeconds, 0);
    lines.push(
      `- training: ${prov.runs.length} runs, ${formatDuration(total)} of training summed over runs` +
        (prov.wallSecondsTraining !== undefined && prov.runs.some((r) => r.trainedNow)
          ? `, ${formatDuration(prov.wallSecondsTraining)} wall time with ${prov.jobs ?? 1} parallel jobs`
          : "") +
        (prov.runs.some((r) => !r.trainedNow) ? ` (${prov.runs.filter((r) => !r.trainedNow).length} of them trained by an earlier invocation)` : ""),
    );
  }
  if (prov.runs?.length) {
    // A reproduction may span sessions and commits: say which code trained how many runs.
    const byCommit = new Map<string, number>();
    for (const r of prov.runs) byCommit.set(r.commit ?? "not recorded", (byCommit.get(r.commit ?? "not recorded") ?? 0) + 1);
    lines.push(
      `- trained by: ${[...byCommit]
        .sort((a, b) => b[1] - a[1])
        .map(([c, n]) => `${c} (${n} run${n === 1 ? "" : "s"})`)
        .join(", ")}; notebooks and this report by ${prov.commit}${prov.codeDirty ? " with uncommitted changes" : ""}`,
    );
  }
  for (const [nb, sec] of Object.entries(prov.wallSecondsPerNotebook ?? {})) lines.push(`- notebook ${nb}: ${formatDuration(sec)}`);
  return [...lines, ""];
}

export function buildReport(s: ExperimentSettings, prov: ReproduceProvenance | undefined): string {
  const sections = claimSections(s);
  const lines: string[] = [];
  lines.push(`# What our ${s.profile} run shows, claim by claim`, "");
  lines.push(
    `Profile \`${s.profile}\`: synthetic PAOT-like phantoms (see README), seeds ${s.seeds.join(", ")}; values are mean ± sd over seeds of the Average Dice on the test split. ` +
      `Made by \`npm run reproduce -- --profile ${s.profile}\` from the stored per-run results; provenance (commit, date, backend, wall times) in [PROVENANCE.json](PROVENANCE.json). ` +
      `The scale is tiny next to the paper (tens of cases, a narrow net, about 1500 steps per run).`,
    "",
    HOW_JUDGED,
    "",
  );
  lines.push(...summaryTable(sections.flatMap((c) => c.claims)));
  const linked = new Set<string>();
  for (const c of sections) {
    lines.push(...c.lines);
    if (!linked.has(c.notebook)) {
      linked.add(c.notebook);
      const l = artefactLinks(s, c.notebook);
      if (l) lines.push(l, "");
    }
  }
  lines.push(...runTimes(prov));
  return lines.join("\n");
}
