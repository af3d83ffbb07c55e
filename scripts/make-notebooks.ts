/**
 * `npm run notebooks [-- --check]`: write notebooks/*.ipynb from their TypeScript sources
 * (notebooks/src/*.ts, see src/notebook/sources.ts). A notebook whose cells already equal its source is
 * left alone (it keeps its outputs); one that differs is rewritten unexecuted (`npm run reproduce` then
 * fills in the outputs). `--check` writes nothing and fails when any notebook differs.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readNotebook, writeNotebook } from "../src/notebook/nbformat.js";
import { cellsMatch, notebookFromSource } from "../src/notebook/sources.js";
import { kitRoot } from "../src/util/paths.js";

const check = process.argv.includes("--check");
const dir = join(kitRoot(), "notebooks");
let stale = 0;
for (const f of readdirSync(join(dir, "src"))
  .filter((x) => x.endsWith(".ts"))
  .sort()) {
  const name = f.replace(/\.ts$/, "");
  const fresh = notebookFromSource(name, readFileSync(join(dir, "src", f), "utf8"));
  const file = join(dir, `${name}.ipynb`);
  const diff = existsSync(file) ? cellsMatch(readNotebook(file), fresh) : { same: false, firstDifference: "no notebook yet" };
  if (diff.same) {
    console.log(`notebooks: ${name}.ipynb matches its source`);
    continue;
  }
  stale++;
  if (check) console.log(`notebooks: ${name}.ipynb differs from notebooks/src/${f}: ${diff.firstDifference}`);
  else {
    writeNotebook(file, fresh);
    console.log(`notebooks: wrote ${name}.ipynb from notebooks/src/${f} (${diff.firstDifference}; unexecuted: npm run reproduce fills in the outputs)`);
  }
}
if (check && stale) {
  console.log("notebooks: run `npm run notebooks` to regenerate");
  process.exit(1);
}
