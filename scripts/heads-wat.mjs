// Writes the WebAssembly text of the fused Universal Model heads (src/kernels/dynamic-heads.ts), for
// `npm run build` (scripts/build-wasm.mjs). Generated, not hand-written: the 8-channel head's products are
// unrolled (8 x 8 multiply-adds a layer), which would be 1,500 lines of repetition in a .wat file.
//
// Layouts (floats; V a multiple of 4; four voxels a SIMD lane group, so no shuffles are needed):
//   xT   [8, V]    the decoder features, channel-major
//   dyn  [C, 153]  per class: w1 [8 out, 8 in], w2 [8, 8], w3 [8], b1 [8], b2 [8], b3 (the reference's order)
//   outT [C, V]    logits; dyT [C, V] their gradient
//   dxT  [8, V]    gradient of xT, accumulated over classes (zeroed by the caller)
//   ddyn [C, 153]  gradient of dyn; acc: 153 x 16 bytes of scratch

const H = 8;
const P = 2 * H * H + 3 * H + 1; // 153
const W1 = 0,
  W2 = H * H,
  W3 = 2 * H * H,
  B1 = W3 + H,
  B2 = B1 + H,
  B3 = B2 + H;

const range = (n) => Array.from({ length: n }, (_, i) => i);
const splat = (index) => `(v128.load32_splat offset=${index * 4} (local.get $p))`;
const sum = (terms) => terms.reduce((a, t) => `(f32x4.add ${a} ${t})`);
const relu = (v) => `(f32x4.max ${v} (v128.const f32x4 0 0 0 0))`;
const vlocals = (name, n) =>
  range(n)
    .map((i) => `(local $${name}${i} v128)`)
    .join(" ");
const get = (name, i) => `(local.get $${name}${i})`;
/** acc[index] += v, the accumulator of parameter `index` (four lanes, summed after the voxel loop). */
const accumulate = (index, v) => `(v128.store offset=${index * 16} (local.get $acc) (f32x4.add (v128.load offset=${index * 16} (local.get $acc)) ${v}))`;

/** Loads x, recomputes both hidden layers (after ReLU) into $a (layer 1) and $b (layer 2). */
function hidden() {
  const lines = [];
  for (const i of range(H)) lines.push(`(local.set $x${i} (v128.load (i32.add (local.get $q${i}) (local.get $vb))))`);
  for (const o of range(H))
    lines.push(`(local.set $a${o} ${relu(sum([splat(B1 + o), ...range(H).map((i) => `(f32x4.mul ${splat(W1 + o * H + i)} ${get("x", i)})`)]))})`);
  for (const o of range(H))
    lines.push(`(local.set $b${o} ${relu(sum([splat(B2 + o), ...range(H).map((i) => `(f32x4.mul ${splat(W2 + o * H + i)} ${get("a", i)})`)]))})`);
  return lines;
}

/** $q0..$q7 = xT + i * V * 4 (the channel rows). */
const rows = range(H)
  .map((i) => `(local.set $q${i} (i32.add (local.get $xT) (i32.mul (local.get $vbytes) (i32.const ${i}))))`)
  .join("\n    ");

function forward() {
  const out = sum([splat(B3), ...range(H).map((i) => `(f32x4.mul ${splat(W3 + i)} ${get("b", i)})`)]);
  return `
  ;; outT[c, v] = w3 . relu(w2 relu(w1 x[v] + b1) + b2) + b3, four voxels at a time.
  (func (export "forward") (param $xT i32) (param $V i32) (param $dyn i32) (param $C i32) (param $outT i32)
    (local $c i32) (local $p i32) (local $vb i32) (local $vbytes i32) (local $out i32)
    ${range(H)
      .map((i) => `(local $q${i} i32)`)
      .join(" ")}
    ${vlocals("x", H)} ${vlocals("a", H)} ${vlocals("b", H)}
    (local.set $vbytes (i32.shl (local.get $V) (i32.const 2)))
    ${rows}
    (local.set $p (local.get $dyn))
    (local.set $out (local.get $outT))
    (block $classEnd (loop $class
      (br_if $classEnd (i32.ge_s (local.get $c) (local.get $C)))
      (local.set $vb (i32.const 0))
      (block $voxelEnd (loop $voxel
        (br_if $voxelEnd (i32.ge_u (local.get $vb) (local.get $vbytes)))
        ${hidden().join("\n        ")}
        (v128.store (i32.add (local.get $out) (local.get $vb)) ${out})
        (local.set $vb (i32.add (local.get $vb) (i32.const 16)))
        (br $voxel)))
      (local.set $p (i32.add (local.get $p) (i32.const ${P * 4})))
      (local.set $out (i32.add (local.get $out) (local.get $vbytes)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $class))))`;
}

/**
 * The backward pass: `dx: "add"` accumulates dxT over the classes in class order ("backward"); `dx: "terms"`
 * stores each class's term instead, termsT [C, 8, V] ("backwardTerms", for the second thread), which
 * addTerms later adds into dxT in class order: the same float32 additions in the same order.
 */
