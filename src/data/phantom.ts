/**
 * Synthetic PAOT-like CT (docs/method.md#the-synthetic-stream). The anatomy comes from a real CT and its
 * TotalSegmentator label map (assets/totalsegmentator-example): each case samples that template through
 * a random affine and a smooth random displacement field, renders HU per tissue with its site's
 * scanner look (HU gain/offset, noise, blur, contrast phase, reconstruction field of view, stored
 * orientation), and adds what the template lacks: hepatic vessels, the celiac trunk, tumours and cysts.
 * Every case shows all its anatomy; its label file annotates only its site's template, in the dataset's
 * own numbering (src/data/label-transfer.ts: e.g. KiTS's one kidney label for both sides, its tumour
 * labelled instead of the kidney), exactly like real PAOT files, so that prep's label transfer builds the
 * post labels from them as it does for real data.
 */
import { readLabelNifti, readNifti } from "./nifti.js";
import { SITES, TOTALSEG_INSIDE, TOTALSEG_TO_CLASS, templateClasses, type SiteInfo } from "./ontology.js";
import { isTumourId, postLabel } from "./post-label.js";
import { assetPath } from "../util/paths.js";
import { Rng } from "../util/rng.js";
import { applyAffine, diagonalAffine, flipAxes, gaussianBlur, type Vec3, type Volume } from "./volume.js";

export type ContrastPhase = "noncontrast" | "arterial" | "portal" | "delayed";

/** A site's scanner look and population. */
export interface SiteLook {
  siteId: string;
  dataset: string;
  template: string;
  phase: ContrastPhase;
  huGain: number;
  huOffset: number;
  noiseSd: number;
  /** Gaussian blur sigma in mm per axis (z larger: slice thickness). */
  blurMm: Vec3;
  /** Radius of the reconstruction circle in mm; outside it the scanner writes -1024. */
  fovRadiusMm: number;
  /** Population anatomy scale per axis. */
  anatomyScale: Vec3;
  /** Fraction of cases that are near-duplicates of an earlier case of the same site. */
  duplicateRate: number;
  /** Stored orientation of the written files. */
  orientation: "RAS" | "LPS";
}

/** Per-class HU by contrast phase: [noncontrast, arterial, portal, delayed]. */
const ORGAN_HU: Record<number, [number, number, number, number]> = {
  1: [45, 120, 115, 90], // spleen
  2: [32, 185, 170, 150], // kidneys
  3: [32, 185, 170, 150],
  4: [12, 12, 14, 14], // gallbladder (bile)
  5: [40, 55, 65, 60], // esophagus
  6: [58, 72, 110, 92], // liver
  7: [28, 45, 60, 55], // stomach
  8: [42, 300, 165, 125], // aorta
  9: [40, 65, 145, 115], // postcava
  10: [40, 85, 175, 125], // portal / splenic vein
  11: [40, 110, 95, 75], // pancreas
  12: [30, 55, 60, 50], // adrenals
  13: [30, 55, 60, 50],
  14: [30, 50, 70, 60], // duodenum
  15: [42, 95, 190, 130], // hepatic vessel
  16: [-830, -820, -820, -820], // lungs
  17: [-830, -820, -820, -820],
  18: [25, 45, 60, 55], // colon
  19: [30, 55, 75, 65], // intestine
  25: [42, 290, 160, 120], // celiac trunk
};
const PHASE_INDEX: Record<ContrastPhase, number> = { noncontrast: 0, arterial: 1, portal: 2, delayed: 3 };

/** TotalSegmentator ids of tissue groups the rendering treats alike. */
const TS_BONE = new Set<number>([25, ...range(26, 50), ...range(69, 78), ...range(91, 116)]);
const TS_MUSCLE = new Set<number>([79, ...range(80, 89)]);
const TS_CARTILAGE = 117;
const TS_BOWEL = new Set<number>([6, 18, 19, 20]);

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Tumour classes and the TotalSegmentator structures they grow in. */
const LESION_HOSTS: Record<number, number[]> = {
  26: [2, 3], // kidney tumour
  27: [5], // liver tumour
  28: [7], // pancreas tumour
  29: [5], // hepatic-vessel tumour
  30: [10, 11, 12, 13, 14], // lung tumour
  31: [20], // colon tumour
  32: [2, 3], // kidney cyst
};

