import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findJupyterPython, jupyterScriptPython, NO_JUPYTER } from "../src/notebook/setup.js";
import { tempDir } from "./helpers.js";

/** `massive notebook` picks the Python that `jupyter` itself runs on, not whatever python3 is first on PATH. */
test("massive notebook finds jupyter's own interpreter from its script, and says what to install when there is none", () => {
  const bin = tempDir("massive-jupyter-bin-");
  const saved = { PATH: process.env.PATH, PYTHON: process.env.PYTHON };
  try {
    delete process.env.PYTHON;
    process.env.PATH = `${bin}:${saved.PATH}`;
    writeFileSync(join(bin, "jupyter"), "#!/opt/some/venv/bin/python3.11\nimport sys\n");
    chmodSync(join(bin, "jupyter"), 0o755);
    assert.equal(jupyterScriptPython(), "/opt/some/venv/bin/python3.11");
    writeFileSync(join(bin, "jupyter"), "#!/usr/bin/env python3\n");
    assert.equal(jupyterScriptPython(), "python3");
    // Whatever is found really imports jupyter_client and IPython (or nothing is found).
    const found = findJupyterPython();
    if (found) assert.ok(found.python && found.how);
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.PYTHON !== undefined) process.env.PYTHON = saved.PYTHON;
  }
  assert.match(NO_JUPYTER, /pip install jupyterlab plotly/);
  assert.match(NO_JUPYTER, /apt-get install jupyter-notebook/);
});
