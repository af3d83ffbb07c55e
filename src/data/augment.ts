/**
 * Training-time sampling and augmentation of a prepared case, as in the reference's MONAI pipeline:
 * RandCropByPosNegLabel (pos:neg 2:1) or, for some sites, class-balanced crops; RandZoom (p 0.3,
 * 1.3-1.5, keep size) for the Decathlon sites only; RandRotate90 (p 0.1, k 1..3 in the x-y plane),
 * RandShiftIntensity (p 0.2, +-0.1). All randomness comes from the Rng given. As in the reference, the
 * zoom acts on the whole foreground-cropped volume (the prepared case) before the crop; its image is
 * interpolated trilinearly where MONAI's "area" mode averages the one or two source voxels under each
 * output voxel.
 */
import type { Rng } from "../util/rng.js";
import { PREPROCESSING } from "./ontology.js";
import { organOf, tumourOf } from "./post-label.js";
import { cropBox, voxelCount, type Vec3, type Volume } from "./volume.js";

export interface Patch {
  shape: Vec3;
  image: Float32Array;
  label: Uint8Array;
}

export interface AugmentConfig {
  posRatio: number;
  negRatio: number;
  zoomProb: number;
  zoomMin: number;
  zoomMax: number;
  rot90Prob: number;
  rot90MaxK: number;
  shiftProb: number;
  shiftOffset: number;
}

export const PAPER_AUGMENT: AugmentConfig = {
  posRatio: PREPROCESSING.randCropPosNeg.pos,
  negRatio: PREPROCESSING.randCropPosNeg.neg,
  zoomProb: PREPROCESSING.randZoom.prob,
  zoomMin: PREPROCESSING.randZoom.min,
  zoomMax: PREPROCESSING.randZoom.max,
  rot90Prob: PREPROCESSING.randRotate90.prob,
  rot90MaxK: PREPROCESSING.randRotate90.maxK,
  shiftProb: PREPROCESSING.randShiftIntensity.prob,
  shiftOffset: PREPROCESSING.randShiftIntensity.offsets,
};

/** No augmentation, only the positive/negative crop (for evaluation-like sampling and tests). */
export const NO_AUGMENT: AugmentConfig = { ...PAPER_AUGMENT, zoomProb: 0, rot90Prob: 0, shiftProb: 0 };

/**
 * Choose a patch: with probability pos/(pos+neg) centred on a labelled voxel, else on an unlabelled
 * voxel of the body (image > 0); the patch is shifted to lie inside the volume (which must be at least
 * the patch size: pad first).
 */
export function randomPosNegCrop(
  image: Volume<Float32Array>,
  label: Volume<Uint8Array>,
  roi: Vec3,
  rng: Rng,
  cfg: Pick<AugmentConfig, "posRatio" | "negRatio"> = PAPER_AUGMENT,
): Patch {
  const wantPos = rng.next() < cfg.posRatio / (cfg.posRatio + cfg.negRatio);
  const center = pickVoxel(image.data, label.data, wantPos, rng) ?? pickVoxel(image.data, label.data, !wantPos, rng);
  return cropAround(image, label, roi, center);
}

/** The patch of size roi centred on voxel index `center` (the volume's centre if none), kept inside. */
function cropAround(image: Volume<Float32Array>, label: Volume<Uint8Array>, roi: Vec3, center: number | undefined): Patch {
  const shape = image.shape;
  if (shape.some((n, i) => n < roi[i])) {
    throw new Error(`crop: volume ${shape.join("x")} is smaller than the patch ${roi.join("x")}; pad it first`);
  }
  let c: Vec3;
  if (center === undefined) c = shape.map((n) => Math.floor(n / 2)) as Vec3;
  else c = [center % shape[0], Math.floor(center / shape[0]) % shape[1], Math.floor(center / (shape[0] * shape[1]))];
  const start = c.map((ci, i) => Math.min(Math.max(ci - Math.floor(roi[i] / 2), 0), shape[i] - roi[i])) as Vec3;
  const box = { start, end: start.map((s, i) => s + roi[i]) as Vec3 };
  return { shape: roi.slice() as Vec3, image: cropBox(image, box).data, label: cropBox(label, box).data };
}

