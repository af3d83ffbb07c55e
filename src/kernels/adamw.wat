;; One AdamW update of one parameter (kernels/wasm/AdamWUpdate.ts), four elements at a time, bit for bit
;; the float32 operations of train/adamw.ts's op-by-op chain, in its order and with its float32 constants:
;; the same training, one launch a parameter instead of 14. Built to adamw.wasm by scripts/build-wasm.mjs,
;; run on the tfjs wasm backend's memory.
(module
  (import "env" "memory" (memory 1))

  ;; m1 = m0 b1 + g c1;  v1 = v0 b2 + (g g) c2;  u = (m1 / bc1) / (sqrt(v1 / bc2) + eps);
  ;; p1 = p0 decay - u lr; each operation rounded to float32 as a tfjs kernel rounds it. The caller passes
  ;; the constants as the op chain's scalar tensors hold them (c1 = 1 - beta1 and decay = 1 - lr wd taken
  ;; in float64, then rounded) and does the last n mod 4 elements; i < 4 quads, byte pointers.
  (func (export "adamw") (param $p0 i32) (param $m0 i32) (param $v0 i32) (param $g i32) (param $p1 i32) (param $m1 i32) (param $v1 i32)
    (param $quads i32) (param $beta1 f32) (param $one1 f32) (param $beta2 f32) (param $one2 f32) (param $bc1 f32) (param $bc2 f32)
    (param $eps f32) (param $decay f32) (param $lr f32)
    (local $b1 v128) (local $c1 v128) (local $b2 v128) (local $c2 v128) (local $k1 v128) (local $k2 v128) (local $e v128)
    (local $dk v128) (local $l v128) (local $gv v128) (local $m v128) (local $v v128) (local $o i32) (local $end i32)
    (local.set $b1 (f32x4.splat (local.get $beta1)))
    (local.set $c1 (f32x4.splat (local.get $one1)))
    (local.set $b2 (f32x4.splat (local.get $beta2)))
    (local.set $c2 (f32x4.splat (local.get $one2)))
    (local.set $k1 (f32x4.splat (local.get $bc1)))
    (local.set $k2 (f32x4.splat (local.get $bc2)))
    (local.set $e (f32x4.splat (local.get $eps)))
    (local.set $dk (f32x4.splat (local.get $decay)))
    (local.set $l (f32x4.splat (local.get $lr)))
    (local.set $end (i32.shl (local.get $quads) (i32.const 4)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $m (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m0) (local.get $o))) (local.get $b1)) (f32x4.mul (local.get $gv) (local.get $c1))))
        (local.set $v
          (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v0) (local.get $o))) (local.get $b2))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $c2))))
        (v128.store (i32.add (local.get $m1) (local.get $o)) (local.get $m))
        (v128.store (i32.add (local.get $v1) (local.get $o)) (local.get $v))
        (v128.store (i32.add (local.get $p1) (local.get $o))
          (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $p0) (local.get $o))) (local.get $dk))
            (f32x4.mul
              (f32x4.div (f32x4.div (local.get $m) (local.get $k1)) (f32x4.add (f32x4.sqrt (f32x4.div (local.get $v) (local.get $k2))) (local.get $e)))
              (local.get $l))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $quad)))))
