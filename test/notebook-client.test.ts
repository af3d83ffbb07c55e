import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { KernelClient, decodeMessage, encodeMessage, errorFromStderr, type JupyterMessage } from "../src/notebook/kernel.js";
import { CellError, executeNotebook } from "../src/notebook/execute.js";
import { readNotebook, writeNotebook, TSLAB_METADATA, type Notebook } from "../src/notebook/nbformat.js";
import { findJupyterPython } from "../src/notebook/setup.js";
import { tempDir } from "./helpers.js";

/**
 * The kit's own Jupyter client (src/notebook): the wire format, and real tslab kernels driven over
 * ZeroMQ without Python. Each kernel start takes a few seconds.
 */

function notebook(cells: string[]): Notebook {
  return {
    cells: cells.map((source, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, source, execution_count: null, outputs: [] })),
    metadata: { ...TSLAB_METADATA },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** nbformat's own validator, when a Python with nbformat is around (Debian: python3-nbformat). */
function validateWithNbformat(file: string): void {
  const py = findJupyterPython("nbformat")?.python;
  if (!py) return;
  const r = spawnSync(py, ["-c", "import sys, nbformat; nb = nbformat.read(sys.argv[1], as_version=4); nbformat.validate(nb); print('valid')", file], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `nbformat rejects ${file}:\n${r.stderr}`);
}

test("Jupyter wire messages are HMAC-SHA256 signed, and a bad signature is refused", () => {
  const msg: JupyterMessage = {
    header: { msg_id: "1", msg_type: "execute_request", session: "s", username: "u", date: "d", version: "5.3" },
    parent_header: {},
    metadata: {},
    content: { code: "1 + 1" },
  };
  const frames = encodeMessage("secret", msg);
  assert.equal(frames[0].toString(), "<IDS|MSG>");
  // A routing prefix (as a ROUTER or PUB socket adds) is skipped.
  assert.deepEqual(decodeMessage("secret", [Buffer.from("identity"), ...frames]).content, { code: "1 + 1" });
  assert.throws(() => decodeMessage("other key", frames), /bad HMAC signature/);
  const tampered = [...frames];
  tampered[5] = Buffer.from(JSON.stringify({ code: "2" }));
  assert.throws(() => decodeMessage("secret", tampered), /bad HMAC signature/);
});

test("tslab's stderr of a failed cell becomes ename / evalue", () => {
  assert.deepEqual(errorFromStderr("evalmachine.<anonymous>:2\nthrow x;\n^\n\nRangeError: too far\n    at x").ename, "RangeError");
  assert.equal(errorFromStderr("Error: boom\n    at y").evalue, "boom");
  assert.equal(errorFromStderr("1:7 - Type 'string' is not assignable to type 'number'.").ename, "TypeScriptError");
  assert.match(errorFromStderr("").evalue, /printed nothing/);
});

test(
  "a notebook runs on the tslab kernel through the TypeScript client: streams, displays updated in place, execution counts, the error with its stderr",
  { timeout: 120_000 },
  async () => {
    const dir = tempDir("massive-nb-");
    const file = join(dir, "t.ipynb");
    writeNotebook(
      file,
      notebook([
        'console.log("hello"); console.log("world");\nconst x: number = 20;\nx + 1',
        'import * as massive from "massive";\nconst line = massive.liveLine("step 0");\nfor (let i = 1; i <= 3; i++) { await new Promise((r) => setTimeout(r, 20)); line.update(`step ${i}/3`); }\nmassive.showMarkdown("**done**");',
        `console.log(${JSON.stringify(resolve("."))} + "/figures");`,
        'console.error("context line");\nthrow new RangeError("bad range here");',
        'console.log("never runs")',
      ]),
    );
    const out = join(dir, "out.ipynb");
    // cwd: notebooks/, so that "massive" resolves as it does for the real notebooks.
    await assert.rejects(executeNotebook(file, { out, cwd: resolve("notebooks") }), (e: unknown) => {
      assert.ok(e instanceof CellError);
      assert.equal(e.ename, "RangeError");
      assert.equal(e.evalue, "bad range here");
      assert.match(e.describe(), /context line/);
      assert.match(e.describe(), /throw new RangeError/);
      return true;
    });
    const nb = readNotebook(out);
    const cells = nb.cells as Extract<Notebook["cells"][number], { cell_type: "code" }>[];
    assert.deepEqual(
      cells.map((c) => c.execution_count),
      [1, 2, 3, 4, null],
    );
    const text = (o: Record<string, unknown>) => [o.text ?? ""].flat().join("");
    assert.equal(text(cells[0].outputs[0]), "hello\nworld\n21\n");
    // The progress line is one output showing its last state; the Markdown display follows it.
    const displays = cells[1].outputs.filter((o) => o.output_type === "display_data") as unknown as { data: Record<string, unknown> }[];
    assert.equal(displays.length, 2);
    assert.deepEqual(displays[0].data["text/plain"], ["step 3/3"]);
    assert.deepEqual(displays[1].data["text/markdown"], ["**done**"]);
    assert.ok(!("transient" in displays[0]), "transient is not stored");
    // The kit's absolute folder never lands in an output.
    assert.equal(text(cells[2].outputs[0]), "figures\n");
    const err = cells[3].outputs.find((o) => o.output_type === "error") as unknown as { ename: string; evalue: string; traceback: string[] };
    assert.equal(err.ename, "RangeError");
    assert.ok(err.traceback.some((l) => l.includes("bad range here")));
    assert.deepEqual(cells[4].outputs, []);
    validateWithNbformat(out);
  },
);

test("a cell past its time limit is interrupted and the kernel stays usable; shutdown ends the process", { timeout: 120_000 }, async () => {
  const k = new KernelClient({ cwd: resolve("notebooks") });
  await k.start();
  try {
    const slow = await k.execute("await new Promise((r) => setTimeout(r, 60_000));", { timeoutMs: 1500 });
    assert.equal(slow.status, "timeout");
    assert.equal(slow.error?.ename, "Timeout");
    const next = await k.execute("40 + 2");
    assert.equal(next.status, "ok");
    assert.deepEqual(next.outputs, [{ output_type: "stream", name: "stdout", text: "42\n" }]);
    assert.ok(k.running);
  } finally {
    await k.shutdown();
  }
  assert.equal(k.running, false, "the kernel process is gone after shutdown");
});

test("figure cells succeed without Chromium: Plotly's MIME output and HTML shown, HTML/JSON written, the note said once", { timeout: 120_000 }, async () => {
  const dir = tempDir("massive-nochromium-");
  const file = join(dir, "f.ipynb");
  const figures = join(dir, "figures");
  writeNotebook(
    file,
    notebook([
      'import * as massive from "massive";\nconst out = new massive.NotebookOutputs(massive.experimentSettings("smoke"), "99-test");',
      'await out.figure(massive.comparisonBarFigure(["a", "b"], [{ mean: 0.5, sd: 0.1 }, { mean: 0.4, sd: 0 }], [0.6, null], "t", "y"));\nawait out.figure(massive.memoryTimelineFigure([{ step: 1, items: [{ idx: 0, site: "D14" }] }], "m"), "-m");',
    ]),
  );
  await executeNotebook(file, { cwd: resolve("notebooks"), env: { ...process.env, MASSIVE_CHROMIUM: "none", MASSIVE_FIGURES: figures } });
  const nb = readNotebook(file);
  const outs = (nb.cells[1] as unknown as { outputs: Record<string, any>[] }).outputs;
  const figs = outs.filter((o) => o.output_type === "display_data");
  assert.equal(figs.length, 2);
  for (const f of figs) {
    assert.ok("application/vnd.plotly.v1+json" in f.data && "text/html" in f.data, "Plotly MIME + HTML");
    assert.ok(!("image/png" in f.data));
  }
  const notes = outs
    .filter((o) => o.output_type === "stream")
    .map((o) => [o.text].flat().join(""))
    .join("");
  assert.equal(notes.match(/PNG\/SVG export needs Chromium/g)?.length, 1, notes);
  assert.ok(!outs.some((o) => o.output_type === "stream" && o.name === "stderr"), "nothing on stderr");
  const written = readdirSync(join(figures, "99-test")).sort();
  assert.deepEqual(written, ["99-test-m.html", "99-test-m.json", "99-test.html", "99-test.json"]);
  // plotly.min.js once, outside the notebook's folder; the HTML points to it.
  assert.ok(existsSync(join(figures, "plotly.min.js")));
  assert.match(readFileSync(join(figures, "99-test", "99-test.html"), "utf8"), /src="\.\.\/plotly\.min\.js"/);
});

test("the TypeScript client needs no Python: it runs with only node on PATH", { timeout: 120_000 }, async () => {
  const bin = tempDir("massive-nopython-bin-");
  spawnSync("ln", ["-s", process.execPath, join(bin, "node")]);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
  delete env.PYTHON;
  assert.notEqual(spawnSync("/bin/sh", ["-c", "command -v python3 || command -v python || command -v jupyter"], { env }).status, 0, "python is still on PATH");
  const dir = tempDir("massive-nopython-");
  const file = join(dir, "p.ipynb");
  writeNotebook(file, notebook(["console.log(process.env.PATH === " + JSON.stringify(bin) + ' ? "no python here" : "PATH leaked")']));
  const script = `import { executeNotebook } from ${JSON.stringify(resolve("dist/src/notebook/execute.js"))}; await executeNotebook(${JSON.stringify(file)}, { cwd: ${JSON.stringify(resolve("notebooks"))} });`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const nb = readNotebook(file);
  assert.deepEqual((nb.cells[0] as unknown as { outputs: { text: string[] }[] }).outputs[0].text, ["no python here\n"]);
});