export interface PhantomTemplate {
  ct: Volume<Float32Array>;
  seg: Volume<Uint8Array>;
  /** Mean template HU per TotalSegmentator id, to keep each organ's real texture around a new mean. */
  meanHU: Map<number, number>;
  /** Centre of the template in world mm. */
  center: Vec3;
  /** Voxel indices per TotalSegmentator id (for placing lesions and vessels). */
  voxelsOf: Map<number, Int32Array>;
}

let templateCache: PhantomTemplate | undefined;

export function loadPhantomTemplate(): PhantomTemplate {
  if (templateCache) return templateCache;
  const ct = readNifti(assetPath("totalsegmentator-example", "example_ct_sm.nii.gz"));
  const seg = readLabelNifti(assetPath("totalsegmentator-example", "example_seg.nii.gz"));
  const sums = new Map<number, [number, number]>();
  const lists = new Map<number, number[]>();
  for (let i = 0; i < seg.data.length; i++) {
    const id = seg.data[i];
    if (!id) continue;
    const s = sums.get(id) ?? [0, 0];
    s[0] += ct.data[i];
    s[1]++;
    sums.set(id, s);
    (lists.get(id) ?? lists.set(id, []).get(id)!).push(i);
  }
  const meanHU = new Map([...sums].map(([id, [s, n]]) => [id, s / n]));
  const voxelsOf = new Map([...lists].map(([id, l]) => [id, Int32Array.from(l)]));
  const far = applyAffine(ct.affine, ct.shape.map((n) => n - 1) as Vec3);
  const near = applyAffine(ct.affine, [0, 0, 0]);
  const center = near.map((v, i) => (v + far[i]) / 2) as Vec3;
  templateCache = {
    ct: { shape: ct.shape, spacing: ct.spacing, affine: ct.affine, data: ct.data },
    seg: { shape: seg.shape, spacing: seg.spacing, affine: seg.affine, data: seg.data },
    meanHU,
    center,
    voxelsOf,
  };
  return templateCache;
}

/** The template's field of view in mm. */
export function templateExtentMm(t: PhantomTemplate = loadPhantomTemplate()): Vec3 {
  return t.ct.shape.map((n, i) => n * t.ct.spacing[i]) as Vec3;
}

const PHASES: ContrastPhase[] = ["noncontrast", "arterial", "portal", "delayed"];

/** Scanner looks of the 16 stream sites (and a single-site look), derived from one seed. */
export function siteLooks(seed: number): SiteLook[] {
  const rng = new Rng(seed ^ 0x51e5);
  return SITES.map((s, i) => makeLook(s, rng.fork(), i));
}

function makeLook(site: SiteInfo, rng: Rng, i: number): SiteLook {
  // Portal venous is the common clinical phase; sites differ, and some are non-contrast.
  const phase = PHASES[[2, 1, 2, 2, 1, 0, 2, 3, 2, 0, 1, 2, 2, 2, 3, 1][i % 16]];
  return {
    siteId: site.id,
    dataset: site.dataset,
    template: site.template,
    phase,
    huGain: rng.uniform(0.88, 1.12),
    huOffset: rng.normal(0, 18),
    noiseSd: rng.uniform(6, 32),
    blurMm: [rng.uniform(0, 1.5), rng.uniform(0, 1.5), rng.uniform(0.5, 3.5)],
    fovRadiusMm: rng.uniform(170, 260),
    anatomyScale: [rng.uniform(0.92, 1.08), rng.uniform(0.92, 1.08), rng.uniform(0.94, 1.06)],
    // Large sites (AbdomenCT-1K, Decathlon pancreas and hepatic vessel) are the redundant ones.
    duplicateRate: ["D7", "D11", "D12"].includes(site.id) ? 0.5 : i % 5 === 3 ? 0.25 : 0,
    orientation: i % 3 === 1 ? "LPS" : "RAS",
  };
}

