'use strict'

// A guard in front of the `bencode` packages for bytes a peer chose: they
// are decoded only once this scanner has found one well-formed value in
// them, no deeper than `maxDepth` and of at most `maxTokens` values
// (libtorrent's bdecode limits). bencode 2.0.3 and 4.0.1 hang on `d1:a-3:e`
// (a negative string length) and recurse without a limit, so they never see
// bytes this has not passed.

const MAX_DEPTH = 100
const MAX_TOKENS = 2000000

const I = 0x69
const L = 0x6c
const D = 0x64
const E = 0x65
const COLON = 0x3a
const MINUS = 0x2d

function isDigit (c) {
  return c >= 0x30 && c <= 0x39
}

// The end (exclusive) of the one bencoded value starting at `start`, or -1
// when the bytes there are not one well-formed value within the limits.
// Dictionary keys must be byte strings; integers and lengths are plain
// decimal (no '+', no leading zeros, no '-0', at most 15 digits).
function scan (buf, start = 0, { maxDepth = MAX_DEPTH, maxTokens = MAX_TOKENS } = {}) {
  let at = start
  let tokens = 0
  const stack = [] // per open container: 'l', or 'k' / 'v' for a dictionary expecting a key / a value
  do {
    if (at >= buf.length) return -1
    if (++tokens > maxTokens) return -1
    const c = buf[at]
    const top = stack[stack.length - 1]
    if (c === E) {
      if (top === undefined || top === 'v') return -1
      stack.pop()
      at++
    } else if (top === 'k' && !isDigit(c)) {
      return -1 // a dictionary key that is not a string
    } else if (c === I) {
      let p = at + 1
      if (buf[p] === MINUS) p++
      const digits = p
      while (p < buf.length && isDigit(buf[p])) p++
      const n = p - digits
      if (n === 0 || n > 15 || buf[p] !== E) return -1
      if (buf[digits] === 0x30 && (n > 1 || digits > at + 1)) return -1
      at = p + 1
    } else if (c === L || c === D) {
      if (stack.length >= maxDepth) return -1
      at++
      if (top === 'v') stack[stack.length - 1] = 'k'
      stack.push(c === L ? 'l' : 'k')
      continue
    } else if (isDigit(c)) {
      let p = at
      while (p < buf.length && isDigit(buf[p])) p++
      const n = p - at
      if (n > 15 || buf[p] !== COLON || (buf[at] === 0x30 && n > 1)) return -1
      const length = Number(buf.toString('latin1', at, p))
      at = p + 1 + length
      if (at > buf.length) return -1
    } else {
      return -1
    }
    // a value ended: a dictionary now expects its next key, or its value
    const open = stack.length - 1
    if (open >= 0 && c !== E) stack[open] = stack[open] === 'k' ? 'v' : stack[open] === 'v' ? 'k' : 'l'
    else if (open >= 0 && stack[open] === 'v') stack[open] = 'k'
  } while (stack.length > 0)
  return at
}

// Whether `buf` is exactly one well-formed bencoded value.
function wellFormed (buf, limits) {
  return scan(buf, 0, limits) === buf.length
}

module.exports = { scan, wellFormed, MAX_DEPTH, MAX_TOKENS }