/** Index of a random voxel that is labelled (pos) or unlabelled body (neg), by reservoir sampling. */
function pickVoxel(img: Float32Array, lab: Uint8Array, pos: boolean, rng: Rng): number | undefined {
  let chosen: number | undefined;
  let seen = 0;
  for (let i = 0; i < lab.length; i++) {
    const ok = pos ? lab[i] > 0 : lab[i] === 0 && img[i] > 0;
    if (!ok) continue;
    seen++;
    // Uniform among candidates without storing them all (volumes can be large).
    if (rng.int(seen) === 0) chosen = i;
  }
  return chosen;
}

/** Isotropic zoom by factor f about the centre, keeping the size (zoom in for f > 1): of a patch or a whole volume. */
export function zoomPatch(p: Patch, f: number): Patch {
  const [nx, ny, nz] = p.shape;
  const n = voxelCount(p.shape);
  const image = new Float32Array(n);
  const label = new Uint8Array(n);
  const cx = (nx - 1) / 2,
    cy = (ny - 1) / 2,
    cz = (nz - 1) / 2;
  const clampI = (v: number, m: number) => (v < 0 ? 0 : v > m - 1 ? m - 1 : v);
  let o = 0;
  for (let z = 0; z < nz; z++) {
    const sz = clampI((z - cz) / f + cz, nz);
    const z0 = Math.floor(sz),
      z1 = Math.min(nz - 1, z0 + 1),
      wz = sz - z0;
    for (let y = 0; y < ny; y++) {
      const sy = clampI((y - cy) / f + cy, ny);
      const y0 = Math.floor(sy),
        y1 = Math.min(ny - 1, y0 + 1),
        wy = sy - y0;
      for (let x = 0; x < nx; x++, o++) {
        const sx = clampI((x - cx) / f + cx, nx);
        const x0 = Math.floor(sx),
          x1 = Math.min(nx - 1, x0 + 1),
          wx = sx - x0;
        const at = (xi: number, yi: number, zi: number) => p.image[xi + nx * (yi + ny * zi)];
        const c0 = (at(x0, y0, z0) * (1 - wx) + at(x1, y0, z0) * wx) * (1 - wy) + (at(x0, y1, z0) * (1 - wx) + at(x1, y1, z0) * wx) * wy;
        const c1 = (at(x0, y0, z1) * (1 - wx) + at(x1, y0, z1) * wx) * (1 - wy) + (at(x0, y1, z1) * (1 - wx) + at(x1, y1, z1) * wx) * wy;
        image[o] = c0 * (1 - wz) + c1 * wz;
        label[o] = p.label[Math.round(sx) + nx * (Math.round(sy) + ny * Math.round(sz))];
      }
    }
  }
  return { shape: p.shape, image, label };
}

/** Rotate k quarter turns in the x-y plane (shape x and y swap for odd k). */
export function rot90Patch(p: Patch, k: number): Patch {
  const kk = ((k % 4) + 4) % 4;
  if (kk === 0) return p;
  const [nx, ny, nz] = p.shape;
  const shape: Vec3 = kk % 2 === 1 ? [ny, nx, nz] : [nx, ny, nz];
  const image = new Float32Array(p.image.length);
  const label = new Uint8Array(p.label.length);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        let ox: number, oy: number;
        if (kk === 1) [ox, oy] = [ny - 1 - y, x];
        else if (kk === 2) [ox, oy] = [nx - 1 - x, ny - 1 - y];
        else [ox, oy] = [y, nx - 1 - x];
        const src = x + nx * (y + ny * z);
        const dst = ox + shape[0] * (oy + shape[1] * z);
        image[dst] = p.image[src];
        label[dst] = p.label[src];
      }
  return { shape, image, label };
}

/**
 * Per-site rules of the reference's pipeline (dataset/utils.py, RandZoomd_select and the two crop
 * selectors): RandZoom only for these Decathlon templates; class-balanced crops (background : organ :
 * tumour = 1 : 1 : 5) instead of pos/neg crops for these templates.
 */