/** The single-site set of Table 1: one scanner look, labels for template "15" (17 organs). */
export function singleSiteLook(seed: number): SiteLook {
  const rng = new Rng(seed ^ 0x5151);
  return {
    ...makeLook({ id: "S1", dataset: "15_SingleSite", template: "15", train: 0, test: 0, total: 0 }, rng, 2),
    duplicateRate: 0,
    orientation: "RAS",
  };
}

export interface Lesion {
  classId: number;
  center: Vec3;
  radii: Vec3;
  /** HU relative to the host organ (or absolute, for lung tumours and cysts). */
  hu: number;
  absolute: boolean;
  hostTs: number[];
}

export interface Tube {
  classId: number;
  a: Vec3;
  b: Vec3;
  radius: number;
  /** Only inside these TotalSegmentator structures (empty: anywhere in the body). */
  insideTs: number[];
}

/** Everything random about one case's anatomy; near-duplicates share it. */
export interface CaseAnatomy {
  scale: Vec3;
  rotZ: number;
  shift: Vec3;
  waves: { k: Vec3; amp: Vec3; phase: number }[];
  lesions: Lesion[];
  tubes: Tube[];
}

function randomVoxelWorld(t: PhantomTemplate, tsIds: number[], rng: Rng): Vec3 | undefined {
  const pools = tsIds.map((id) => t.voxelsOf.get(id)).filter((p): p is Int32Array => !!p && p.length > 0);
  const total = pools.reduce((s, p) => s + p.length, 0);
  if (total === 0) return undefined;
  let k = rng.int(total);
  for (const p of pools) {
    if (k < p.length) {
      const i = p[k];
      const [nx, ny] = t.seg.shape;
      return applyAffine(t.seg.affine, [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))]);
    }
    k -= p.length;
  }
  return undefined;
}

function centroidWorld(t: PhantomTemplate, tsId: number): Vec3 | undefined {
  const p = t.voxelsOf.get(tsId);
  if (!p || p.length === 0) return undefined;
  const [nx, ny] = t.seg.shape;
  const s: Vec3 = [0, 0, 0];
  for (const i of p) {
    s[0] += i % nx;
    s[1] += Math.floor(i / nx) % ny;
    s[2] += Math.floor(i / (nx * ny));
  }
  return applyAffine(t.seg.affine, s.map((v) => v / p.length) as Vec3);
}

