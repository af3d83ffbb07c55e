;; MaxPool3D with a 2x2x2 window and stride 2 and its gradient (kernels/wasm/MaxPool3D.ts), over one batch
;; item x [D, H, W, C] (D, H, W even, C a multiple of 4), four channels at a time. Bit for bit what
;; tfjs-backend-wasm 4.22's own kernels compute: a window's running maximum starts at the smallest normal
;; float (FLT_MIN, 1.18e-38, so a window of zeros gives FLT_MIN) and takes each value >= it in (d, h, w)
;; order, so the gradient goes to the last maximal position, as 0 + dy (others get 0). Those kernels walk
;; one channel at a time and took about 5 ms of a one-thread mini step. Built to max-pool.wasm by
;; scripts/build-wasm.mjs, run on the tfjs wasm backend's memory (imported). Pointers are byte offsets.
(module
  (import "env" "memory" (memory 1))

  ;; Byte offset of window position p (0..7, (d, h, w) order) from the window's corner: rowBytes = W*C*4,
  ;; planeBytes = H*rowBytes, cBytes = C*4.
  (func $at (param $p i32) (param $planeBytes i32) (param $rowBytes i32) (param $cBytes i32) (result i32)
    (i32.add (i32.add
      (i32.mul (i32.shr_u (local.get $p) (i32.const 2)) (local.get $planeBytes))
      (i32.mul (i32.and (i32.shr_u (local.get $p) (i32.const 1)) (i32.const 1)) (local.get $rowBytes)))
      (i32.mul (i32.and (local.get $p) (i32.const 1)) (local.get $cBytes))))

  ;; out [D/2, H/2, W/2, C] = each window's running maximum from FLT_MIN.
  (func (export "maxPool2") (param $out i32) (param $x i32) (param $D i32) (param $H i32) (param $W i32) (param $C i32)
    (local $cBytes i32) (local $rowBytes i32) (local $planeBytes i32) (local $od i32) (local $oh i32) (local $ow i32)
    (local $corner i32) (local $c i32) (local $p i32) (local $best v128) (local $v v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $W) (local.get $cBytes)))
    (local.set $planeBytes (i32.mul (local.get $H) (local.get $rowBytes)))
    (local.set $od (i32.const 0))
    (block $dEnd (loop $dLoop
      (br_if $dEnd (i32.ge_s (i32.shl (local.get $od) (i32.const 1)) (local.get $D)))
      (local.set $oh (i32.const 0))
      (block $hEnd (loop $hLoop
        (br_if $hEnd (i32.ge_s (i32.shl (local.get $oh) (i32.const 1)) (local.get $H)))
        (local.set $ow (i32.const 0))
        (block $wEnd (loop $wLoop
          (br_if $wEnd (i32.ge_s (i32.shl (local.get $ow) (i32.const 1)) (local.get $W)))
          (local.set $corner (i32.add (local.get $x) (i32.add (i32.add
            (i32.mul (i32.shl (local.get $od) (i32.const 1)) (local.get $planeBytes))
            (i32.mul (i32.shl (local.get $oh) (i32.const 1)) (local.get $rowBytes)))
            (i32.mul (i32.shl (local.get $ow) (i32.const 1)) (local.get $cBytes)))))
          (local.set $c (i32.const 0))
          (block $cEnd (loop $cLoop
            (br_if $cEnd (i32.ge_u (local.get $c) (local.get $cBytes)))
            (local.set $best (v128.const f32x4 0x1p-126 0x1p-126 0x1p-126 0x1p-126))
            (local.set $p (i32.const 0))
            (block $pEnd (loop $pLoop
              (br_if $pEnd (i32.ge_u (local.get $p) (i32.const 8)))
              (local.set $v (v128.load (i32.add (i32.add (local.get $corner) (local.get $c))
                (call $at (local.get $p) (local.get $planeBytes) (local.get $rowBytes) (local.get $cBytes)))))
              (local.set $best (v128.bitselect (local.get $v) (local.get $best) (f32x4.ge (local.get $v) (local.get $best))))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $pLoop)))
            (v128.store (local.get $out) (local.get $best))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cLoop)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $wLoop)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $hLoop)))
      (local.set $od (i32.add (local.get $od) (i32.const 1)))
      (br $dLoop))))

  ;; dx [D, H, W, C]: each window's dy, plus 0, at the last position whose value is >= the running maximum
  ;; from FLT_MIN; 0 elsewhere (and in a window where no value reaches FLT_MIN: the caller mends the one
  ;; case where tfjs sends that gradient somewhere, the tensor's first element).
  (func (export "maxPool2Grad") (param $dx i32) (param $x i32) (param $dy i32) (param $D i32) (param $H i32) (param $W i32) (param $C i32)
    (local $cBytes i32) (local $rowBytes i32) (local $planeBytes i32) (local $od i32) (local $oh i32) (local $ow i32)
    (local $corner i32) (local $off i32) (local $c i32) (local $p i32) (local $best v128) (local $pos v128) (local $v v128)
    (local $m v128) (local $g v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $W) (local.get $cBytes)))
    (local.set $planeBytes (i32.mul (local.get $H) (local.get $rowBytes)))
    (local.set $od (i32.const 0))
    (block $dEnd (loop $dLoop
      (br_if $dEnd (i32.ge_s (i32.shl (local.get $od) (i32.const 1)) (local.get $D)))
      (local.set $oh (i32.const 0))
      (block $hEnd (loop $hLoop
        (br_if $hEnd (i32.ge_s (i32.shl (local.get $oh) (i32.const 1)) (local.get $H)))
        (local.set $ow (i32.const 0))
        (block $wEnd (loop $wLoop
          (br_if $wEnd (i32.ge_s (i32.shl (local.get $ow) (i32.const 1)) (local.get $W)))
          (local.set $corner (i32.add (i32.add
            (i32.mul (i32.shl (local.get $od) (i32.const 1)) (local.get $planeBytes))
            (i32.mul (i32.shl (local.get $oh) (i32.const 1)) (local.get $rowBytes)))
            (i32.mul (i32.shl (local.get $ow) (i32.const 1)) (local.get $cBytes))))
          (local.set $c (i32.const 0))
          (block $cEnd (loop $cLoop
            (br_if $cEnd (i32.ge_u (local.get $c) (local.get $cBytes)))
            (local.set $best (v128.const f32x4 0x1p-126 0x1p-126 0x1p-126 0x1p-126))
            (local.set $pos (v128.const i32x4 -1 -1 -1 -1))
            (local.set $p (i32.const 0))
            (block $pEnd (loop $pLoop
              (br_if $pEnd (i32.ge_u (local.get $p) (i32.const 8)))
              (local.set $v (v128.load (i32.add (i32.add (i32.add (local.get $x) (local.get $corner)) (local.get $c))
                (call $at (local.get $p) (local.get $planeBytes) (local.get $rowBytes) (local.get $cBytes)))))
              (local.set $m (f32x4.ge (local.get $v) (local.get $best)))
              (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
              (local.set $pos (v128.bitselect (i32x4.splat (local.get $p)) (local.get $pos) (local.get $m)))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $pLoop)))
            (local.set $g (f32x4.add (v128.load (local.get $dy)) (v128.const f32x4 0 0 0 0)))
            (local.set $p (i32.const 0))
            (block $qEnd (loop $qLoop
              (br_if $qEnd (i32.ge_u (local.get $p) (i32.const 8)))
              (local.set $off (i32.add (i32.add (local.get $corner) (local.get $c))
                (call $at (local.get $p) (local.get $planeBytes) (local.get $rowBytes) (local.get $cBytes))))
              (v128.store (i32.add (local.get $dx) (local.get $off))
                (v128.and (local.get $g) (i32x4.eq (local.get $pos) (i32x4.splat (local.get $p)))))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $qLoop)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cLoop)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $wLoop)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $hLoop)))
      (local.set $od (i32.add (local.get $od) (i32.const 1)))
      (br $dLoop))))
)
