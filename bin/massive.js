#!/usr/bin/env node
// Entry of `npx massive`: runs the built CLI (npm ci builds it through the "prepare" script).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "src", "cli", "main.js");
if (!existsSync(dist)) {
  console.error("massive: the kit is not built yet; run `npm ci` (or `npm run build`) in its folder first");
  process.exit(1);
}
const { main } = await import(dist);
process.exitCode = await main(process.argv.slice(2));
