import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ENV_VARS } from "../src/env.js";
import { kitRoot } from "../src/util/paths.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("every MASSIVE_* variable is declared in src/env.ts and read only through it", () => {
  const root = kitRoot();
  const files = ["src", "scripts", "bench"].flatMap((d) => sources(join(root, d))).filter((f) => !f.endsWith(join("src", "env.ts")));
  const direct: string[] = [];
  const named = new Set<string>();
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    // Setting one (for a child process or a later read) is fine; reading one must go through env().
    for (const m of text.matchAll(/process\.env\.(MASSIVE_[A-Z_]+)(?!\s*=[^=])/g)) direct.push(`${f.slice(root.length + 1)}: ${m[1]}`);
    for (const m of text.matchAll(/\benv\("(MASSIVE_[A-Z_]+)"\)/g)) named.add(m[1]);
  }
  assert.deepEqual(direct, [], "read these through env() from src/env.ts");
  for (const n of named) assert.ok(n in ENV_VARS, `${n} is read but not declared`);
  for (const [name, v] of Object.entries(ENV_VARS)) assert.ok(v.meaning.length > 10 && v.default.length > 0, name);
});
