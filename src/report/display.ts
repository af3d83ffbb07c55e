/**
 * Rich output in tslab notebooks. A figure goes out as one display bundle with three MIME types, and
 * the front end picks what it can show:
 *   application/vnd.plotly.v1+json  JupyterLab with the Python `plotly` package (interactive, safe untrusted)
 *   text/html                        a static PNG <img>, replaced by a live Plotly chart when the notebook
 *                                    is trusted (classic Notebook; untrusted HTML loses its script, the
 *                                    image stays)
 *   image/png                        everything else (nbconvert, GitHub)
 * Without Chromium there is no PNG: the bundle carries the Plotly MIME type and the live HTML chart
 * (and export.ts says once that PNG/SVG need Chromium).
 * Outside a tslab kernel (scripts, tests) these functions do nothing but return what they would show.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { kitRoot } from "../util/paths.js";
import { chromiumAvailable, noteNoChromium, plotlyBundleSource, renderFigure } from "./export.js";
import type { PlotlyFigure } from "./plots.js";

type WriteDisplayData = (
  msg: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

function tslabWriter(): WriteDisplayData | undefined {
  try {
    const req = createRequire(join(kitRoot(), "package.json"));
    const jupyter = req("tslab/dist/jupyter") as { lastWriteDisplayData?: WriteDisplayData };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

export function inNotebook(): boolean {
  return tslabWriter() !== undefined;
}

let plotlyInlined = false;
let figureCounter = 0;

export function sendBundle(data: Record<string, unknown>): boolean {
  const write = tslabWriter();
  if (!write) return false;
  write({ data, metadata: {}, transient: {} }, false);
  return true;
}

/** Show a Plotly figure (see the module comment); returns the PNG it rendered (undefined without Chromium). */
export async function showFigure(fig: PlotlyFigure): Promise<Buffer | undefined> {
  const png = chromiumAvailable() ? ((await renderFigure(fig, "png", 1)) as Buffer) : undefined;
  if (!png) noteNoChromium();
  const b64 = png?.toString("base64");
  const id = `massive-fig-${process.pid}-${++figureCounter}`;
  // The Plotly bundle is inlined once per kernel session, in the first figure's output.
  const loader = plotlyInlined ? "" : `<script>if(!window.Plotly){${plotlyBundleSource().replace(/<\/script/gi, "<\\/script")}}</script>`;
  plotlyInlined = true;
  const html =
    `<div id="${id}">${b64 ? `<img src="data:image/png;base64,${b64}" alt="figure"/>` : "<p>(interactive figure: shown when the notebook is trusted; PNG needs Chromium)</p>"}</div>${loader}` +
    `<script>(function(){var el=document.getElementById(${JSON.stringify(id)});if(window.Plotly&&el){el.innerHTML="";` +
    `Plotly.newPlot(el,${JSON.stringify(fig.data)},${JSON.stringify(fig.layout)});}})();</script>`;
  sendBundle({
    "application/vnd.plotly.v1+json": { data: fig.data, layout: fig.layout },
    "text/html": html,
    ...(b64 ? { "image/png": b64 } : {}),
    "text/plain": `<Plotly figure: ${String((fig.layout.title as { text?: string })?.text ?? "")}>`,
  });
  return png;
}

let liveCounter = 0;

/**
 * One line of progress that updates in place (a display with a display_id, updated with
 * update_display_data), instead of a new stderr line per report. Outside a notebook: lines on stderr.
 */
export function liveLine(initial = ""): { update(text: string): void } {
  const write = tslabWriter();
  if (!write) {
    if (initial) process.stderr.write(initial + "\n");
    return { update: (t) => void process.stderr.write(t + "\n") };
  }
  const id = `massive-progress-${process.pid}-${++liveCounter}`;
  const bundle = (t: string) => ({ data: { "text/plain": t }, metadata: {}, transient: { display_id: id } });
  write(bundle(initial || "..."), false);
  return { update: (t) => write(bundle(t), true) };
}

/** Show Markdown (rendered by every front end; the plain text is the Markdown itself). */
export function showMarkdown(md: string): boolean {
  return sendBundle({ "text/markdown": md, "text/plain": md });
}

/** Show an HTML table (with a plain-text fallback). */
export function showHtml(html: string, text = ""): void {
  sendBundle({ "text/html": html, "text/plain": text || html.replace(/<[^>]+>/g, " ") });
}
