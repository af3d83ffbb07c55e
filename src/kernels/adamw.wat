;; One AdamW update of one parameter (kernels/wasm/AdamWUpdate.ts), four elements at a time, in float32 as
;; torch's CPU AdamW computes it. The same loop in JavaScript took 8 ms a mini training step (0.53 M
;; parameters). Built to adamw.wasm by scripts/build-wasm.mjs, run on the tfjs wasm backend's memory.
(module
  (import "env" "memory" (memory 1))

  ;; m1 = beta1 m0 + (1 - beta1) g; v1 = beta2 v0 + (1 - beta2) g^2;
  ;; p1 = p0 decay - step (m1 / (sqrt(v1 / bc2) + eps)), with decay = 1 - lr wd and step = lr / bc1;
  ;; for i < 4 quads (byte pointers; the caller does the last n mod 4 elements).
  (func (export "adamw") (param $p0 i32) (param $m0 i32) (param $v0 i32) (param $g i32) (param $p1 i32) (param $m1 i32) (param $v1 i32)
    (param $quads i32) (param $beta1 f32) (param $beta2 f32) (param $eps f32) (param $decay f32) (param $step f32) (param $bc2 f32)
    (local $b1 v128) (local $c1 v128) (local $b2 v128) (local $c2 v128) (local $e v128) (local $dk v128) (local $st v128) (local $ib v128)
    (local $gv v128) (local $m v128) (local $v v128) (local $o i32) (local $end i32)
    (local.set $b1 (f32x4.splat (local.get $beta1)))
    (local.set $c1 (f32x4.splat (f32.sub (f32.const 1) (local.get $beta1))))
    (local.set $b2 (f32x4.splat (local.get $beta2)))
    (local.set $c2 (f32x4.splat (f32.sub (f32.const 1) (local.get $beta2))))
    (local.set $e (f32x4.splat (local.get $eps)))
    (local.set $dk (f32x4.splat (local.get $decay)))
    (local.set $st (f32x4.splat (local.get $step)))
    (local.set $ib (f32x4.splat (local.get $bc2)))
    (local.set $end (i32.shl (local.get $quads) (i32.const 4)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $m (f32x4.add (f32x4.mul (local.get $b1) (v128.load (i32.add (local.get $m0) (local.get $o)))) (f32x4.mul (local.get $c1) (local.get $gv))))
        (local.set $v
          (f32x4.add (f32x4.mul (local.get $b2) (v128.load (i32.add (local.get $v0) (local.get $o))))
            (f32x4.mul (local.get $c2) (f32x4.mul (local.get $gv) (local.get $gv)))))
        (v128.store (i32.add (local.get $m1) (local.get $o)) (local.get $m))
        (v128.store (i32.add (local.get $v1) (local.get $o)) (local.get $v))
        (v128.store (i32.add (local.get $p1) (local.get $o))
          (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $p0) (local.get $o))) (local.get $dk))
            (f32x4.mul (local.get $st) (f32x4.div (local.get $m) (f32x4.add (f32x4.sqrt (f32x4.div (local.get $v) (local.get $ib))) (local.get $e))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $quad)))))