function backward(name, dx) {
  const body = [...hidden()];
  body.push(`(local.set $g (v128.load (i32.add (local.get $dy) (local.get $vb))))`);
  body.push(accumulate(B3, `(local.get $g)`));
  for (const k of range(H)) {
    body.push(accumulate(W3 + k, `(f32x4.mul (local.get $g) ${get("b", k)})`));
    // ReLU's gradient: zero where the unit is off (a relu output is > 0 exactly where its input is).
    body.push(`(local.set $d${k} (v128.and (f32x4.gt ${get("b", k)} (v128.const f32x4 0 0 0 0)) (f32x4.mul (local.get $g) ${splat(W3 + k)})))`);
    body.push(accumulate(B2 + k, get("d", k)));
    for (const j of range(H)) body.push(accumulate(W2 + k * H + j, `(f32x4.mul ${get("d", k)} ${get("a", j)})`));
  }
  for (const j of range(H)) {
    const back = sum(range(H).map((k) => `(f32x4.mul ${splat(W2 + k * H + j)} ${get("d", k)})`));
    body.push(`(local.set $e${j} (v128.and (f32x4.gt ${get("a", j)} (v128.const f32x4 0 0 0 0)) ${back}))`);
    body.push(accumulate(B1 + j, get("e", j)));
    for (const i of range(H)) body.push(accumulate(W1 + j * H + i, `(f32x4.mul ${get("e", j)} ${get("x", i)})`));
  }
  for (const i of range(H)) {
    const back = sum(range(H).map((j) => `(f32x4.mul ${splat(W1 + j * H + i)} ${get("e", j)})`));
    const at = `(i32.add (local.get $r${i}) (local.get $vb))`;
    body.push(dx === "add" ? `(v128.store ${at} (f32x4.add (v128.load ${at}) ${back}))` : `(v128.store ${at} ${back})`);
  }
  // After the voxel loop: ddyn[c, index] = the four lanes of acc[index], summed.
  const lane = (index, l) => `(f32x4.extract_lane ${l} (v128.load offset=${index * 16} (local.get $acc)))`;
  const reduce = range(P).map(
    (index) =>
      `(f32.store offset=${index * 4} (local.get $dp) (f32.add (f32.add ${lane(index, 0)} ${lane(index, 1)}) (f32.add ${lane(index, 2)} ${lane(index, 3)})))`,
  );
  return `
  ;; Gradients of forward from dyT [C, V]: ddyn[c] (summed over voxels) and ${dx === "add" ? "dxT += (summed over classes)" : "each class's dxT term (termsT [C, 8, V] at $dxT)"}.
  (func (export "${name}") (param $xT i32) (param $V i32) (param $dyn i32) (param $C i32) (param $dyT i32)
    (param $dxT i32) (param $ddyn i32) (param $acc i32)
    (local $c i32) (local $p i32) (local $dp i32) (local $vb i32) (local $vbytes i32) (local $dy i32)
    ${range(H)
      .map((i) => `(local $q${i} i32) (local $r${i} i32)`)
      .join(" ")}
    (local $g v128) ${vlocals("x", H)} ${vlocals("a", H)} ${vlocals("b", H)} ${vlocals("d", H)} ${vlocals("e", H)}
    (local.set $vbytes (i32.shl (local.get $V) (i32.const 2)))
    ${rows}
    ${range(H)
      .map((i) => `(local.set $r${i} (i32.add (local.get $dxT) (i32.mul (local.get $vbytes) (i32.const ${i}))))`)
      .join("\n    ")}
    (local.set $p (local.get $dyn))
    (local.set $dp (local.get $ddyn))
    (local.set $dy (local.get $dyT))
    (block $classEnd (loop $class
      (br_if $classEnd (i32.ge_s (local.get $c) (local.get $C)))
      (memory.fill (local.get $acc) (i32.const 0) (i32.const ${P * 16}))
      (local.set $vb (i32.const 0))
      (block $voxelEnd (loop $voxel
        (br_if $voxelEnd (i32.ge_u (local.get $vb) (local.get $vbytes)))
        ${body.join("\n        ")}
        (local.set $vb (i32.add (local.get $vb) (i32.const 16)))
        (br $voxel)))
      ${reduce.join("\n      ")}
      (local.set $p (i32.add (local.get $p) (i32.const ${P * 4})))
      (local.set $dp (i32.add (local.get $dp) (i32.const ${P * 4})))
      (local.set $dy (i32.add (local.get $dy) (local.get $vbytes)))
      ${
        dx === "terms"
          ? range(H)
              .map((i) => `(local.set $r${i} (i32.add (local.get $r${i}) (i32.shl (local.get $vbytes) (i32.const 3))))`)
              .join("\n      ")
          : ""
      }
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $class))))`;
}

/** dxT [8, V] += termsT[c] for c = 0..C-1 in order (the terms backwardTerms stored). */
function addTerms() {
  return `
  (func (export "addTerms") (param $dxT i32) (param $termsT i32) (param $C i32) (param $V i32)
    (local $n i32) (local $o i32) (local $t i32) (local $c i32)
    (local.set $n (i32.shl (i32.shl (local.get $V) (i32.const 3)) (i32.const 2)))
    (local.set $t (local.get $termsT))
    (block $classEnd (loop $class
      (br_if $classEnd (i32.ge_s (local.get $c) (local.get $C)))
      (local.set $o (i32.const 0))
      (block $end (loop $quad
        (br_if $end (i32.ge_u (local.get $o) (local.get $n)))
        (v128.store (i32.add (local.get $dxT) (local.get $o))
          (f32x4.add (v128.load (i32.add (local.get $dxT) (local.get $o))) (v128.load (i32.add (local.get $t) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $quad)))
      (local.set $t (i32.add (local.get $t) (local.get $n)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $class))))`;
}

/** The module's text: memory imported as env.memory, functions forward and backward. */
export function headsWat() {
  return `;; Generated by scripts/heads-wat.mjs: the fused 8-channel dynamic heads (see that file).
(module
  (import "env" "memory" (memory 1))
${forward()}
${backward("backward", "add")}
${backward("backwardTerms", "terms")}
${addTerms()})
`;
}

export const HEAD_CHANNELS = H;
export const HEAD_PARAMS = P;
