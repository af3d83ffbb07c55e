/**
 * Which code made a result: the commit and whether the code (not the reproduction's own outputs)
 * differed from it. Its own module so that a training child process reads it without the report stack.
 */
import { execFileSync } from "node:child_process";
import { kitRoot } from "../util/paths.js";

/** What a reproduction writes into tracked folders: its own outputs, not a change to the code. */
export const OUTPUT_PATHS = ["results", "figures", "notebooks/*.ipynb"];

/**
 * The commit (short hash; "unknown" outside git) and the files that differ from it, leaving out the
 * reproduction's own outputs (OUTPUT_PATHS), so that a run from a clean checkout names a clean commit.
 */
export function gitState(): { commit: string; dirtyFiles: string[] } {
  const git = (args: string[]) => execFileSync("git", args, { cwd: kitRoot(), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  try {
    const commit = git(["rev-parse", "--short", "HEAD"]).trim();
    const status = git(["status", "--porcelain", "--", ".", ...OUTPUT_PATHS.map((p) => `:(exclude)${p}`)]);
    return {
      commit,
      dirtyFiles: status
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => l.slice(3)),
    };
  } catch {
    return { commit: "unknown", dirtyFiles: [] };
  }
}

/** The commit, marked when the code (not the outputs) had uncommitted changes. */
export function gitCommit(): string {
  const { commit, dirtyFiles } = gitState();
  return dirtyFiles.length ? `${commit} (code with uncommitted changes)` : commit;
}
