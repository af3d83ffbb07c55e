/**
 * Plotly figure specs (plain JSON: data + layout) for the notebooks and figures/. Only SVG-rendered
 * trace types (heatmap, scatter, bar), so headless Chromium can export them without WebGL.
 */
import { classColor } from "./canvas.js";
import { CLASS_NAMES, SITES } from "../data/ontology.js";

/**
 * Axial slice z of a RAS volume as rows for a heatmap in radiological view: anterior at the top, the
 * patient's right on the left.
 */
export function axialSliceRows(data: ArrayLike<number>, shape: [number, number, number], z: number): number[][] {
  const [nx, ny] = shape;
  const rows: number[][] = [];
  for (let y = ny - 1; y >= 0; y--) {
    const row: number[] = [];
    for (let x = nx - 1; x >= 0; x--) row.push(data[x + nx * (y + ny * z)]);
    rows.push(row);
  }
  return rows;
}

export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const FONT = { family: "Helvetica, Arial, sans-serif", size: 12 };
export const STRATEGY_COLORS: Record<string, string> = {
  LM: "#d62728",
  DM: "#1f77b4",
  SM: "#2ca02c",
  "SM top 12.5%": "#98df8a",
  "SM top 25%": "#2ca02c",
  "SM top 50%": "#17becf",
  Repeated: "#7f7f7f",
};

/**
 * An axial CT slice (rows top to bottom = anterior to posterior; radiological left-right) with its labels
 * as a translucent heatmap on top. `image` and `labels` are row-major [rows][cols].
 */
export function sliceFigure(image: number[][], labels: number[][] | undefined, title: string, window: [number, number] = [-175, 250]): PlotlyFigure {
  const data: Record<string, unknown>[] = [
    { type: "heatmap", z: image, colorscale: "Greys", reversescale: true, zmin: window[0], zmax: window[1], showscale: false, hoverinfo: "z" },
  ];
  if (labels) {
    // One translucent heatmap of class ids with a stepwise colour scale: each id keeps its fixed colour.
    const steps: [number, string][] = [];
    for (let c = 1; c <= 32; c++) {
      const [r, g, b] = classColor(c);
      const col = `rgba(${r},${g},${b},0.55)`;
      steps.push([(c - 1) / 32, col], [c / 32, col]);
    }
    data.push({
      type: "heatmap",
      z: labels.map((row) => row.map((v) => (v > 0 ? v : null))),
      zmin: 0.5,
      zmax: 32.5,
      colorscale: steps.map(([v, c]) => [v, c]),
      showscale: false,
      text: labels.map((row) => row.map((v) => (v > 0 ? CLASS_NAMES[v - 1] : ""))),
      hovertemplate: "%{text}<extra></extra>",
    });
  }
  return {
    data,
    layout: {
      title: { text: title },
      font: FONT,
      width: 520,
      height: 460,
      yaxis: { autorange: "reversed", scaleanchor: "x", showticklabels: false },
      xaxis: { showticklabels: false },
      margin: { l: 20, r: 20, t: 50, b: 20 },
    },
  };
}

/**
 * One colour per site, the same in every figure: Paul Tol's discrete rainbow for 16 colours (colour
 * numbers 2, 4, 6, 8, 9, 11, 13-17, 19, 21, 23, 25, 27 of his scheme; chosen to stay distinct for
 * colour-blind readers), plus a marker symbol per half of the stream (circle D1-D8, square D9-D16) so that
 * no two sites share both colour and shape.
 */
export const SITE_COLORS: readonly string[] = [
  "#D9CCE3",
  "#CAACCB",
  "#AE76A3",
  "#994F88",
  "#882E72",
  "#437DBF",
  "#6195CF",
  "#7BAFDE",
  "#4EB265",
  "#90C987",
  "#CAE0AB",
  "#F7CB45",
  "#F4A736",
  "#EE8026",
  "#E65518",
  "#A5170E",
];

export function siteStyle(site: string): { color: string; symbol: string } {
  const i = SITES.findIndex((x) => x.id === site);
  if (i < 0) return { color: "#000000", symbol: "x" };
  return { color: SITE_COLORS[i % SITE_COLORS.length], symbol: i < 8 ? "circle" : "square" };
}

export interface MemoryFrame {
  step: number;
  items: { idx: number; site: string }[];
}

/**
 * Memory contents over training: x = step, y = stream position of each stored case, colour = site. The
 * legend lists all 16 sites (below the plot, so it is never cut), also those never stored.
 */
