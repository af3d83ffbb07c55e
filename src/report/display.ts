/**
 * Rich output in tslab notebooks. A figure goes out as one display bundle with three MIME types, and
 * the front end picks what it can show:
 *   application/vnd.plotly.v1+json  JupyterLab with the Python `plotly` package (interactive, safe untrusted)
 *   text/html                        a static PNG <img>, replaced by a live Plotly chart when the notebook
 *                                    is trusted (classic Notebook; untrusted HTML loses its script, the
 *                                    image stays)
 *   image/png                        everything else (nbconvert, GitHub)
 * Outside a tslab kernel (scripts, tests) these functions do nothing but return what they would show.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { kitRoot } from "../util/paths.js";
import { plotlyBundleSource, renderFigure } from "./export.js";
import type { PlotlyFigure } from "./plots.js";

type WriteDisplayData = (msg: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

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

/** Show a Plotly figure (see the module comment); returns the PNG it rendered. */
export async function showFigure(fig: PlotlyFigure): Promise<Buffer> {
  const png = (await renderFigure(fig, "png", 1)) as Buffer;
  const b64 = png.toString("base64");
  const id = `massive-fig-${process.pid}-${++figureCounter}`;
  // The Plotly bundle is inlined once per kernel session, in the first figure's output.
  const loader = plotlyInlined ? "" : `<script>if(!window.Plotly){${plotlyBundleSource().replace(/<\/script/gi, "<\\/script")}}</script>`;
  plotlyInlined = true;
  const html =
    `<div id="${id}"><img src="data:image/png;base64,${b64}" alt="figure"/></div>${loader}` +
    `<script>(function(){var el=document.getElementById(${JSON.stringify(id)});if(window.Plotly&&el){el.innerHTML="";` +
    `Plotly.newPlot(el,${JSON.stringify(fig.data)},${JSON.stringify(fig.layout)});}})();</script>`;
  sendBundle({
    "application/vnd.plotly.v1+json": { data: fig.data, layout: fig.layout },
    "text/html": html,
    "image/png": b64,
    "text/plain": `<Plotly figure: ${String((fig.layout.title as { text?: string })?.text ?? "")}>`,
  });
  return png;
}

/** Show an HTML table (with a plain-text fallback). */
export function showHtml(html: string, text = ""): void {
  sendBundle({ "text/html": html, "text/plain": text || html.replace(/<[^>]+>/g, " ") });
}
