'use strict'

// A seeded PRNG for the tests that draw random inputs (not a test file
// itself): mulberry32, and the draws the generators use.

function mulberry32 (seed) {
  let a = seed >>> 0
  return function () {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

class Rng {
  constructor (seed) { this.next = mulberry32(seed) }
  int (n) { return Math.floor(this.next() * n) } // 0 <= x < n
  range (lo, hi) { return lo + this.int(hi - lo + 1) } // inclusive
  bool (p = 0.5) { return this.next() < p }
  pick (arr) { return arr[this.int(arr.length)] }
  bytes (n) {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }

  u32 () { return Math.floor(this.next() * 4294967296) }
  // interesting unsigned 32-bit values: mostly small, some edges, some random
  u32ish () {
    const r = this.next()
    if (r < 0.5) return this.int(64)
    if (r < 0.7) return this.int(1 << 20)
    if (r < 0.85) return this.pick([0, 1, 255, 256, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff])
    return this.u32()
  }

  weighted (table) { // table: [[weight, value], ...]
    let total = 0
    for (const [w] of table) total += w
    let r = this.next() * total
    for (const [w, v] of table) {
      if ((r -= w) < 0) return v
    }
    return table[table.length - 1][1]
  }
}

module.exports = { Rng }
