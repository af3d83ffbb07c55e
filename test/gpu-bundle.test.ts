import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kitRoot } from "../src/util/paths.js";

/**
 * `npm run gpu-bundle` (scripts/gpu-bundle.mjs) makes what scripts/gpu-check.sh carries to a GPU machine. A
 * broken bundle is found only there, in a rare, timed session: it lacked the kit's newer wasm modules once.
 * Here it is built into a temporary folder from the built kit (no rebuild: dist/ is in use by the tests).
 * The bundler itself fails over 64 MiB and when the bundled kit cannot train on wasm (its self-check).
 */
const root = kitRoot();
const esbuild = join(root, "node_modules", ".bin", "esbuild");

test(
  "gpu-bundle: carries every wasm module of the kit's kernels and trains on wasm from its own folder",
  { skip: existsSync(esbuild) ? false : "esbuild not installed (npm ci installs it)" },
  () => {
    const tmp = mkdtempSync(join(tmpdir(), "massive-gpu-bundle-test-"));
    const out = join(tmp, "gpu-bundle");
    try {
      const r = spawnSync(process.execPath, [join(root, "scripts", "gpu-bundle.mjs")], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, GPU_BUNDLE: out },
        timeout: 300_000,
      });
      assert.equal(r.status, 0, `gpu-bundle failed:\n${r.stderr}`);
      assert.match(r.stderr, /self-check: the bundled kit prepares smoke data and trains 10 steps on wasm/);
      const kitWasm = readdirSync(join(root, "dist", "src", "kernels")).filter((f) => f.endsWith(".wasm"));
      assert.ok(kitWasm.length >= 6, `expected the kit's wasm modules in dist/src/kernels, found ${kitWasm.join(", ")}`);
      for (const f of kitWasm) assert.ok(existsSync(join(out, "kit", "dist", "src", "kernels", f)), `${f} missing from the bundle`);
      for (const f of ["gpu-check.js", join("dist", "src", "kernels", "conv-worker.js"), join("node_modules", "webgpu", "dist", "linux-x64", "dawn.node.gz")])
        assert.ok(existsSync(join(out, "kit", f)), `${f} missing from the bundle`);
      assert.ok(existsSync(join(out, "node.gz")), "node.gz missing");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
