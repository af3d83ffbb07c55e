;; The memory-bound loops of the im2col convolution (conv3d-im2col.ts), in WebAssembly with SIMD, run on
;; the tfjs wasm backend's own memory (imported), so tensors are read and written in place. In JavaScript
;; these loops ran at about 2 GB/s and took most of a training step; here the copies are 16 bytes wide.
;; Built to columns.wasm by scripts/build-wasm.mjs (npm run build). All pointers are byte offsets; x and dx
;; point at the batch item being processed.
(module
  (import "env" "memory" (memory 1))

  ;; dst[0..n) = src[0..n) (n in bytes, a multiple of 4)
  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (block $tail
      (loop $wide
        (br_if $tail (i32.lt_u (local.get $n) (i32.const 16)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 16)))
        (br $wide)))
    (block $done
      (loop $narrow
        (br_if $done (i32.eqz (local.get $n)))
        (f32.store (local.get $dst) (f32.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))
        (br $narrow))))

  ;; dst[0..n) += src[0..n) (n in bytes, a multiple of 4)
  (func $addInto (param $dst i32) (param $src i32) (param $n i32)
    (block $tail
      (loop $wide
        (br_if $tail (i32.lt_u (local.get $n) (i32.const 16)))
        (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 16)))
        (br $wide)))
    (block $done
      (loop $narrow
        (br_if $done (i32.eqz (local.get $n)))
        (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))
        (br $narrow))))

  ;; For each of `outer` blocks of `rows` rows of n bytes (a multiple of 4) at src, dst gets the block's
  ;; column sums (n bytes): the sum over a run of middle axes, [outer, rows, n/4] -> [outer, n/4]. Summed
  ;; in row order in float32, as the stock Sum does, without its transpose.
  (func (export "sumRows") (param $dst i32) (param $src i32) (param $outer i32) (param $rows i32) (param $n i32)
    (local $r i32)
    (block $end
      (loop $block
        (br_if $end (i32.le_s (local.get $outer) (i32.const 0)))
        (memory.fill (local.get $dst) (i32.const 0) (local.get $n))
        (local.set $r (local.get $rows))
        (block $summed
          (loop $row
            (br_if $summed (i32.le_s (local.get $r) (i32.const 0)))
            (call $addInto (local.get $dst) (local.get $src) (local.get $n))
            (local.set $src (i32.add (local.get $src) (local.get $n)))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $row)))
        (local.set $dst (i32.add (local.get $dst) (local.get $n)))
        (local.set $outer (i32.sub (local.get $outer) (i32.const 1)))
        (br $block))))

  ;; rows blocks of n bytes (a multiple of 4) from src to dst, with their own strides: the inner loop of a
  ;; strided slice (see slice-plan.ts).
  (func (export "copyRows") (param $dst i32) (param $src i32) (param $rows i32) (param $n i32) (param $dstStride i32) (param $srcStride i32)
    (block $end
      (loop $row
        (br_if $end (i32.le_s (local.get $rows) (i32.const 0)))
        (call $copy (local.get $dst) (local.get $src) (local.get $n))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; One walk over the column rows of lines [l0, l1), shared by im2col and its adjoint:
  ;; mode 0 copies x into col (a row whose window leaves the input zero-filled first: interior rows are
  ;; written whole, so filling them too would double the memory traffic), mode 1 adds col back into x
  ;; (= dx). Rows are taken a line at a time: line l = od*outH + oh holds the outW rows (od, oh,
  ;; 0..outW-1); lines [l0, l1) here.
  ;; Row r, column ((kd*fh + kh)*fw + kw)*cin + ci  <->  x[od*sd - pf + kd, oh*sh - pt + kh, ow*sw - pl + kw, ci].
  (func (export "columns")
    (param $mode i32) (param $x i32) (param $col i32)
    (param $inD i32) (param $inH i32) (param $inW i32) (param $cin i32)
    (param $l0 i32) (param $l1 i32) (param $outH i32) (param $outW i32)
    (param $fd i32) (param $fh i32) (param $fw i32)
    (param $sd i32) (param $sh i32) (param $sw i32)
    (param $pf i32) (param $pt i32) (param $pl i32)
    (local $rowBytes i32) (local $row i32) (local $od i32) (local $oh i32) (local $ow i32)
    (local $iw0 i32) (local $kwLo i32) (local $kwHi i32) (local $len i32)
    (local $kd i32) (local $kh i32) (local $id i32) (local $ih i32) (local $at i32) (local $cell i32) (local $line i32)
    (local.set $rowBytes (i32.shl (i32.mul (i32.mul (i32.mul (local.get $fd) (local.get $fh)) (local.get $fw)) (local.get $cin)) (i32.const 2)))
    (local.set $row (local.get $col))
    (local.set $line (local.get $l0))
    (block $lineEnd (loop $lineLoop
      (br_if $lineEnd (i32.ge_s (local.get $line) (local.get $l1)))
      (local.set $od (i32.div_s (local.get $line) (local.get $outH)))
      (local.set $oh (i32.rem_s (local.get $line) (local.get $outH)))
        (local.set $ow (i32.const 0))
        (block $owEnd (loop $owLoop
          (br_if $owEnd (i32.ge_s (local.get $ow) (local.get $outW)))
          (local.set $iw0 (i32.sub (i32.mul (local.get $ow) (local.get $sw)) (local.get $pl)))
          (local.set $kwLo (select (i32.sub (i32.const 0) (local.get $iw0)) (i32.const 0) (i32.lt_s (local.get $iw0) (i32.const 0))))
          (local.set $kwHi (i32.sub (local.get $inW) (local.get $iw0)))
          (if (i32.gt_s (local.get $kwHi) (local.get $fw)) (then (local.set $kwHi (local.get $fw))))
          ;; mode 0: zero the row unless its whole window lies inside the input
          (if (i32.eqz (local.get $mode)) (then
            (if (i32.eqz (i32.and (i32.and (i32.eqz (local.get $kwLo)) (i32.eq (local.get $kwHi) (local.get $fw)))
                  (i32.and
                    (i32.and (i32.ge_s (i32.sub (i32.mul (local.get $od) (local.get $sd)) (local.get $pf)) (i32.const 0))
                      (i32.le_s (i32.add (i32.sub (i32.mul (local.get $od) (local.get $sd)) (local.get $pf)) (local.get $fd)) (local.get $inD)))
                    (i32.and (i32.ge_s (i32.sub (i32.mul (local.get $oh) (local.get $sh)) (local.get $pt)) (i32.const 0))
                      (i32.le_s (i32.add (i32.sub (i32.mul (local.get $oh) (local.get $sh)) (local.get $pt)) (local.get $fh)) (local.get $inH))))))
              (then (memory.fill (local.get $row) (i32.const 0) (local.get $rowBytes))))))
          (if (i32.gt_s (local.get $kwHi) (local.get $kwLo)) (then
            (local.set $len (i32.shl (i32.mul (i32.sub (local.get $kwHi) (local.get $kwLo)) (local.get $cin)) (i32.const 2)))
            (local.set $kd (i32.const 0))
            (block $kdEnd (loop $kdLoop
              (br_if $kdEnd (i32.ge_s (local.get $kd) (local.get $fd)))
              (local.set $id (i32.add (i32.sub (i32.mul (local.get $od) (local.get $sd)) (local.get $pf)) (local.get $kd)))
              ;; unsigned compare: also rejects negative indices
              (if (i32.lt_u (local.get $id) (local.get $inD)) (then
                (local.set $kh (i32.const 0))
                (block $khEnd (loop $khLoop
                  (br_if $khEnd (i32.ge_s (local.get $kh) (local.get $fh)))
                  (local.set $ih (i32.add (i32.sub (i32.mul (local.get $oh) (local.get $sh)) (local.get $pt)) (local.get $kh)))
                  (if (i32.lt_u (local.get $ih) (local.get $inH)) (then
                    (local.set $at (i32.add (local.get $x) (i32.shl (i32.mul
                      (i32.add (i32.add (i32.mul (i32.add (i32.mul (local.get $id) (local.get $inH)) (local.get $ih)) (local.get $inW)) (local.get $iw0)) (local.get $kwLo))
                      (local.get $cin)) (i32.const 2))))
                    (local.set $cell (i32.add (local.get $row) (i32.shl (i32.mul
                      (i32.add (i32.mul (i32.add (i32.mul (local.get $kd) (local.get $fh)) (local.get $kh)) (local.get $fw)) (local.get $kwLo))
                      (local.get $cin)) (i32.const 2))))
                    (if (local.get $mode)
                      (then (call $addInto (local.get $at) (local.get $cell) (local.get $len)))
                      (else (call $copy (local.get $cell) (local.get $at) (local.get $len))))))
                  (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
                  (br $khLoop)))))
              (local.set $kd (i32.add (local.get $kd) (i32.const 1)))
              (br $kdLoop)))))
          (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $owLoop)))
      (local.set $line (i32.add (local.get $line) (i32.const 1)))
      (br $lineLoop))))

  ;; The transposed column matrix colT [K, rows] for the rows of lines [l0, l1) (see im2colTransposed in
  ;; conv3d-im2col.ts): colT[k*rows + r] = x[id, ih, iw, ci] or 0 outside the input.
  (func (export "columnsTransposed")
    (param $x i32) (param $colT i32)
    (param $inD i32) (param $inH i32) (param $inW i32) (param $cin i32)
    (param $l0 i32) (param $l1 i32) (param $outH i32) (param $outW i32)
    (param $fd i32) (param $fh i32) (param $fw i32)
    (param $sd i32) (param $sh i32) (param $sw i32)
    (param $pf i32) (param $pt i32) (param $pl i32)
    (local $out i32) (local $kd i32) (local $kh i32) (local $kw i32) (local $ci i32)
    (local $od i32) (local $oh i32) (local $id i32) (local $ih i32)
    (local $owLo i32) (local $owHi i32) (local $ow i32) (local $src i32) (local $step i32) (local $line i32)
    (local.set $out (local.get $colT))
    (local.set $step (i32.shl (i32.mul (local.get $sw) (local.get $cin)) (i32.const 2)))
    (local.set $kd (i32.const 0))
    (block $kdEnd (loop $kdLoop
      (br_if $kdEnd (i32.ge_s (local.get $kd) (local.get $fd)))
      (local.set $kh (i32.const 0))
      (block $khEnd (loop $khLoop
        (br_if $khEnd (i32.ge_s (local.get $kh) (local.get $fh)))
        (local.set $kw (i32.const 0))
        (block $kwEnd (loop $kwLoop
          (br_if $kwEnd (i32.ge_s (local.get $kw) (local.get $fw)))
          ;; output columns ow with 0 <= ow*sw - pl + kw < inW
          (local.set $owLo (i32.const 0))
          (block $loEnd (loop $loLoop
            (br_if $loEnd (i32.ge_s (local.get $owLo) (local.get $outW)))
            (br_if $loEnd (i32.ge_s (i32.add (i32.sub (i32.mul (local.get $owLo) (local.get $sw)) (local.get $pl)) (local.get $kw)) (i32.const 0)))
            (local.set $owLo (i32.add (local.get $owLo) (i32.const 1)))
            (br $loLoop)))
          (local.set $owHi (local.get $owLo))
          (block $hiEnd (loop $hiLoop
            (br_if $hiEnd (i32.ge_s (local.get $owHi) (local.get $outW)))
            (br_if $hiEnd (i32.ge_s (i32.add (i32.sub (i32.mul (local.get $owHi) (local.get $sw)) (local.get $pl)) (local.get $kw)) (local.get $inW)))
            (local.set $owHi (i32.add (local.get $owHi) (i32.const 1)))
            (br $hiLoop)))
          (local.set $ci (i32.const 0))
          (block $ciEnd (loop $ciLoop
            (br_if $ciEnd (i32.ge_s (local.get $ci) (local.get $cin)))
            (local.set $line (local.get $l0))
            (block $lineEnd (loop $lineLoop
              (br_if $lineEnd (i32.ge_s (local.get $line) (local.get $l1)))
              (local.set $od (i32.div_s (local.get $line) (local.get $outH)))
              (local.set $oh (i32.rem_s (local.get $line) (local.get $outH)))
              (local.set $id (i32.add (i32.sub (i32.mul (local.get $od) (local.get $sd)) (local.get $pf)) (local.get $kd)))
                (local.set $ih (i32.add (i32.sub (i32.mul (local.get $oh) (local.get $sh)) (local.get $pt)) (local.get $kh)))
                (if (i32.and (i32.lt_u (local.get $id) (local.get $inD)) (i32.lt_u (local.get $ih) (local.get $inH)))
                  (then
                    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $owLo) (i32.const 2)))
                    (local.set $src (i32.add (local.get $x) (i32.shl (i32.add (i32.mul
                      (i32.add (i32.mul (i32.add (i32.mul (local.get $id) (local.get $inH)) (local.get $ih)) (local.get $inW))
                        (i32.add (i32.sub (i32.mul (local.get $owLo) (local.get $sw)) (local.get $pl)) (local.get $kw)))
                      (local.get $cin)) (local.get $ci)) (i32.const 2))))
                    (local.set $ow (local.get $owLo))
                    (block $owEnd (loop $owLoop
                      (br_if $owEnd (i32.ge_s (local.get $ow) (local.get $owHi)))
                      (f32.store (i32.add (local.get $out) (i32.shl (local.get $ow) (i32.const 2))) (f32.load (local.get $src)))
                      (local.set $src (i32.add (local.get $src) (local.get $step)))
                      (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
                      (br $owLoop)))
                    (memory.fill (i32.add (local.get $out) (i32.shl (local.get $owHi) (i32.const 2))) (i32.const 0)
                      (i32.shl (i32.sub (local.get $outW) (local.get $owHi)) (i32.const 2))))
                  (else (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $outW) (i32.const 2)))))
                (local.set $out (i32.add (local.get $out) (i32.shl (local.get $outW) (i32.const 2))))
              (local.set $line (i32.add (local.get $line) (i32.const 1)))
              (br $lineLoop)))
            (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
            (br $ciLoop)))
          (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
          (br $kwLoop)))
        (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
        (br $khLoop)))
      (local.set $kd (i32.add (local.get $kd) (i32.const 1)))
      (br $kdLoop))))

  ;; The same matrix for cin a multiple of 4, four channels at a time: four output voxels' 4-channel vectors
  ;; are loaded, transposed in registers (shuffles), and stored as 4-voxel runs of four colT rows.
  (func $zero4 (param $base i32) (param $rowBytes i32) (param $from i32) (param $n i32)
    (if (i32.gt_s (local.get $n) (i32.const 0)) (then
      (memory.fill (i32.add (local.get $base) (i32.shl (local.get $from) (i32.const 2))) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
      (memory.fill (i32.add (i32.add (local.get $base) (local.get $rowBytes)) (i32.shl (local.get $from) (i32.const 2))) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
      (memory.fill (i32.add (i32.add (local.get $base) (i32.shl (local.get $rowBytes) (i32.const 1))) (i32.shl (local.get $from) (i32.const 2))) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
      (memory.fill (i32.add (i32.add (local.get $base) (i32.mul (local.get $rowBytes) (i32.const 3))) (i32.shl (local.get $from) (i32.const 2))) (i32.const 0) (i32.shl (local.get $n) (i32.const 2))))))

  (func (export "columnsTransposed4")
    (param $x i32) (param $colT i32)
    (param $inD i32) (param $inH i32) (param $inW i32) (param $cin i32)
    (param $l0 i32) (param $l1 i32) (param $outH i32) (param $outW i32)
    (param $fd i32) (param $fh i32) (param $fw i32)
    (param $sd i32) (param $sh i32) (param $sw i32)
    (param $pf i32) (param $pt i32) (param $pl i32)
    (local $rowBytes i32) (local $base i32) (local $kd i32) (local $kh i32) (local $kw i32) (local $ci i32)
    (local $line i32) (local $id i32) (local $ih i32) (local $r i32)
    (local $owLo i32) (local $owHi i32) (local $ow i32) (local $src i32) (local $step i32) (local $at i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    ;; bytes of one colT row (all rows of the block)
    (local.set $rowBytes (i32.shl (i32.mul (i32.sub (local.get $l1) (local.get $l0)) (local.get $outW)) (i32.const 2)))
    (local.set $step (i32.shl (i32.mul (local.get $sw) (local.get $cin)) (i32.const 2)))
    (local.set $base (local.get $colT))
    (local.set $kd (i32.const 0))
    (block $kdEnd (loop $kdLoop
      (br_if $kdEnd (i32.ge_s (local.get $kd) (local.get $fd)))
      (local.set $kh (i32.const 0))
      (block $khEnd (loop $khLoop
        (br_if $khEnd (i32.ge_s (local.get $kh) (local.get $fh)))
        (local.set $kw (i32.const 0))
        (block $kwEnd (loop $kwLoop
          (br_if $kwEnd (i32.ge_s (local.get $kw) (local.get $fw)))
          (local.set $owLo (i32.const 0))
          (block $loEnd (loop $loLoop
            (br_if $loEnd (i32.ge_s (local.get $owLo) (local.get $outW)))
            (br_if $loEnd (i32.ge_s (i32.add (i32.sub (i32.mul (local.get $owLo) (local.get $sw)) (local.get $pl)) (local.get $kw)) (i32.const 0)))
            (local.set $owLo (i32.add (local.get $owLo) (i32.const 1)))
            (br $loLoop)))
          (local.set $owHi (local.get $owLo))
          (block $hiEnd (loop $hiLoop
            (br_if $hiEnd (i32.ge_s (local.get $owHi) (local.get $outW)))
            (br_if $hiEnd (i32.ge_s (i32.add (i32.sub (i32.mul (local.get $owHi) (local.get $sw)) (local.get $pl)) (local.get $kw)) (local.get $inW)))
            (local.set $owHi (i32.add (local.get $owHi) (i32.const 1)))
            (br $hiLoop)))
          (local.set $ci (i32.const 0))
          (block $ciEnd (loop $ciLoop
            (br_if $ciEnd (i32.ge_s (local.get $ci) (local.get $cin)))
            (local.set $line (local.get $l0))
            (local.set $r (i32.const 0))
            (block $lineEnd (loop $lineLoop
              (br_if $lineEnd (i32.ge_s (local.get $line) (local.get $l1)))
              (local.set $id (i32.add (i32.sub (i32.mul (i32.div_s (local.get $line) (local.get $outH)) (local.get $sd)) (local.get $pf)) (local.get $kd)))
              (local.set $ih (i32.add (i32.sub (i32.mul (i32.rem_s (local.get $line) (local.get $outH)) (local.get $sh)) (local.get $pt)) (local.get $kh)))
              (if (i32.and (i32.lt_u (local.get $id) (local.get $inD)) (i32.lt_u (local.get $ih) (local.get $inH)))
                (then
                  (call $zero4 (local.get $base) (local.get $rowBytes) (local.get $r) (local.get $owLo))
                  (local.set $src (i32.add (local.get $x) (i32.shl (i32.add (i32.mul
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $id) (local.get $inH)) (local.get $ih)) (local.get $inW))
                      (i32.add (i32.sub (i32.mul (local.get $owLo) (local.get $sw)) (local.get $pl)) (local.get $kw)))
                    (local.get $cin)) (local.get $ci)) (i32.const 2))))
                  (local.set $ow (local.get $owLo))
                  (block $quadEnd (loop $quadLoop
                    (br_if $quadEnd (i32.gt_s (i32.add (local.get $ow) (i32.const 4)) (local.get $owHi)))
                    (local.set $v0 (v128.load (local.get $src)))
                    (local.set $v1 (v128.load (i32.add (local.get $src) (local.get $step))))
                    (local.set $v2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $step) (i32.const 1)))))
                    (local.set $v3 (v128.load (i32.add (local.get $src) (i32.mul (local.get $step) (i32.const 3)))))
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
                    (local.set $at (i32.add (local.get $base) (i32.shl (i32.add (local.get $r) (local.get $ow)) (i32.const 2))))
                    (v128.store (local.get $at) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store (i32.add (local.get $at) (local.get $rowBytes)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store (i32.add (local.get $at) (i32.shl (local.get $rowBytes) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store (i32.add (local.get $at) (i32.mul (local.get $rowBytes) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $src (i32.add (local.get $src) (i32.shl (local.get $step) (i32.const 2))))
                    (local.set $ow (i32.add (local.get $ow) (i32.const 4)))
                    (br $quadLoop)))
                  (block $oneEnd (loop $oneLoop
                    (br_if $oneEnd (i32.ge_s (local.get $ow) (local.get $owHi)))
                    (local.set $at (i32.add (local.get $base) (i32.shl (i32.add (local.get $r) (local.get $ow)) (i32.const 2))))
                    (f32.store (local.get $at) (f32.load (local.get $src)))
                    (f32.store (i32.add (local.get $at) (local.get $rowBytes)) (f32.load offset=4 (local.get $src)))
                    (f32.store (i32.add (local.get $at) (i32.shl (local.get $rowBytes) (i32.const 1))) (f32.load offset=8 (local.get $src)))
                    (f32.store (i32.add (local.get $at) (i32.mul (local.get $rowBytes) (i32.const 3))) (f32.load offset=12 (local.get $src)))
                    (local.set $src (i32.add (local.get $src) (local.get $step)))
                    (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
                    (br $oneLoop)))
                  (call $zero4 (local.get $base) (local.get $rowBytes) (i32.add (local.get $r) (local.get $owHi)) (i32.sub (local.get $outW) (local.get $owHi))))
                (else (call $zero4 (local.get $base) (local.get $rowBytes) (local.get $r) (local.get $outW))))
              (local.set $r (i32.add (local.get $r) (local.get $outW)))
              (local.set $line (i32.add (local.get $line) (i32.const 1)))
              (br $lineLoop)))
            (local.set $base (i32.add (local.get $base) (i32.shl (local.get $rowBytes) (i32.const 2))))
            (local.set $ci (i32.add (local.get $ci) (i32.const 4)))
            (br $ciLoop)))
          (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
          (br $kwLoop)))
        (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
        (br $khLoop)))
      (local.set $kd (i32.add (local.get $kd) (i32.const 1)))
      (br $kdLoop))))

  ;; dst[b, c, r] = src[b, r, c] for b < batch, r < R, c < C (the last two axes swapped): 4x4 blocks
  ;; transposed in registers, the edges one float at a time.
  (func (export "transposeLast2") (param $dst i32) (param $src i32) (param $batch i32) (param $R i32) (param $C i32)
    (local $b i32) (local $r i32) (local $c i32) (local $s i32) (local $d i32) (local $rowB i32) (local $colB i32)
    (local $R4 i32) (local $C4 i32) (local $i i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rowB (i32.shl (local.get $C) (i32.const 2))) ;; bytes per source row
    (local.set $colB (i32.shl (local.get $R) (i32.const 2))) ;; bytes per destination row
    (local.set $R4 (i32.and (local.get $R) (i32.const -4)))
    (local.set $C4 (i32.and (local.get $C) (i32.const -4)))
    (local.set $b (i32.const 0))
    (block $bEnd (loop $bLoop
      (br_if $bEnd (i32.ge_s (local.get $b) (local.get $batch)))
      ;; full 4x4 blocks
      (local.set $r (i32.const 0))
      (block $rEnd (loop $rLoop
        (br_if $rEnd (i32.ge_s (local.get $r) (local.get $R4)))
        (local.set $c (i32.const 0))
        (block $cEnd (loop $cLoop
          (br_if $cEnd (i32.ge_s (local.get $c) (local.get $C4)))
          (local.set $s (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2))))
          (local.set $v0 (v128.load (local.get $s)))
          (local.set $v1 (v128.load (i32.add (local.get $s) (local.get $rowB))))
          (local.set $v2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $rowB) (i32.const 1)))))
          (local.set $v3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $rowB) (i32.const 3)))))
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
          (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2))))
          (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $d) (local.get $colB)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $d) (i32.shl (local.get $colB) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
          (v128.store (i32.add (local.get $d) (i32.mul (local.get $colB) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $cLoop)))
        ;; columns C4..C of these four rows
        (local.set $c (local.get $C4))
        (block $ceEnd (loop $ceLoop
          (br_if $ceEnd (i32.ge_s (local.get $c) (local.get $C)))
          (local.set $i (i32.const 0))
          (block $iEnd (loop $iLoop
            (br_if $iEnd (i32.ge_s (local.get $i) (i32.const 4)))
            (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (i32.add (local.get $r) (local.get $i))) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (i32.add (local.get $r) (local.get $i)) (local.get $C)) (local.get $c)) (i32.const 2)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $iLoop)))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br $ceLoop)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rLoop)))
      ;; rows R4..R, all columns
      (block $reEnd (loop $reLoop
        (br_if $reEnd (i32.ge_s (local.get $r) (local.get $R)))
        (local.set $c (i32.const 0))
        (block $c2End (loop $c2Loop
          (br_if $c2End (i32.ge_s (local.get $c) (local.get $C)))
          (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2)))
            (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2)))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br $c2Loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $reLoop)))
      (local.set $src (i32.add (local.get $src) (i32.mul (local.get $R) (local.get $rowB))))
      (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $R) (local.get $rowB))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))
)
