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

export interface MemoryFrame {
  step: number;
  items: { idx: number; site: string }[];
}

/** Memory contents over training: x = step, y = stream position of each stored case, colour = site. */
export function memoryTimelineFigure(frames: MemoryFrame[], title: string): PlotlyFigure {
  const bySite = new Map<string, { x: number[]; y: number[] }>();
  for (const f of frames)
    for (const it of f.items) {
      const s = bySite.get(it.site) ?? bySite.set(it.site, { x: [], y: [] }).get(it.site)!;
      s.x.push(f.step);
      s.y.push(it.idx);
    }
  const order = (s: string) => SITES.findIndex((x) => x.id === s);
  return {
    data: [...bySite]
      .sort((a, b) => order(a[0]) - order(b[0]))
      .map(([site, p]) => ({ type: "scatter", mode: "markers", name: site, x: p.x, y: p.y, marker: { size: 5 } })),
    layout: {
      title: { text: title },
      font: FONT,
      width: 640,
      height: 380,
      xaxis: { title: { text: "training step" } },
      yaxis: { title: { text: "stream position of stored case" } },
    },
  };
}

export interface ForgettingPanel {
  site: string;
  /** per strategy: x = later sites, y = relative Dice drop (mean), sd */
  series: { strategy: string; sites: string[]; mean: number[]; sd: number[] }[];
}

/** Figure 2: relative Dice drop on three sites after each later site, one panel per site. */
export function forgettingFigure(panels: ForgettingPanel[]): PlotlyFigure {
  const n = panels.length;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: "Relative Dice drop after each later site (0 = no forgetting)" },
    font: FONT,
    width: 360 * n,
    height: 380,
    showlegend: true,
    legend: { orientation: "h", y: -0.25 },
  };
  panels.forEach((p, i) => {
    const ax = i === 0 ? "" : String(i + 1);
    for (const s of p.series) {
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: s.strategy,
        legendgroup: s.strategy,
        showlegend: i === 0,
        x: s.sites,
        y: s.mean,
        error_y: { type: "data", array: s.sd, visible: true },
        line: { color: STRATEGY_COLORS[s.strategy] },
        xaxis: `x${ax}`,
        yaxis: `y${ax}`,
      });
    }
    const dom = [i / n + 0.04, (i + 1) / n - 0.02];
    layout[`xaxis${ax}`] = { domain: dom, title: { text: `after site (evaluated on ${p.site})` }, anchor: `y${ax}` };
    layout[`yaxis${ax}`] = { title: { text: i === 0 ? "relative Dice drop" : "" }, anchor: `x${ax}`, zeroline: true };
  });
  return { data, layout };
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
export function comparisonBarFigure(methods: string[], ours: { mean: number; sd: number }[], paper: (number | null)[], title: string, yTitle: string): PlotlyFigure {
  return {
    data: [
      { type: "bar", name: "this kit (mean ± sd)", x: methods, y: ours.map((o) => o.mean), error_y: { type: "data", array: ours.map((o) => o.sd), visible: true }, marker: { color: "#1f77b4" } },
      { type: "bar", name: "paper", x: methods, y: paper, marker: { color: "#bbbbbb" } },
    ],
    layout: { title: { text: title }, font: FONT, width: 640, height: 380, barmode: "group", yaxis: { title: { text: yTitle }, range: [0, 1] } },
  };
}
