;; BatchNorm with batch statistics followed by ReLU (kernels/wasm/BatchNormRelu.ts) over x viewed as
;; [rows, C] (C a multiple of 4), four channels at a time: the op-by-op form launched about 30 kernels a
;; layer (forward and backward), each a pass over the activations. Every pass does the op form's float32
;; operations in its order (sums over rows in row order from 0, as the kit's Sum kernel), so the results
;; are the op form's bit for bit. Per-channel arrays (mean, a, b, sums) have C floats; all pointers are
;; byte offsets. Built to batchnorm-relu.wasm by scripts/build-wasm.mjs,
;; run on the tfjs wasm backend's memory (imported).
(module
  (import "env" "memory" (memory 1))

  ;; dst[c] = sum over rows of (x[r, c] - mean[c])^2
  (func (export "sumSquaredDeviations") (param $dst i32) (param $x i32) (param $mean i32) (param $rows i32) (param $C i32)
    (local $rowBytes i32) (local $o i32) (local $d v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (memory.fill (local.get $dst) (i32.const 0) (local.get $rowBytes))
    (block $end
      (loop $row
        (br_if $end (i32.le_s (local.get $rows) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $rowDone
          (loop $quad
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $rowBytes)))
            (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (i32.add (local.get $mean) (local.get $o)))))
            (v128.store (i32.add (local.get $dst) (local.get $o))
              (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $o))) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $quad)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; out[r, c] = max((x[r, c] - mean[c]) a[c] + beta[c], 0)
  (func (export "scaleShiftRelu") (param $out i32) (param $x i32) (param $mean i32) (param $a i32) (param $beta i32) (param $rows i32) (param $C i32)
    (local $rowBytes i32) (local $o i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $end
      (loop $row
        (br_if $end (i32.le_s (local.get $rows) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $rowDone
          (loop $quad
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $rowBytes)))
            (v128.store (i32.add (local.get $out) (local.get $o))
              (f32x4.max
                (f32x4.add
                  (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (i32.add (local.get $mean) (local.get $o))))
                    (v128.load (i32.add (local.get $a) (local.get $o))))
                  (v128.load (i32.add (local.get $beta) (local.get $o))))
                (v128.const f32x4 0 0 0 0)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $quad)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; With d = x - mean[c] and g = dy where d a[c] + beta[c] > 0 (else 0): sg[c] = sum of g, sgd[c] = sum
  ;; of g d, sga[c] = sum of g a[c] (the op form's gradients of beta, of the scale and, negated, of the mean
  ;; through x - mean; each product rounded before it is summed, as the op form rounds it).
  (func (export "gradientSums") (param $sg i32) (param $sgd i32) (param $sga i32) (param $x i32) (param $dy i32) (param $mean i32) (param $a i32) (param $beta i32) (param $rows i32) (param $C i32)
    (local $rowBytes i32) (local $o i32) (local $d v128) (local $g v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (memory.fill (local.get $sg) (i32.const 0) (local.get $rowBytes))
    (memory.fill (local.get $sgd) (i32.const 0) (local.get $rowBytes))
    (memory.fill (local.get $sga) (i32.const 0) (local.get $rowBytes))
    (block $end
      (loop $row
        (br_if $end (i32.le_s (local.get $rows) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $rowDone
          (loop $quad
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $rowBytes)))
            (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (i32.add (local.get $mean) (local.get $o)))))
            (local.set $g
              (v128.and (v128.load (i32.add (local.get $dy) (local.get $o)))
                (f32x4.gt
                  (f32x4.add (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $a) (local.get $o)))) (v128.load (i32.add (local.get $beta) (local.get $o))))
                  (v128.const f32x4 0 0 0 0))))
            (v128.store (i32.add (local.get $sg) (local.get $o)) (f32x4.add (v128.load (i32.add (local.get $sg) (local.get $o))) (local.get $g)))
            (v128.store (i32.add (local.get $sgd) (local.get $o))
              (f32x4.add (v128.load (i32.add (local.get $sgd) (local.get $o))) (f32x4.mul (local.get $g) (local.get $d))))
            (v128.store (i32.add (local.get $sga) (local.get $o))
              (f32x4.add (v128.load (i32.add (local.get $sga) (local.get $o))) (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $a) (local.get $o))))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $quad)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; dst[c] = sum over rows of k[c] (2 d): the gradient through the variance's (x - mean)^2, summed.
  (func (export "squareGradientSum") (param $dst i32) (param $x i32) (param $mean i32) (param $k i32) (param $rows i32) (param $C i32)
    (local $rowBytes i32) (local $o i32) (local $d v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (memory.fill (local.get $dst) (i32.const 0) (local.get $rowBytes))
    (block $end
      (loop $row
        (br_if $end (i32.le_s (local.get $rows) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $rowDone
          (loop $quad
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $rowBytes)))
            (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (i32.add (local.get $mean) (local.get $o)))))
            (v128.store (i32.add (local.get $dst) (local.get $o))
              (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $o)))
                (f32x4.mul (v128.load (i32.add (local.get $k) (local.get $o))) (f32x4.add (local.get $d) (local.get $d)))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $quad)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; dx[r, c] = (g a[c] + k[c] (2 d)) + c0[c], d and g as in gradientSums: the op form's three gradients of
  ;; x (through x - mean, through (x - mean)^2, through the mean) added in the order its tape adds them.
  (func (export "inputGradient") (param $dx i32) (param $x i32) (param $dy i32) (param $mean i32) (param $a i32) (param $beta i32) (param $k i32) (param $c0 i32) (param $rows i32) (param $C i32)
    (local $rowBytes i32) (local $o i32) (local $d v128) (local $g v128) (local $av v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $end
      (loop $row
        (br_if $end (i32.le_s (local.get $rows) (i32.const 0)))
        (local.set $o (i32.const 0))
        (block $rowDone
          (loop $quad
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $rowBytes)))
            (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (i32.add (local.get $mean) (local.get $o)))))
            (local.set $av (v128.load (i32.add (local.get $a) (local.get $o))))
            (local.set $g
              (v128.and (v128.load (i32.add (local.get $dy) (local.get $o)))
                (f32x4.gt (f32x4.add (f32x4.mul (local.get $d) (local.get $av)) (v128.load (i32.add (local.get $beta) (local.get $o)))) (v128.const f32x4 0 0 0 0))))
            (v128.store (i32.add (local.get $dx) (local.get $o))
              (f32x4.add
                (f32x4.add (f32x4.mul (local.get $g) (local.get $av))
                  (f32x4.mul (v128.load (i32.add (local.get $k) (local.get $o))) (f32x4.add (local.get $d) (local.get $d))))
                (v128.load (i32.add (local.get $c0) (local.get $o)))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $quad)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (local.set $dx (i32.add (local.get $dx) (local.get $rowBytes)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))
)
