/** `massive <command>`: the kit's command line. */
import { releaseWebGpu } from "../backend.js";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkCaseIds, runPrep } from "../data/prep/prep.js";
import { readListFile } from "../data/listfile.js";
import { DEFAULT_MAX_VOXELS } from "../data/nifti.js";
import { MANIFEST_NAME, readManifest } from "../data/manifest.js";
import { runPhantomSet } from "../data/prep/phantom-set.js";
import { writePhantomFigure } from "../report/phantom-figure.js";
import { templateClasses, templateKeys } from "../data/ontology.js";
import { profileByName } from "../profiles.js";
import { evalCommand, trainCommand } from "./train-commands.js";
import { openNotebooks } from "../notebook/setup.js";
import { asUsage, helpText, outFolder, parseCommand, parseIntFlag, parseVec3, UsageError, type CommandSpec } from "./args.js";
import { env } from "../env.js";

const phantom: CommandSpec = {
  name: "phantom",
  summary: "generate the synthetic PAOT-like stream (16 sites + a single-site set) as NIfTI files and list files",
  usage: "massive phantom --profile smoke|mini --seed N --out <dir> [--size 48|64,64,32] [--spacing 4.5] [--sites D1,D5] [--figure <png>]",
  options: {
    profile: { type: "string", default: "smoke" },
    seed: { type: "string", default: "1" },
    out: { type: "string" },
    size: { type: "string" },
    spacing: { type: "string" },
    sites: { type: "string" },
    figure: { type: "string" },
  },
  help: {
    profile: "case counts and grid of the profile (smoke: tiny; mini: the CPU reproduction)",
    seed: "generator seed; the same seed writes identical files",
    out: "output folder (PAOT layout: <dataset>/img, <dataset>/label, *_train.txt, *_test.txt)",
    size: "grid in voxels, one number or x,y,z (default: the template's field of view at --spacing)",
    spacing: "voxel size in mm, one number or x,y,z (default: the profile's)",
    sites: "only these sites, comma separated (default: all 16)",
    figure: "also write the one-row-per-site picture to this PNG",
  },
  run(v) {
    const profile = asUsage("phantom", () => profileByName(String(v.profile)));
    if (!profile.phantom) throw new UsageError(`massive phantom: profile "${profile.name}" runs on real data; use smoke or mini`);
    const out = outFolder(v.out, "phantom");
    runPhantomSet({
      out,
      seed: parseIntFlag(v.seed, "seed", "phantom", 1),
      profile: profile.phantom,
      size: v.size ? parseVec3(String(v.size), "size", "phantom", true) : undefined,
      spacing: v.spacing ? parseVec3(String(v.spacing), "spacing", "phantom") : undefined,
      sites: v.sites
        ? String(v.sites)
            .split(",")
            .map((s) => s.trim())
        : undefined,
    });
    if (v.figure) {
      writePhantomFigure(out, resolve(String(v.figure)));
      process.stderr.write(`phantom: figure written to ${v.figure}\n`);
    }
  },
};