export const ZOOM_TEMPLATES: readonly string[] = ["10_03", "10_06", "10_07", "10_08", "10_09", "10_10"];
export const CLASS_BALANCED_TEMPLATES: readonly string[] = ["04", "10_03", "10_07", "10_08"];
const CLASS_RATIOS = { background: 1, organ: 1, tumour: 5 } as const;

/**
 * Class-balanced crop (MONAI RandCropByLabelClasses, 3 classes, ratios 1 : 1 : 5): pick background,
 * organ (labelled, not a tumour class) or tumour with probability proportional to its ratio among the
 * kinds present in the case, then centre the patch on a random voxel of that kind (background: body
 * voxels, image > 0).
 */
export function randomClassBalancedCrop(image: Volume<Float32Array>, label: Volume<Uint8Array>, roi: Vec3, rng: Rng): Patch {
  const kinds: { kind: keyof typeof CLASS_RATIOS; ok: (lab: number, img: number) => boolean }[] = [
    { kind: "background", ok: (l, i) => l === 0 && i > 0 },
    { kind: "organ", ok: (l) => organOf(l) > 0 && tumourOf(l) === 0 },
    { kind: "tumour", ok: (l) => tumourOf(l) > 0 },
  ];
  const present = kinds.filter((k) => label.data.some((l, v) => k.ok(l, image.data[v])));
  if (present.length === 0) return randomPosNegCrop(image, label, roi, rng);
  const total = present.reduce((s, k) => s + CLASS_RATIOS[k.kind], 0);
  let u = rng.next() * total;
  const chosen = present.find((k) => (u -= CLASS_RATIOS[k.kind]) < 0) ?? present[present.length - 1];
  let pick: number | undefined;
  let seen = 0;
  for (let v = 0; v < label.data.length; v++) {
    if (!chosen.ok(label.data[v], image.data[v])) continue;
    seen++;
    if (rng.int(seen) === 0) pick = v;
  }
  return cropAround(image, label, roi, pick);
}

/** Draw a fresh training patch for a case of `template`: crop, then the random augmentations. */
export function samplePatch(
  image: Volume<Float32Array>,
  label: Volume<Uint8Array>,
  roi: Vec3,
  rng: Rng,
  cfg: AugmentConfig = PAPER_AUGMENT,
  template?: string,
): Patch {
  const perSite = template !== undefined;
  // The reference zooms (p 0.3) only the Decathlon templates above (without a template, every case), and
  // the whole volume, before the crop (RandZoomd precedes the crop in its pipeline).
  const zoomHere = !perSite || ZOOM_TEMPLATES.includes(template);
  let [img, lab] = [image, label];
  if (zoomHere && rng.next() < cfg.zoomProb) {
    const z = zoomPatch({ shape: image.shape, image: image.data, label: label.data }, rng.uniform(cfg.zoomMin, cfg.zoomMax));
    [img, lab] = [
      { ...image, data: z.image },
      { ...label, data: z.label },
    ];
  }
  let p = perSite && CLASS_BALANCED_TEMPLATES.includes(template) ? randomClassBalancedCrop(img, lab, roi, rng) : randomPosNegCrop(img, lab, roi, rng, cfg);
  // Sites without zoom draw the zoom coin here, after the crop, and ignore it: the order of their random
  // draws (and so their patches) is that of the kit before the zoom moved ahead of the crop.
  if (!zoomHere) rng.next();
  // Rotation swaps x and y; only done when that keeps the patch shape.
  if (rng.next() < cfg.rot90Prob && roi[0] === roi[1]) p = rot90Patch(p, 1 + rng.int(cfg.rot90MaxK));
  if (rng.next() < cfg.shiftProb) {
    const off = rng.uniform(-cfg.shiftOffset, cfg.shiftOffset);
    const shifted = new Float32Array(p.image.length);
    for (let i = 0; i < shifted.length; i++) shifted[i] = p.image[i] + off;
    p = { ...p, image: shifted };
  }
  return p;
}
