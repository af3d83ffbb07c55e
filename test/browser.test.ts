import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { chromiumPath } from "../src/report/export.js";
import { findJupyterPython, registerTslab } from "../src/notebook/setup.js";

// Code passed to page.evaluate runs in the browser, where these exist.
declare const window: any;
declare const document: any;

/**
 * A person's view: the classic Notebook server (Debian jupyter-notebook) on localhost, the tutorial opened
 * in headless Chromium, all cells run through the UI, and a rendered Plotly chart found on the page.
 * The screenshot is kept in test-artifacts/browser-tutorial.png.
 */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not come up`);
}

test("the tutorial runs in the classic Notebook in Chromium and shows a Plotly chart", { timeout: 20 * 60 * 1000 }, async () => {
  const py = findJupyterPython()?.python;
  assert.ok(py, "no Python with Jupyter: apt-get install jupyter-notebook python3-ipykernel");
  assert.equal(spawnSync(py, ["-c", "import notebook"]).status, 0, "the classic Notebook is missing: apt-get install jupyter-notebook");
  registerTslab(py);
  // A scratch copy beside the real notebooks (so `import "massive"` resolves), removed afterwards.
  const name = `_browser-test-${process.pid}.ipynb`;
  const copy = join("notebooks", name);
  copyFileSync(join("notebooks", "00-tutorial.ipynb"), copy);
  const port = await freePort();
  const token = `t${process.pid}${Date.now()}`;
  const work = resolve("test-artifacts", "browser-work"); // absolute: the kernel runs in notebooks/
  mkdirSync(work, { recursive: true });
  let server: ChildProcess | undefined;
  const { chromium } = (await import("playwright-core")) as unknown as {
    chromium: { launch(o: Record<string, unknown>): Promise<{ newPage(o?: Record<string, unknown>): Promise<any>; close(): Promise<void> }> };
  };
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox"] });
  try {
    server = spawn(
      py,
      ["-m", "notebook", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, `--NotebookApp.token=${token}`, "--notebook-dir=.", "--allow-root"],
      {
        env: { ...process.env, MASSIVE_PROFILE: "smoke", MASSIVE_WORK: work, MASSIVE_FIGURES: join(work, "figures") },
        stdio: "ignore",
      },
    );
    await waitFor(`http://127.0.0.1:${port}/api?token=${token}`, 60_000);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/notebooks/notebooks/${name}?token=${token}`);
    await page.waitForFunction(
      () => {
        const J = (window as any).Jupyter;
        return J?.notebook?.kernel?.is_connected?.() && J.notebook.kernel_selector;
      },
      undefined,
      { timeout: 120_000 },
    );
    // Never autosave the scratch copy's outputs; run everything through the notebook UI's own command.
    await page.evaluate(() => {
      const J = (window as any).Jupyter;
      J.notebook.set_autosave_interval(0);
      J.notebook.execute_all_cells();
    });
    await page.waitForFunction(
      () => {
        const J = (window as any).Jupyter;
        const cells = J.notebook.get_cells().filter((c: any) => c.cell_type === "code");
        return cells.every((c: any) => c.input_prompt_number !== "*" && c.input_prompt_number !== null && c.input_prompt_number !== undefined);
      },
      undefined,
      { timeout: 15 * 60 * 1000, polling: 1000 },
    );
    const errors = await page.evaluate(() => document.querySelectorAll(".output_error").length);
    const charts = await page.evaluate(() => document.querySelectorAll(".js-plotly-plot .main-svg").length);
    await page.screenshot({ path: join("test-artifacts", "browser-tutorial.png"), fullPage: false });
    await page.evaluate(() => document.querySelector(".js-plotly-plot")?.scrollIntoView());
    await page.screenshot({ path: join("test-artifacts", "browser-tutorial-chart.png") });
    assert.equal(errors, 0, "error outputs in the notebook");
    assert.ok(charts >= 1, `rendered Plotly charts on the page: ${charts}`);
    writeFileSync(join("test-artifacts", "browser-tutorial.txt"), `charts rendered: ${charts}\n`);
  } finally {
    await browser.close();
    server?.kill("SIGTERM");
    rmSync(copy, { force: true });
  }
});
