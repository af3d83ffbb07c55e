import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
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
