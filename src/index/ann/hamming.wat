;; Hamming distances between one 512-bit query code and n stored codes, for the binary scan
;; (binary-codes.ts). Compiled into hamming-wasm.ts by scripts/build-wasm.mjs.
;;
;; Why hand-written: usearch's exact search refuses bit vectors, and no maintained npm package
;; scans packed bit codes for Node 20. A scalar i64.popcnt loop compiles to the CPU's popcnt
;; instruction and ran a million codes in 2.4-3.2 ms here, faster than wasm SIMD's i8x16.popcnt.
(module
  ;; Shared, so that a second thread can scan part of the codes in place (scan-helper.ts); at most
  ;; 16,384 pages (1 GiB, some 16 million faces a group), which is the address space a shared
  ;; memory reserves up front.
  (memory (import "env" "memory") 1 16384 shared)

;; Codes are held in two planes (binary-codes.ts): the first 32 bytes of every code (dimensions
;; 0-255) back to back from $a, the last 32 bytes from $b, so that a first pass over a large
;; group reads half the bytes (filter_half, then refine).

  ;; Distance of every code (32 bytes in each plane, from $a and $b) to the query (64 bytes at
  ;; $q), written as u16 from $dist; $hist (4 x 513 u32, zeroed by the caller) counts the codes at
  ;; each distance, in four interleaved copies (entry 4d + i mod 4) that the caller adds up:
  ;; consecutive codes at the same distance would otherwise wait on each other's increment.
  (func (export "scan_full") (param $a i32) (param $b i32) (param $n i32) (param $q i32) (param $dist i32) (param $hist i32)
    (local $q0 i64) (local $q1 i64) (local $q2 i64) (local $q3 i64)
    (local $q4 i64) (local $q5 i64) (local $q6 i64) (local $q7 i64)
    (local $end i32) (local $d i32) (local $h i32)
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $q2 (i64.load offset=16 (local.get $q)))
    (local.set $q3 (i64.load offset=24 (local.get $q)))
    (local.set $q4 (i64.load offset=32 (local.get $q)))
    (local.set $q5 (i64.load offset=40 (local.get $q)))
    (local.set $q6 (i64.load offset=48 (local.get $q)))
    (local.set $q7 (i64.load offset=56 (local.get $q)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 5))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $d (i32.wrap_i64
          (i64.add
            (i64.add
              (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $a)) (local.get $q0)))
                       (i64.popcnt (i64.xor (i64.load offset=8 (local.get $a)) (local.get $q1))))
              (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $a)) (local.get $q2)))
                       (i64.popcnt (i64.xor (i64.load offset=24 (local.get $a)) (local.get $q3)))))
            (i64.add
              (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $b)) (local.get $q4)))
                       (i64.popcnt (i64.xor (i64.load offset=8 (local.get $b)) (local.get $q5))))
              (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $b)) (local.get $q6)))
                       (i64.popcnt (i64.xor (i64.load offset=24 (local.get $b)) (local.get $q7))))))))
        (i32.store16 (local.get $dist) (local.get $d))
        (local.set $h (i32.add (i32.add (local.get $hist) (i32.shl (local.get $d) (i32.const 4)))
                              (i32.and (i32.shr_u (local.get $a) (i32.const 3)) (i32.const 12))))
        (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $dist (i32.add (local.get $dist) (i32.const 2)))
        (br $next))))

  ;; As scan_full over the first plane only: the distance in dimensions 0-255 (the query's
  ;; first 32 bytes). Run over a sample of a large group to choose filter_half's cut.
  (func (export "scan_half") (param $a i32) (param $n i32) (param $q i32) (param $dist i32) (param $hist i32)
    (local $q0 i64) (local $q1 i64) (local $q2 i64) (local $q3 i64)
    (local $end i32) (local $d i32) (local $h i32)
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $q2 (i64.load offset=16 (local.get $q)))
    (local.set $q3 (i64.load offset=24 (local.get $q)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 5))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $d (i32.wrap_i64
          (i64.add
            (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $a)) (local.get $q0)))
                     (i64.popcnt (i64.xor (i64.load offset=8 (local.get $a)) (local.get $q1))))
            (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $a)) (local.get $q2)))
                     (i64.popcnt (i64.xor (i64.load offset=24 (local.get $a)) (local.get $q3)))))))
        (i32.store16 (local.get $dist) (local.get $d))
        (local.set $h (i32.add (i32.add (local.get $hist) (i32.shl (local.get $d) (i32.const 4)))
                              (i32.and (i32.shr_u (local.get $a) (i32.const 3)) (i32.const 12))))
        (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $dist (i32.add (local.get $dist) (i32.const 2)))
        (br $next))))

  ;; The first pass over a large group: the slot of every code whose distance in dimensions 0-255
  ;; (first plane from $a, the query's first 32 bytes at $q) is at most $cut is written as u32
  ;; from $out (the first $max of them) and that distance as the slot's u16 from $dist; returns
  ;; how many there were. Nothing is written for the others: without scan_half's two stores a
  ;; face, a million faces took 1.4 ms here against its 3.6.
  (func (export "filter_half") (param $a i32) (param $n i32) (param $q i32) (param $cut i32) (param $dist i32) (param $out i32) (param $max i32) (result i32)
    (local $q0 i64) (local $q1 i64) (local $q2 i64) (local $q3 i64)
    (local $i i32) (local $d i32) (local $written i32)
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $q2 (i64.load offset=16 (local.get $q)))
    (local.set $q3 (i64.load offset=24 (local.get $q)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $d (i32.wrap_i64
          (i64.add
            (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $a)) (local.get $q0)))
                     (i64.popcnt (i64.xor (i64.load offset=8 (local.get $a)) (local.get $q1))))
            (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $a)) (local.get $q2)))
                     (i64.popcnt (i64.xor (i64.load offset=24 (local.get $a)) (local.get $q3)))))))
        (if (i32.le_u (local.get $d) (local.get $cut))
          (then
            (if (i32.lt_u (local.get $written) (local.get $max))
              (then
                (i32.store (i32.add (local.get $out) (i32.shl (local.get $written) (i32.const 2))) (local.get $i))
                (i32.store16 (i32.add (local.get $dist) (i32.shl (local.get $i) (i32.const 1))) (local.get $d))))
            (local.set $written (i32.add (local.get $written) (i32.const 1)))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $written))

  ;; The second pass: for each of the $m slots listed as u32 from $slots, adds the distance in
  ;; dimensions 256-511 (the second plane from $b, the query's last 32 bytes at $q + 32) to the
  ;; slot's u16 from $dist, making it the full distance.
  (func (export "refine") (param $slots i32) (param $m i32) (param $b i32) (param $q i32) (param $dist i32)
    (local $q4 i64) (local $q5 i64) (local $q6 i64) (local $q7 i64)
    (local $end i32) (local $slot i32) (local $code i32) (local $at i32)
    (local.set $q4 (i64.load offset=32 (local.get $q)))
    (local.set $q5 (i64.load offset=40 (local.get $q)))
    (local.set $q6 (i64.load offset=48 (local.get $q)))
    (local.set $q7 (i64.load offset=56 (local.get $q)))
    (local.set $end (i32.add (local.get $slots) (i32.shl (local.get $m) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $slots) (local.get $end)))
        (local.set $slot (i32.load (local.get $slots)))
        (local.set $code (i32.add (local.get $b) (i32.shl (local.get $slot) (i32.const 5))))
        (local.set $at (i32.add (local.get $dist) (i32.shl (local.get $slot) (i32.const 1))))
        (i32.store16 (local.get $at) (i32.add (i32.load16_u (local.get $at)) (i32.wrap_i64
          (i64.add
            (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $code)) (local.get $q4)))
                     (i64.popcnt (i64.xor (i64.load offset=8 (local.get $code)) (local.get $q5))))
            (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $code)) (local.get $q6)))
                     (i64.popcnt (i64.xor (i64.load offset=24 (local.get $code)) (local.get $q7))))))))
        (local.set $slots (i32.add (local.get $slots) (i32.const 4)))
        (br $next))))

  ;; Writes (as u32 from $out) the positions of every distance below $cut, then of those equal to
  ;; $cut until $limit positions are written in all; returns how many were written.
  (func (export "collect") (param $dist i32) (param $n i32) (param $cut i32) (param $limit i32) (param $out i32) (result i32)
    (local $i i32) (local $written i32)
    (block $below_done
      (loop $below
        (br_if $below_done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.lt_u (i32.load16_u (i32.add (local.get $dist) (i32.shl (local.get $i) (i32.const 1)))) (local.get $cut))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $written) (i32.const 2))) (local.get $i))
            (local.set $written (i32.add (local.get $written) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $below)))
    (local.set $i (i32.const 0))
    (block $ties_done
      (loop $ties
        (br_if $ties_done (i32.ge_u (local.get $written) (local.get $limit)))
        (br_if $ties_done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eq (i32.load16_u (i32.add (local.get $dist) (i32.shl (local.get $i) (i32.const 1)))) (local.get $cut))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $written) (i32.const 2))) (local.get $i))
            (local.set $written (i32.add (local.get $written) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $ties)))
    (local.get $written)))