/** Draw one case's anatomy: deformation, vessels, and lesions of the classes the site annotates. */
export function randomAnatomy(t: PhantomTemplate, look: SiteLook, rng: Rng): CaseAnatomy {
  const scale = look.anatomyScale.map((s) => s * rng.uniform(0.95, 1.05)) as Vec3;
  const waves = Array.from({ length: 3 }, () => {
    const dir: Vec3 = [rng.normal(), rng.normal(), rng.normal()];
    const len = Math.hypot(...dir) || 1;
    const wavelength = rng.uniform(120, 300);
    return {
      k: dir.map((d) => (2 * Math.PI * d) / len / wavelength) as Vec3,
      amp: [rng.normal(0, 4), rng.normal(0, 4), rng.normal(0, 2.5)] as Vec3,
      phase: rng.uniform(0, 2 * Math.PI),
    };
  });
  const tubes: Tube[] = [];
  // Hepatic vessels: branches from the portal vein's entry into the liver.
  const liverC = centroidWorld(t, 5);
  const portal = centroidWorld(t, 64) ?? liverC;
  if (liverC && portal) {
    const hilum = portal.map((v, i) => 0.6 * v + 0.4 * liverC[i]) as Vec3;
    const branches = 3 + rng.int(3);
    for (let b = 0; b < branches; b++) {
      let from = hilum;
      let radius = rng.uniform(2.5, 4);
      let dir = (randomVoxelWorld(t, [5], rng) ?? liverC).map((v, i) => v - from[i]) as Vec3;
      for (let seg = 0; seg < 3; seg++) {
        const len = Math.hypot(...dir) || 1;
        const step = rng.uniform(18, 35);
        const to = from.map((v, i) => v + (dir[i] / len) * step + rng.normal(0, 4)) as Vec3;
        tubes.push({ classId: 15, a: from, b: to, radius, insideTs: [5] });
        from = to;
        radius = Math.max(1.5, radius * 0.75);
        dir = dir.map((d) => d / len + rng.normal(0, 0.35)) as Vec3;
      }
    }
  }
  // Celiac trunk: a short artery leaving the aorta anteriorly in the upper abdomen.
  const aortaC = centroidWorld(t, 52);
  if (aortaC) {
    const a: Vec3 = [aortaC[0], aortaC[1] + 9, aortaC[2] + rng.uniform(-6, 10)];
    tubes.push({
      classId: 25,
      a,
      b: [a[0] + rng.normal(0, 4), a[1] + rng.uniform(18, 28), a[2] + rng.uniform(-2, 6)],
      radius: rng.uniform(2.5, 3.5),
      insideTs: [],
    });
  }
  const lesions: Lesion[] = [];
  const tumourClasses = templateClasses(look.template).filter((c) => c in LESION_HOSTS);
  for (const cls of tumourClasses) {
    if (!rng.bernoulli(0.85)) continue;
    const count = 1 + rng.int(cls === 32 ? 2 : 3);
    for (let n = 0; n < count; n++) {
      const host = LESION_HOSTS[cls];
      let center = randomVoxelWorld(t, host, rng);
      if (cls === 29) {
        // Hepatic-vessel tumours sit next to a vessel.
        const v = tubes.filter((tb) => tb.classId === 15);
        if (v.length) {
          const tb = v[rng.int(v.length)];
          const u = rng.next();
          center = tb.a.map((x, i) => x + u * (tb.b[i] - x) + rng.normal(0, 5)) as Vec3;
        }
      }
      if (!center) continue;
      // Log-uniform sizes: many small lesions, a few large; pancreas lesions stay small.
      const maxR = cls === 28 ? 10 : cls === 30 ? 14 : 20;
      const r = Math.exp(rng.uniform(Math.log(4), Math.log(maxR)));
      const radii = [r * rng.uniform(0.8, 1.2), r * rng.uniform(0.8, 1.2), r * rng.uniform(0.7, 1.1)] as Vec3;
      const lowContrast = rng.bernoulli(0.3);
      let hu: number;
      let absolute = false;
      if (cls === 32) [hu, absolute] = [rng.uniform(0, 18), true];
      else if (cls === 30) [hu, absolute] = [rng.uniform(20, 60), true];
      else if (cls === 31) hu = rng.uniform(10, 35);
      else hu = -(lowContrast ? rng.uniform(12, 25) : rng.uniform(30, 80));
      lesions.push({ classId: cls, center, radii, hu, absolute, hostTs: host });
    }
  }
  return {
    scale,
    rotZ: rng.normal(0, 0.05),
    shift: [rng.normal(0, 6), rng.normal(0, 6), rng.normal(0, 4)],
    waves,
    lesions,
    tubes,
  };
}

export interface PhantomGrid {
  shape: Vec3;
  spacing: Vec3;
}

/**
 * The output grid for a requested size and/or spacing. With only one of them, the other follows from
 * the template's field of view; with both, the grid is centred on the template (beyond it in z the
 * anatomy repeats its edge slices; beyond it in x/y is air).
 */
export function phantomGrid(size?: Vec3, spacing?: Vec3): PhantomGrid {
  const ext = templateExtentMm();
  if (size && spacing) return { shape: size, spacing };
  if (spacing) return { shape: ext.map((e, i) => Math.max(4, Math.round(e / spacing[i]))) as Vec3, spacing };
  if (size) return { shape: size, spacing: ext.map((e, i) => e / size[i]) as Vec3 };
  return { shape: [61, 50, 15], spacing: [6, 6, 6] };
}

export interface RenderedPhantom {
  /** HU, in RAS voxel order. */
  image: Volume<Float32Array>;
  /** Post-label codes (src/data/post-label.ts) of everything rendered, before partial labelling. */
  classes: Volume<Uint8Array>;
}

