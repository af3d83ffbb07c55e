/**
 * The phantom picture: one row per site (and the single-site set), a mid slice of the site's first
 * training case without and with its labels, so a reader sees that sites look different and annotate
 * different organs.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { readListFile } from "../data/listfile.js";
import { readLabelNifti, readNifti } from "../data/nifti.js";
import { templateKeyFromPath } from "../data/ontology.js";
import { splitRightLeft, transferLabels } from "../data/label-transfer.js";
import { displayClass } from "../data/post-label.js";
import type { SiteLook } from "../data/phantom.js";
import { drawAxialSlice, classColor, RgbCanvas } from "./canvas.js";
import { encodePng } from "./png.js";
import { reorientToRAS } from "../data/volume.js";

export function writePhantomFigure(phantomDir: string, outPng: string, scale = 2): void {
  const facts = JSON.parse(readFileSync(join(phantomDir, "phantom.json"), "utf8")) as { looks: SiteLook[] };
  const entries = [...readListFile(join(phantomDir, "stream_train.txt")), ...readListFile(join(phantomDir, "single-site_train.txt"))];
  const firstOf = new Map<string, { image: string; label: string }>();
  for (const e of entries) {
    const ds = e.image.split("/img/")[0];
    if (!firstOf.has(ds)) firstOf.set(ds, e);
  }
  const rows = facts.looks.filter((l) => firstOf.has(l.dataset));
  const first = reorientToRAS(readNifti(join(phantomDir, firstOf.get(rows[0].dataset)!.image)));
  const [nx, ny] = first.shape;
  const pw = nx * scale,
    ph = ny * scale,
    gap = 6,
    textW = 330;
  const cv = new RgbCanvas(textW + 2 * pw + 3 * gap, rows.length * (ph + gap) + gap + 24);
  cv.text(gap, gap, "SITE  PHASE     RAW / LABELLED", [0, 0, 0], 2);
  rows.forEach((look, r) => {
    const e = firstOf.get(look.dataset)!;
    const img = reorientToRAS(readNifti(join(phantomDir, e.image)));
    const labRaw = reorientToRAS(readLabelNifti(join(phantomDir, e.label)));
    const key = templateKeyFromPath(e.image) ?? look.template;
    // The dataset's own numbering -> post labels -> one class per voxel for the picture.
    const codes = splitRightLeft({ ...labRaw, data: transferLabels(labRaw.data, key, e.label) }, key).data;
    const classes = codes.map(displayClass);
    const y0 = gap + 24 + r * (ph + gap);
    const z = Math.floor(img.shape[2] / 2);
    drawAxialSlice(cv, textW + gap, y0, img, z, [-250, 300], scale);
    drawAxialSlice(cv, textW + 2 * gap + pw, y0, img, z, [-250, 300], scale, classes, 0.55);
    cv.text(gap, y0 + 4, `${look.siteId} ${look.phase.slice(0, 8)}`, [0, 0, 0], 2);
    cv.text(
      gap,
      y0 + 24,
      look.dataset
        .replace(/^\d\d_/, "")
        .replace("Decathlon/", "")
        .slice(0, 26),
      [60, 60, 60],
      1,
    );
    cv.text(
      gap,
      y0 + 36,
      `HU X${look.huGain.toFixed(2)} ${look.huOffset >= 0 ? "+" : ""}${look.huOffset.toFixed(0)} NOISE ${look.noiseSd.toFixed(0)}`,
      [60, 60, 60],
      1,
    );
    const present = [...new Set(classes)].filter((c) => c > 0).sort((a, b) => a - b);
    present.forEach((c, k) => {
      const col = k % 12,
        row = Math.floor(k / 12);
      cv.fillRect(gap + col * 26, y0 + 52 + row * 14, 8, 8, classColor(c));
      cv.text(gap + col * 26 + 10, y0 + 52 + row * 14, String(c), [0, 0, 0], 1);
    });
  });
  mkdirSync(dirname(outPng), { recursive: true });
  writeFileSync(outPng, encodePng(cv.width, cv.height, cv.rgb));
}
