// Assembles src/kernels/columns.wat into dist/src/kernels/columns.wasm (part of `npm run build`).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src", "kernels", "columns.wat");
const target = join(root, "dist", "src", "kernels", "columns.wasm");
const wabt = await wabtInit();
let module;
try {
  module = wabt.parseWat(source, readFileSync(source, "utf8"), { simd: true, bulk_memory: true });
  module.validate();
} catch (e) {
  console.error(`build-wasm: ${source}: ${e.message}`);
  process.exit(1);
}
const { buffer } = module.toBinary({});
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, buffer);
console.log(`build-wasm: ${target} (${buffer.length} bytes)`);
