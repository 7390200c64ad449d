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

  ;; Distance of every code (64 bytes each, from $codes) to the query (64 bytes at $q), written as
  ;; u16 from $dist; $hist (4 × 513 u32, zeroed by the caller) counts the codes at each distance,
  ;; in four interleaved copies (entry 4d + i mod 4) that the caller adds up: consecutive codes at
  ;; the same distance would otherwise wait on each other's increment.
  (func (export "scan") (param $codes i32) (param $n i32) (param $q i32) (param $dist i32) (param $hist i32)
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
    (local.set $end (i32.add (local.get $codes) (i32.shl (local.get $n) (i32.const 6))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $codes) (local.get $end)))
        (local.set $d (i32.wrap_i64
          (i64.add
            (i64.add
              (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $codes)) (local.get $q0)))
                       (i64.popcnt (i64.xor (i64.load offset=8 (local.get $codes)) (local.get $q1))))
              (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $codes)) (local.get $q2)))
                       (i64.popcnt (i64.xor (i64.load offset=24 (local.get $codes)) (local.get $q3)))))
            (i64.add
              (i64.add (i64.popcnt (i64.xor (i64.load offset=32 (local.get $codes)) (local.get $q4)))
                       (i64.popcnt (i64.xor (i64.load offset=40 (local.get $codes)) (local.get $q5))))
              (i64.add (i64.popcnt (i64.xor (i64.load offset=48 (local.get $codes)) (local.get $q6)))
                       (i64.popcnt (i64.xor (i64.load offset=56 (local.get $codes)) (local.get $q7))))))))
        (i32.store16 (local.get $dist) (local.get $d))
        (local.set $h (i32.add (i32.add (local.get $hist) (i32.shl (local.get $d) (i32.const 4)))
                              (i32.and (i32.shr_u (local.get $codes) (i32.const 4)) (i32.const 12))))
        (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1)))
        (local.set $codes (i32.add (local.get $codes) (i32.const 64)))
        (local.set $dist (i32.add (local.get $dist) (i32.const 2)))
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