const prep: CommandSpec = {
  name: "prep",
  summary: "preprocess the cases of PAOT-style list files (image<TAB>label) into a prepared folder with a manifest",
  usage:
    "massive prep --list <file> [--list <file> ...] --root <dir> --out <dir> [--spacing 1.5] [--dataset-key <template>] [--label-map template|totalseg] [--site D5] [--split train|test] [--profile <p>] [--volume K] [--max-voxels N]",
  options: {
    list: { type: "string", multiple: true },
    root: { type: "string" },
    out: { type: "string" },
    spacing: { type: "string" },
    profile: { type: "string" },
    "dataset-key": { type: "string" },
    "label-map": { type: "string", default: "template" },
    site: { type: "string" },
    split: { type: "string" },
    volume: { type: "string" },
    "max-voxels": { type: "string" },
  },
  help: {
    list:
      "list file(s): one case per line, image path <TAB> label path, relative to --root; a line with a tab is split only at tabs " +
      "(so paths may contain spaces), a line without one at the space before the label path; split from the name (test/train) unless --split",
    root: "folder the list's paths are relative to (default: the list file's folder)",
    out: "prepared folder (resumable: cases already there are skipped)",
    spacing: "target voxel size in mm, one number or x,y,z (default 1.5, or the --profile's)",
    profile: "take the spacing and minimum size from a profile (smoke, mini, paper)",
    "dataset-key": `label template for every case (default: from each path's PAOT folder); one of ${templateKeys().join(", ")}`,
    "label-map": "template: label k means template class k (PAOT files); totalseg: TotalSegmentator v2 CT ('total') ids (an MR label map is refused)",
    site: "site id to record for every case (default: the template's site in the stream, else 'external')",
    split: "train or test for every case (default: from the list file's name); also decides for a case found in both a train and a test list",
    volume: "for 4-D (and higher) images: the 0-based 3-D volume to use (without it such images are refused)",
    "max-voxels": `refuse images with more voxels than this, before reading their data (default ${DEFAULT_MAX_VOXELS}, 12 GB as float32)`,
  },
  run(v) {
    const lists = (v.list as string[] | undefined) ?? [];
    if (lists.length === 0) throw new UsageError("massive prep: --list is required");
    const out = outFolder(v.out, "prep");
    const labelMapping = String(v["label-map"]);
    if (labelMapping !== "template" && labelMapping !== "totalseg") {
      throw new UsageError(`massive prep: --label-map must be template or totalseg, got "${labelMapping}"`);
    }
    const split = v.split === undefined ? undefined : String(v.split);
    if (split !== undefined && split !== "train" && split !== "test") throw new UsageError(`massive prep: --split must be train or test, got "${split}"`);
    const profile = v.profile ? asUsage("prep", () => profileByName(String(v.profile))) : undefined;
    if (v["dataset-key"] !== undefined) asUsage("prep", () => templateClasses(String(v["dataset-key"])));
    const spacing = v.spacing ? parseVec3(String(v.spacing), "spacing", "prep") : (profile?.prepSpacing ?? ([1.5, 1.5, 1.5] as [number, number, number]));
    const read = {
      volume: v.volume === undefined ? undefined : parseIntFlag(v.volume, "volume", "prep", 0),
      maxVoxels: parseIntFlag(v["max-voxels"], "max-voxels", "prep", DEFAULT_MAX_VOXELS),
    };
    if (read.volume !== undefined && read.volume < 0) throw new UsageError(`massive prep: --volume must be 0 or more, got "${v.volume}"`);
    if (read.maxVoxels < 1) throw new UsageError(`massive prep: --max-voxels must be positive, got "${v["max-voxels"]}"`);
    // All lists together, before anything is prepared: case id collisions, duplicates, train/test overlap.
    const existing = existsSync(join(out, MANIFEST_NAME)) ? readManifest(out) : undefined;
    checkCaseIds(
      lists.map((l) => ({ file: resolve(l), entries: readListFile(resolve(l)) })),
      existing,
      split as "train" | "test" | undefined,
    );
    let failed = 0;
    for (const list of lists) {
      const s = runPrep({
        list: resolve(list),
        root: resolve(typeof v.root === "string" ? v.root : resolve(list, "..")),
        out,
        spacing,
        datasetKey: v["dataset-key"] === undefined ? undefined : String(v["dataset-key"]),
        labelMapping,
        site: v.site === undefined ? undefined : String(v.site),
        split: split as "train" | "test" | undefined,
        minShape: profile?.roi,
        read,
      });
      failed += s.failed.length;
    }
    if (failed > 0) process.exitCode = 3;
  },
};

const notebook: CommandSpec = {
  name: "notebook",
  summary: "open the notebooks: register the tslab kernel with a Python that has Jupyter, start JupyterLab (else the classic Notebook)",
  usage: "massive notebook [--ui auto|lab|classic] [--port N] [--no-browser]",
  options: {
    ui: { type: "string", default: "auto" },
    port: { type: "string" },
    "no-browser": { type: "boolean" },
  },
  help: {
    ui: "auto: JupyterLab when that Python has it, else the classic Notebook",
    port: "server port (default: 8888, or the next free one)",
    "no-browser": "do not open a browser (print the URL only)",
  },
  async run(v) {
    const ui = String(v.ui);
    if (!["auto", "lab", "classic"].includes(ui)) throw new UsageError(`massive notebook: --ui must be auto, lab or classic, got "${ui}"`);
    process.exitCode = await openNotebooks({
      ui: ui as "auto" | "lab" | "classic",
      port: v.port === undefined ? undefined : parseIntFlag(v.port, "port", "notebook", 8888),
      openBrowser: !v["no-browser"],
    });
  },
};

export const COMMANDS: CommandSpec[] = [phantom, prep, trainCommand, evalCommand, notebook];

export function usage(): string {
  return [
    "massive: online 3D CT segmentation with replay memories (Embracing Massive Medical Data, MICCAI 2024)",
    "",
    "usage: massive <command> [options]      massive <command> --help",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 1;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`massive: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const values = parseCommand(cmd, rest);
    if (values.help) {
      console.log(helpText(cmd));
      return 0;
    }
    await cmd.run(values);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      return 2;
    }
    console.error(`massive ${name}: ${(e as Error).message}`);
    if (env("MASSIVE_DEBUG")) console.error((e as Error).stack);
    return 1;
  } finally {
    releaseWebGpu(); // Dawn's instance would keep the process alive
  }
}