export function memoryTimelineFigure(frames: MemoryFrame[], title: string): PlotlyFigure {
  const bySite = new Map<string, { x: number[]; y: number[] }>(SITES.map((s) => [s.id, { x: [], y: [] }]));
  for (const f of frames)
    for (const it of f.items) {
      const s = bySite.get(it.site) ?? bySite.set(it.site, { x: [], y: [] }).get(it.site)!;
      s.x.push(f.step);
      s.y.push(it.idx);
    }
  return {
    data: [...bySite].map(([site, p]) => {
      const st = siteStyle(site);
      return {
        type: "scatter",
        mode: "markers",
        name: p.x.length ? site : `${site} (none stored)`,
        x: p.x,
        y: p.y,
        marker: { size: 6, color: st.color, symbol: st.symbol, line: { width: 0.5, color: "#333333" } },
      };
    }),
    layout: {
      title: { text: title },
      font: FONT,
      width: 680,
      height: 470,
      margin: { l: 60, r: 20, t: 50, b: 150 },
      xaxis: { title: { text: "training step" } },
      yaxis: { title: { text: "stream position of stored case" } },
      legend: { orientation: "h", x: 0, y: -0.22, yanchor: "top", font: { size: 11 }, traceorder: "normal" },
    },
  };
}

export interface ForgettingPanel {
  site: string;
  /** per strategy: x = later sites, y = relative Dice drop (mean; NaN where undefined), sd */
  series: { strategy: string; sites: string[]; mean: number[]; sd: number[]; undefinedAt?: string[] }[];
}

/**
 * Figure 2, one figure per evaluated site (three side by side do not fit a notebook's output area):
 * relative Dice drop after each later site. Drops that are not defined (Dice 0 on the site right after learning
 * it: 0/0) are gaps, not zeros, and the subtitle names them.
 */
export function forgettingFigure(panel: ForgettingPanel): PlotlyFigure {
  const data = panel.series.map((s) => ({
    type: "scatter",
    mode: "lines+markers",
    name: s.strategy,
    x: s.sites,
    y: s.mean.map((v) => (Number.isFinite(v) ? v : null)),
    error_y: { type: "data", array: s.sd.map((v) => (Number.isFinite(v) ? v : 0)), visible: true },
    line: { color: STRATEGY_COLORS[s.strategy] },
    connectgaps: false,
  }));
  const gaps = panel.series.filter((s) => s.mean.some((v) => !Number.isFinite(v)));
  const note = gaps.length
    ? `gaps = drop not defined (0/0: Dice 0 after ${panel.site}): ${gaps.map((s) => `${s.strategy} ${s.mean.every((v) => !Number.isFinite(v)) ? "everywhere" : s.sites.filter((_, i) => !Number.isFinite(s.mean[i])).join(" ")}`).join("; ")}`
    : "0 = no forgetting; negative = forgotten";
  return {
    data,
    layout: {
      title: { text: `Forgetting of ${panel.site}: relative Dice drop after each later site<br><sub>${note}</sub>` },
      font: FONT,
      width: 640,
      height: 400,
      margin: { l: 70, r: 20, t: 80, b: 60 },
      xaxis: { title: { text: `after site (evaluated on ${panel.site})` } },
      yaxis: { title: { text: "relative Dice drop" }, zeroline: true },
      showlegend: true,
    },
  };
}

export interface MemoryPoint {
  strategy: string;
  site: string;
  entropy: number;
}

/** Figure 3: memory contents at the end of a site: x = source site, y = stored entropy, per strategy. */
export function memoryScatterFigure(points: MemoryPoint[], title: string): PlotlyFigure {
  const strategies = [...new Set(points.map((p) => p.strategy))];
  const siteIndex = (s: string) => SITES.findIndex((x) => x.id === s) + 1;
  const offset = (k: number) => (k - (strategies.length - 1) / 2) * 0.22;
  return {
    data: strategies.map((st, k) => {
      const ps = points.filter((p) => p.strategy === st);
      return {
        type: "scatter",
        mode: "markers",
        name: st,
        x: ps.map((p) => siteIndex(p.site) + offset(k)),
        y: ps.map((p) => p.entropy),
        text: ps.map((p) => p.site),
        marker: { size: 7, color: STRATEGY_COLORS[st], opacity: 0.8 },
      };
    }),
    layout: {
      title: { text: title },
      font: FONT,
      width: 640,
      height: 380,
      xaxis: { title: { text: "source site" }, tickvals: SITES.map((_, i) => i + 1), ticktext: SITES.map((s) => s.id), range: [0.5, SITES.length + 0.5] },
      yaxis: { title: { text: "stored uncertainty (BCE)" } },
    },
  };
}

/** Grouped bars of ours beside the paper's, for a table. */
export function comparisonBarFigure(
  methods: string[],
  ours: { mean: number; sd: number }[],
  paper: (number | null)[],
  title: string,
  yTitle: string,
): PlotlyFigure {
  return {
    data: [
      {
        type: "bar",
        name: "this kit (mean ± sd)",
        x: methods,
        y: ours.map((o) => o.mean),
        error_y: { type: "data", array: ours.map((o) => o.sd), visible: true },
        marker: { color: "#1f77b4" },
      },
      { type: "bar", name: "paper", x: methods, y: paper, marker: { color: "#bbbbbb" } },
    ],
    layout: { title: { text: title }, font: FONT, width: 640, height: 380, barmode: "group", yaxis: { title: { text: yTitle }, range: [0, 1] } },
  };
}
