/**
 * Static export of Plotly figures from Node through headless Chromium (Debian `chromium`, driven by
 * playwright-core; no browser is ever downloaded): PNG and SVG via Plotly.toImage, and a standalone
 * HTML page that loads plotly.min.js. Without Chromium (none installed, or MASSIVE_CHROMIUM=none) the
 * HTML and JSON are still written and PNG/SVG are skipped, with one note saying so.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import type { PlotlyFigure } from "./plots.js";
import { kitRoot } from "../util/paths.js";
import { env } from "../env.js";

export type ExportFormat = "png" | "svg" | "html" | "json";

const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function chromiumPath(): string {
  const chosen = env("MASSIVE_CHROMIUM");
  if (chosen === "none") throw new Error("MASSIVE_CHROMIUM=none: no browser is used");
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`MASSIVE_CHROMIUM=${chosen} does not exist`);
    return chosen;
  }
  const found = CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found (looked at ${CHROMIUM_CANDIDATES.join(", ")}); install Debian's chromium or set MASSIVE_CHROMIUM`);
  return found;
}

/** Whether a Chromium for PNG/SVG export is there (MASSIVE_CHROMIUM=none says no). */
export function chromiumAvailable(): boolean {
  try {
    chromiumPath();
    return true;
  } catch {
    return false;
  }
}

let noBrowserNoted = false;

/** Say once per process that PNG/SVG need Chromium (on stdout: it is a note, not an error). */
export function noteNoChromium(): void {
  if (noBrowserNoted) return;
  noBrowserNoted = true;
  let why: string;
  try {
    chromiumPath();
    why = "";
  } catch (e) {
    why = (e as Error).message;
  }
  console.log(
    `figures: PNG/SVG export needs Chromium (${why}); showing the interactive Plotly output and writing HTML/JSON only. ` +
      "Install Debian's chromium or set MASSIVE_CHROMIUM to a Chromium binary.",
  );
}

/** The Plotly bundle used everywhere (cartesian traces: scatter, bar, heatmap). */
export function plotlyBundlePath(): string {
  const req = createRequire(join(kitRoot(), "package.json"));
  return join(dirname(req.resolve("plotly.js/package.json")), "dist", "plotly-cartesian.min.js");
}

interface BrowserLike {
  newPage(): Promise<PageLike>;
  close(): Promise<void>;
}
interface PageLike {
  setContent(html: string): Promise<void>;
  addScriptTag(opts: { path: string }): Promise<unknown>;
  evaluate<T, A>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
  close(): Promise<void>;
}

let browserPromise: Promise<BrowserLike> | undefined;

async function browser(): Promise<BrowserLike> {
  if (!browserPromise) {
    browserPromise = (async () => {
      const { chromium } = (await import("playwright-core")) as unknown as {
        chromium: { launch(o: Record<string, unknown>): Promise<BrowserLike> };
      };
      const b = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox", "--disable-gpu"] });
      process.once("exit", () => void b.close().catch(() => {}));
      return b;
    })();
  }
  return browserPromise;
}

export async function closeExportBrowser(): Promise<void> {
  if (!browserPromise) return;
  const b = await browserPromise;
  browserPromise = undefined;
  await b.close();
}

/** Render a figure in Chromium and return PNG bytes or SVG text. */
export async function renderFigure(fig: PlotlyFigure, format: "png" | "svg", scale = 2): Promise<Buffer | string> {
  const b = await browser();
  const page = await b.newPage();
  try {
    await page.setContent("<!doctype html><html><body><div id='fig'></div></body></html>");
    await page.addScriptTag({ path: plotlyBundlePath() });
    const width = Number(fig.layout.width ?? 640);
    const height = Number(fig.layout.height ?? 400);
    const url = await page.evaluate(
      async (a: { fig: PlotlyFigure; format: string; width: number; height: number; scale: number }) => {
        const P = (globalThis as unknown as { Plotly: { newPlot: (...args: unknown[]) => Promise<unknown>; toImage: (...args: unknown[]) => Promise<string> } })
          .Plotly;
        const el = (globalThis as unknown as { document: { getElementById(id: string): unknown } }).document.getElementById("fig");
        await P.newPlot(el, a.fig.data, a.fig.layout, { staticPlot: true });
        return (await P.toImage(el, { format: a.format, width: a.width, height: a.height, scale: a.scale })) as string;
      },
      { fig, format, width, height, scale },
    );
    if (format === "png") return Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
    return decodeURIComponent(url.slice(url.indexOf(",") + 1));
  } finally {
    await page.close();
  }
}

/** A standalone HTML page for a figure; Plotly is loaded from plotly.min.js in the same folder. */
export function figureHtml(fig: PlotlyFigure, scriptSrc: string, title: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title><script src="${scriptSrc}"></script></head>
<body><div id="fig"></div>
<script>Plotly.newPlot("fig", ${JSON.stringify(fig.data)}, ${JSON.stringify(fig.layout)});</script>
</body></html>
`;
}

/**
 * Write a figure as <base>.png, <base>.svg, <base>.html, <base>.json (those asked for). Returns the
 * files written.
 */
export async function exportFigure(
  fig: PlotlyFigure,
  base: string,
  formats: ExportFormat[] = ["png", "svg", "html", "json"],
  bundleDir = dirname(base),
): Promise<string[]> {
  mkdirSync(dirname(base), { recursive: true });
  const out: string[] = [];
  const browser = chromiumAvailable();
  for (const f of formats) {
    if ((f === "png" || f === "svg") && !browser) {
      noteNoChromium();
      continue;
    }
    const file = `${base}.${f}`;
    if (f === "json") writeFileSync(file, JSON.stringify(fig));
    else if (f === "html") {
      mkdirSync(bundleDir, { recursive: true });
      const bundle = join(bundleDir, "plotly.min.js");
      if (!existsSync(bundle)) copyFileSync(plotlyBundlePath(), bundle);
      writeFileSync(
        file,
        figureHtml(fig, relative(dirname(file), bundle) || "plotly.min.js", String((fig.layout.title as { text?: string })?.text ?? "figure")),
      );
    } else writeFileSync(file, await renderFigure(fig, f));
    out.push(file);
  }
  return out;
}

/** The Plotly bundle's source, for inlining into notebook outputs. */
export function plotlyBundleSource(): string {
  return readFileSync(plotlyBundlePath(), "utf8");
}
