// Assembles the kit's WebAssembly modules into dist/src/kernels/ (part of `npm run build`):
// src/kernels/columns.wat -> columns.wasm (the im2col loops), src/kernels/sigmoid-bce.wat ->
// sigmoid-bce.wasm (the loss's element-wise sigmoid and BCE), src/kernels/batchnorm-relu.wat ->
// batchnorm-relu.wasm (BatchNorm + ReLU and its gradient), src/kernels/adamw.wat -> adamw.wasm (the
// AdamW update), src/kernels/max-pool.wat -> max-pool.wasm (2x2x2 max pooling and its gradient), and
// the text that scripts/heads-wat.mjs
// generates -> heads.wasm (the fused Universal Model heads).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";
import { headsWat } from "./heads-wat.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wabt = await wabtInit();

function assemble(name, text, target) {
  let module;
  try {
    module = wabt.parseWat(name, text, { simd: true, bulk_memory: true });
    module.validate();
  } catch (e) {
    console.error(`build-wasm: ${name}: ${e.message}`);
    process.exit(1);
  }
  const { buffer } = module.toBinary({});
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, buffer);
  console.log(`build-wasm: ${target} (${buffer.length} bytes)`);
}

const columns = join(root, "src", "kernels", "columns.wat");
assemble(columns, readFileSync(columns, "utf8"), join(root, "dist", "src", "kernels", "columns.wasm"));
for (const name of ["sigmoid-bce", "batchnorm-relu", "adamw", "max-pool"]) {
  const source = join(root, "src", "kernels", `${name}.wat`);
  assemble(source, readFileSync(source, "utf8"), join(root, "dist", "src", "kernels", `${name}.wasm`));
}
assemble("scripts/heads-wat.mjs", headsWat(), join(root, "dist", "src", "kernels", "heads.wasm"));
