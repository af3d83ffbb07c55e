// Make the package resolvable by its own name (node_modules/massive -> repo root), so that
// tslab notebooks in notebooks/ can `import ... from "massive"` (tslab cannot compile ../src, rootDir).
import { existsSync, lstatSync, mkdirSync, symlinkSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const link = join(root, "node_modules", "massive");
mkdirSync(dirname(link), { recursive: true });
if (existsSync(link) || isLink(link)) {
  if (!isLink(link)) {
    console.error(`link-self: ${link} exists and is not a symlink; leaving it alone`);
    process.exit(0);
  }
  unlinkSync(link);
}
// An absolute target: TypeScript 5.0 (tslab) does not follow a relative ".." link into the package.
symlinkSync(root, link, "dir");

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
