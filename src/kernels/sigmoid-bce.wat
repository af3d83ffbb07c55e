;; The transcendental part of the loss (kernels/wasm/DiceBce.ts) four voxels at a time: per element of
;; logits x and targets y, p = sigmoid(x) and the BCE with logits max(x, 0) - x y + log1p(exp(-|x|)).
;; JavaScript's Math.exp and Math.log1p cost 15-30 ns an element here, tfjs-wasm's Exp and Log1p 7-11 ns;
;; these polynomials (Cephes' expf; log1p(e) = 2 atanh(e / (2 + e)) as a series) are float32-accurate.
;; Built to sigmoid-bce.wasm by scripts/build-wasm.mjs, run on the tfjs wasm backend's memory (imported).
(module
  (import "env" "memory" (memory 1))

  ;; exp(-a) for a >= 0 (clamped at 87: below the smallest normal float it is 0 to float32 accuracy).
  (func $expNeg (param $a v128) (result v128)
    (local $z v128) (local $n v128) (local $r v128) (local $q v128)
    (local.set $z (f32x4.neg (f32x4.min (local.get $a) (v128.const f32x4 87 87 87 87))))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $z) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
    ;; r = z - n ln2 in two parts (Cody-Waite), |r| <= ln2 / 2
    (local.set $r (f32x4.sub (local.get $z) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $q (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    ;; exp(r) = q r^2 + r + 1, times 2^n built in the exponent bits (n >= -126 here)
    (local.set $q (f32x4.add (f32x4.add (f32x4.mul (local.get $q) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $q)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; log1p(e) for 0 <= e <= 1: 2 s (1 + s^2/3 + ... + s^14/15), s = e / (2 + e) <= 1/3 (next term < 2e-9).
  (func $log1pUnit (param $e v128) (result v128)
    (local $s v128) (local $s2 v128) (local $q v128)
    (local.set $s (f32x4.div (local.get $e) (f32x4.add (local.get $e) (v128.const f32x4 2 2 2 2))))
    (local.set $s2 (f32x4.mul (local.get $s) (local.get $s)))
    (local.set $q (v128.const f32x4 0.0666666667 0.0666666667 0.0666666667 0.0666666667))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $s2)) (v128.const f32x4 0.0769230769 0.0769230769 0.0769230769 0.0769230769)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $s2)) (v128.const f32x4 0.0909090909 0.0909090909 0.0909090909 0.0909090909)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $s2)) (v128.const f32x4 0.1111111111 0.1111111111 0.1111111111 0.1111111111)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $s2)) (v128.const f32x4 0.1428571429 0.1428571429 0.1428571429 0.1428571429)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $s2)) (v128.const f32x4 0.2 0.2 0.2 0.2)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $s2)) (v128.const f32x4 0.3333333333 0.3333333333 0.3333333333 0.3333333333)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $s2)) (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (f32x4.add (local.get $s) (local.get $s)) (local.get $q)))

  ;; p[i] = sigmoid(x[i]), l[i] = max(x[i], 0) - x[i] y[i] + log1p(exp(-|x[i]|)) for i < 4 * quads
  ;; (byte pointers; the caller does the last n mod 4 elements).
  (func (export "sigmoidBce") (param $x i32) (param $y i32) (param $p i32) (param $l i32) (param $quads i32)
    (local $xv v128) (local $e v128) (local $inv v128)
    (block $end
      (loop $quad
        (br_if $end (i32.le_s (local.get $quads) (i32.const 0)))
        (local.set $xv (v128.load (local.get $x)))
        (local.set $e (call $expNeg (f32x4.abs (local.get $xv))))
        (local.set $inv (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (local.get $e) (v128.const f32x4 1 1 1 1))))
        (v128.store (local.get $p)
          (v128.bitselect (local.get $inv) (f32x4.mul (local.get $e) (local.get $inv)) (f32x4.ge (local.get $xv) (v128.const f32x4 0 0 0 0))))
        (v128.store (local.get $l)
          (f32x4.add
            (f32x4.sub (f32x4.max (local.get $xv) (v128.const f32x4 0 0 0 0)) (f32x4.mul (local.get $xv) (v128.load (local.get $y))))
            (call $log1pUnit (local.get $e))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $l (i32.add (local.get $l) (i32.const 16)))
        (local.set $quads (i32.sub (local.get $quads) (i32.const 1)))
        (br $quad)))))
