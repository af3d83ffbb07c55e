/**
 * One training run in its own process, started by `npm run reproduce` (train-pool.ts):
 * `node dist/scripts/train-child.js <profile> <run key>`. It trains (or continues from its last
 * checkpoint) the planned run of that key, tells the parent its step over the IPC channel, and writes the
 * run's result file. It stops when the parent goes away, leaving its last checkpoint for the next try.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureData } from "../src/experiments/data.js";
import { plannedRuns } from "../src/experiments/plan.js";
import { experimentSettings } from "../src/experiments/settings.js";
import { runDirFor, trainRun } from "../src/experiments/train-run.js";
import { profileByName } from "../src/profiles.js";

/** Is process `pid` alive (signal 0 tests without sending)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Own the run folder: a child of a killed reproduction may still be finishing its step, and two writers
 * of one checkpoint must never overlap. Waits up to a minute for a live owner to go.
 */
async function claimRunDir(dir: string): Promise<void> {
  const owner = join(dir, "owner.pid");
  mkdirSync(dir, { recursive: true });
  for (let waited = 0; existsSync(owner); waited++) {
    const pid = Number(readFileSync(owner, "utf8"));
    if (!Number.isInteger(pid) || pid === process.pid || !alive(pid)) break;
    if (waited >= 60) throw new Error(`${dir} is still being trained by process ${pid}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  writeFileSync(owner, String(process.pid));
}

export interface ChildProgress {
  it: number;
  budget: number | null;
  resumed: boolean;
}

async function main(): Promise<void> {
  const [profile, key] = process.argv.slice(2);
  // Stop when the parent goes: 'disconnect' needs the event loop, which a run's steps seldom reach
  // (their awaits resolve at once), so each step also checks that the parent is still ours.
  const parent = process.ppid;
  process.on("disconnect", () => process.exit(130));
  const s = experimentSettings(profileByName(profile).name);
  const run = plannedRuns(s).find((r) => r.key === key);
  if (!run) throw new Error(`no run ${key} in the ${profile} plan (its settings changed?)`);
  const data = ensureData(s);
  await claimRunDir(runDirFor(s, key));
  let sent = 0;
  await trainRun(s, data, run, {
    log: (line) => console.error(line),
    onProgress: (p) => {
      if (process.ppid !== parent) process.exit(130);
      // At most one message a second: the parent shows the latest.
      if (p.budget !== null && p.it < p.budget && performance.now() - sent < 1000) return;
      sent = performance.now();
      process.send?.({ it: p.it, budget: p.budget, resumed: p.resumed } satisfies ChildProgress);
    },
  });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error((e as Error).stack ?? String(e));
    process.exit(1);
  },
);
