/**
 * Where the kit's files are. `src/` must load through tslab's require(), which rules out import.meta,
 * so the package root is found from MASSIVE_HOME, else by walking up from the working directory or
 * the running script to the package.json named "massive".
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { env } from "../env.js";

let cached: string | undefined;

function isKitRoot(dir: string): boolean {
  const pkg = join(dir, "package.json");
  if (!existsSync(pkg)) return false;
  try {
    return (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "massive";
  } catch {
    return false;
  }
}

function walkUp(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (isKitRoot(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function kitRoot(): string {
  if (cached) return cached;
  const candidates = [env("MASSIVE_HOME"), process.cwd()];
  if (process.argv[1]) {
    try {
      candidates.push(dirname(realpathSync(process.argv[1])));
    } catch {
      /* not a file: ignore */
    }
  }
  const here = thisModuleDir();
  if (here) candidates.push(here);
  for (const c of candidates) {
    if (!c) continue;
    const found = walkUp(c);
    if (found) return (cached = found);
  }
  throw new Error("cannot find the massive kit's folder (package.json named 'massive'); set MASSIVE_HOME to it");
}

/** This file's folder, read from a stack trace (import.meta is not available under tslab's require). */
function thisModuleDir(): string | undefined {
  const stack = new Error().stack ?? "";
  const m = /(file:\/\/[^\s)]+|\/[^\s()]+)[\\/]util[\\/]paths\.(?:js|ts)/.exec(stack);
  if (!m) return undefined;
  const p = m[1].startsWith("file://") ? fileURLToPath(m[1]) : m[1];
  return join(p, "util");
}

export function assetPath(...parts: string[]): string {
  return join(kitRoot(), "assets", ...parts);
}
