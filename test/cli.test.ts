import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kitRoot } from "../src/util/paths.js";
import { tempDir } from "./helpers.js";

function massive(...args: string[]) {
  return spawnSync(process.execPath, ["bin/massive.js", ...args], { encoding: "utf8" });
}

test("every command has --help", () => {
  for (const cmd of ["phantom", "prep"]) {
    const r = massive(cmd, "--help");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`massive ${cmd}:`));
    assert.match(r.stdout, /--out/);
  }
  assert.match(massive("--help").stdout, /commands:/);
});

test("bad flags and unknown commands exit non-zero with a message", () => {
  let r = massive("phantom", "--profile", "smoke", "--frobnicate");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option '--frobnicate'/);
  r = massive("phantom", "--profile", "huge", "--out", tempDir());
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown profile "huge"/);
  r = massive("phantom", "--size", "0,4", "--out", tempDir());
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--size must be/);
  r = massive("prep", "--out", tempDir());
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--list is required/);
  r = massive("fly");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "fly"/);
});

test("phantom then prep from the command line", () => {
  const dir = tempDir();
  let r = massive("phantom", "--profile", "smoke", "--seed", "3", "--sites", "D3,D9", "--out", join(dir, "ph"), "--size", "24,20,8");
  assert.equal(r.status, 0, r.stderr);
  r = massive("prep", "--profile", "smoke", "--list", join(dir, "ph", "stream_train.txt"), "--out", join(dir, "prep"));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /4 prepared, 0 already there, 0 failed/);
  assert.ok(existsSync(join(dir, "prep", "manifest.json")));
});

test("every command's usage line and help name all of its options, and so does the README's synopsis", async () => {
  const { COMMANDS } = await import("../src/cli/main.js");
  const readme = readFileSync(join(kitRoot(), "README.md"), "utf8");
  const synopsis = readme.slice(readme.indexOf("## Commands"));
  const block = synopsis.slice(synopsis.indexOf("```sh"), synopsis.indexOf("```", synopsis.indexOf("```sh") + 5));
  const missing: string[] = [];
  for (const cmd of COMMANDS) {
    // A README entry runs from `npx massive <name>` to the next `npx massive`.
    const start = block.indexOf(`npx massive ${cmd.name} `);
    const next = start < 0 ? -1 : block.indexOf("npx massive", start + 1);
    const entry = start < 0 ? undefined : block.slice(start, next < 0 ? undefined : next);
    for (const name of Object.keys(cmd.options)) {
      // The whole flag: --site must not pass because --sites is there.
      const flag = new RegExp(`--${name}(?![\\w-])`);
      if (!flag.test(cmd.usage)) missing.push(`${cmd.name}: usage lacks --${name}`);
      if (!cmd.help[name]) missing.push(`${cmd.name}: help lacks --${name}`);
      if (entry !== undefined && !flag.test(entry)) missing.push(`${cmd.name}: README synopsis lacks --${name}`);
    }
  }
  assert.deepEqual(missing, []);
});