function distToSegment(p: Vec3, a: Vec3, b: Vec3): number {
  const ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const ap = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
  const l2 = ab[0] ** 2 + ab[1] ** 2 + ab[2] ** 2 || 1;
  const u = Math.max(0, Math.min(1, (ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / l2));
  return Math.hypot(ap[0] - u * ab[0], ap[1] - u * ab[1], ap[2] - u * ab[2]);
}

/** Render one case on a grid. `noiseRng` only drives voxel noise, so near-duplicates differ only there. */
export function renderPhantom(t: PhantomTemplate, look: SiteLook, anatomy: CaseAnatomy, grid: PhantomGrid, noiseRng: Rng): RenderedPhantom {
  const { shape, spacing } = grid;
  const origin = t.center.map((c, i) => c - ((shape[i] - 1) / 2) * spacing[i]) as Vec3;
  const affine = diagonalAffine(spacing, origin);
  const n = shape[0] * shape[1] * shape[2];
  const hu = new Float32Array(n);
  const cls = new Uint8Array(n);
  const phase = PHASE_INDEX[look.phase];
  const [tx, ty, tz] = t.seg.shape;
  const tOrigin: Vec3 = [t.seg.affine[3], t.seg.affine[7], t.seg.affine[11]];
  const tSp = t.seg.spacing;
  const cos = Math.cos(anatomy.rotZ),
    sin = Math.sin(anatomy.rotZ);
  const bodyAir = -1000;
  let o = 0;
  for (let k = 0; k < shape[2]; k++)
    for (let j = 0; j < shape[1]; j++)
      for (let i = 0; i < shape[0]; i++, o++) {
        const p: Vec3 = [origin[0] + i * spacing[0], origin[1] + j * spacing[1], origin[2] + k * spacing[2]];
        // Output world -> template world: inverse similarity transform plus a smooth displacement.
        const d = [p[0] - t.center[0] - anatomy.shift[0], p[1] - t.center[1] - anatomy.shift[1], p[2] - t.center[2] - anatomy.shift[2]];
        const r = [(cos * d[0] + sin * d[1]) / anatomy.scale[0], (-sin * d[0] + cos * d[1]) / anatomy.scale[1], d[2] / anatomy.scale[2]];
        const q: Vec3 = [t.center[0] + r[0], t.center[1] + r[1], t.center[2] + r[2]];
        for (const w of anatomy.waves) {
          const s = Math.sin(w.k[0] * p[0] + w.k[1] * p[1] + w.k[2] * p[2] + w.phase);
          q[0] += w.amp[0] * s;
          q[1] += w.amp[1] * s;
          q[2] += w.amp[2] * s;
        }
        const fx = (q[0] - tOrigin[0]) / tSp[0];
        const fy = (q[1] - tOrigin[1]) / tSp[1];
        const fz = Math.min(tz - 1, Math.max(0, (q[2] - tOrigin[2]) / tSp[2]));
        if (fx < -0.5 || fy < -0.5 || fx > tx - 0.5 || fy > ty - 0.5) {
          hu[o] = bodyAir;
          continue;
        }
        const xi = Math.min(tx - 1, Math.max(0, Math.round(fx)));
        const yi = Math.min(ty - 1, Math.max(0, Math.round(fy)));
        const zi = Math.round(fz);
        const tIdx = xi + tx * (yi + ty * zi);
        const ts = t.seg.data[tIdx];
        const real = trilinear(t.ct.data, t.ct.shape, fx, fy, fz);
        const tsClass = TOTALSEG_TO_CLASS[ts] ?? 0;
        // Post-label code parts: the organ, and the tumour (or the template's cyst) inside it.
        let c = isTumourId(tsClass) ? (TOTALSEG_INSIDE[ts] ?? 0) : tsClass;
        let tumour = isTumourId(tsClass) ? tsClass : 0;
        let v: number;
        if (tsClass && ORGAN_HU[tsClass]) {
          const gas = TS_BOWEL.has(ts) && real < -300;
          v = gas ? -950 + 0.2 * (real + 950) : ORGAN_HU[tsClass][phase] + 0.35 * (real - (t.meanHU.get(ts) ?? real));
        } else if (TS_BONE.has(ts)) v = real;
        else if (ts === TS_CARTILAGE) v = 120 + 0.3 * (real - 120);
        else if (TS_MUSCLE.has(ts)) v = 52 + 0.3 * (real - (t.meanHU.get(ts) ?? real));
        else if (real < -400)
          v = real; // air, bowel gas
        else if (real < -25)
          v = -100 + 0.5 * (real + 100); // fat
        else v = real; // other soft tissue
        for (const tb of anatomy.tubes) {
          if (tb.insideTs.length && !tb.insideTs.includes(ts)) continue;
          if (distToSegment(q, tb.a, tb.b) <= tb.radius) {
            c = tb.classId;
            v = ORGAN_HU[tb.classId][phase] + noiseRng.normal(0, 4);
          }
        }
        for (const les of anatomy.lesions) {
          if (!les.hostTs.includes(ts)) continue;
          const e = ((q[0] - les.center[0]) / les.radii[0]) ** 2 + ((q[1] - les.center[1]) / les.radii[1]) ** 2 + ((q[2] - les.center[2]) / les.radii[2]) ** 2;
          if (e <= 1) {
            tumour = les.classId;
            v = les.absolute ? les.hu : v + les.hu;
          }
        }
        hu[o] = v;
        cls[o] = postLabel(c, tumour);
      }
  const blurVox = look.blurMm.map((b, i) => b / spacing[i]) as Vec3;
  const blurred = gaussianBlur({ shape, spacing, affine, data: hu }, blurVox).data;
  const cx = origin[0] + ((shape[0] - 1) / 2) * spacing[0];
  const cy = origin[1] + ((shape[1] - 1) / 2) * spacing[1];
  o = 0;
  for (let k = 0; k < shape[2]; k++)
    for (let j = 0; j < shape[1]; j++)
      for (let i = 0; i < shape[0]; i++, o++) {
        const rr = Math.hypot(origin[0] + i * spacing[0] - cx, origin[1] + j * spacing[1] - cy);
        if (rr > look.fovRadiusMm) {
          blurred[o] = -1024;
          continue;
        }
        const v = blurred[o] * look.huGain + look.huOffset + noiseRng.normal(0, look.noiseSd);
        blurred[o] = Math.max(-1024, Math.min(3071, Math.round(v)));
      }
  return {
    image: { shape, spacing, affine, data: blurred },
    classes: { shape, spacing, affine: affine.slice(), data: cls },
  };
}

function trilinear(data: Float32Array, shape: Vec3, x: number, y: number, z: number): number {
  const [nx, ny, nz] = shape;
  const cx = Math.min(nx - 1, Math.max(0, x)),
    cy = Math.min(ny - 1, Math.max(0, y)),
    cz = Math.min(nz - 1, Math.max(0, z));
  const x0 = Math.floor(cx),
    y0 = Math.floor(cy),
    z0 = Math.floor(cz);
  const x1 = Math.min(nx - 1, x0 + 1),
    y1 = Math.min(ny - 1, y0 + 1),
    z1 = Math.min(nz - 1, z0 + 1);
  const wx = cx - x0,
    wy = cy - y0,
    wz = cz - z0;
  const at = (a: number, b: number, c: number) => data[a + nx * (b + ny * c)];
  const c0 = (at(x0, y0, z0) * (1 - wx) + at(x1, y0, z0) * wx) * (1 - wy) + (at(x0, y1, z0) * (1 - wx) + at(x1, y1, z0) * wx) * wy;
  const c1 = (at(x0, y0, z1) * (1 - wx) + at(x1, y0, z1) * wx) * (1 - wy) + (at(x0, y1, z1) * (1 - wx) + at(x1, y1, z1) * wx) * wy;
  return c0 * (1 - wz) + c1 * wz;
}

/** The volume as the site's scanner stores it (LPS sites flip x and y). */
export function asStored<T extends Float32Array | Uint8Array>(vol: Volume<T>, look: SiteLook): Volume<T> {
  return look.orientation === "LPS" ? flipAxes(vol, [true, true, false]) : vol;
}
