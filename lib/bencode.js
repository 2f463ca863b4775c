'use strict'

const { checkInteger, checkBytes } = require('./checks.js')

// Bencode for extended(id, object): dictionary keys sorted as raw bytes, as
// BEP 3 requires; integers only.
const B_END = Buffer.from('e')
const B_DICT = Buffer.from('d')
const B_LIST = Buffer.from('l')
function bencode (value, out) {
  switch (typeof value) {
    case 'string': {
      const bytes = Buffer.from(value)
      out.push(Buffer.from(bytes.length + ':'), bytes)
      return
    }
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`bencode has integers only, got ${value}`)
      }
      out.push(Buffer.from('i' + value + 'e'))
      return
    case 'bigint':
      out.push(Buffer.from('i' + value + 'e'))
      return
    case 'boolean':
      out.push(Buffer.from(value ? 'i1e' : 'i0e'))
      return
    case 'object':
      if (value === null) break
      if (ArrayBuffer.isView(value)) {
        out.push(Buffer.from(value.byteLength + ':'), Buffer.from(value.buffer, value.byteOffset, value.byteLength))
        return
      }
      if (Array.isArray(value)) {
        out.push(B_LIST)
        for (const item of value) bencode(item, out)
        out.push(B_END)
        return
      }
      {
        const keys = Object.keys(value)
          .filter((key) => value[key] !== undefined && value[key] !== null)
          .map((key) => [Buffer.from(key), key])
          .sort((x, y) => Buffer.compare(x[0], y[0]))
        out.push(B_DICT)
        for (const [bytes, key] of keys) {
          out.push(Buffer.from(bytes.length + ':'), bytes)
          bencode(value[key], out)
        }
        out.push(B_END)
        return
      }
  }
  throw new TypeError(`cannot bencode ${value === null ? 'null' : typeof value}`)
}

// The bencoding of `value`, as one Buffer.
function encode (value) {
  const parts = []
  bencode(value, parts)
  return Buffer.concat(parts)
}

// Bencode as a peer sends it, read within bounds: at most `maxDepth` lists and
// dictionaries inside one another and `maxValues` values in all (limits
// libtorrent's bdecode has too), so neither the stack nor the heap grows
// with what a peer sends beyond them. Strict, as BEP 3 writes it: integers
// and string lengths in plain decimal (no '+', no leading zero, no '-0'),
// dictionary keys byte strings. Anything else throws (a SyntaxError for
// malformed bytes, a RangeError past a bound).
//
// Not the `bencode` package: its 2.x decode recurses without a bound, loops
// forever on a negative string length (`d1:a-3:e`) and lets a `__proto__`
// key set the dictionary's prototype; 3.x and 4.x are ES modules with the
// same decoder.
const LIMITS = Object.freeze({ maxDepth: 100, maxValues: 10000 })

// The value at the start of `bytes` (bytes after it are ignored, as
// bittorrent-protocol does). Byte strings are copied into Buffers (a kept
// value keeps no chunk alive), dictionary keys are UTF-8 strings, integers
// are numbers (exact: larger ones throw).
function decode (bytes, limits = LIMITS) {
  return next(reader(bytes, 0, limits, true))
}

// Where the value starting at `bytes[at]` ends (exclusive), read as
// `decode` reads it, without making it.
function end (bytes, at = 0, limits = LIMITS) {
  const s = reader(bytes, at, limits, false)
  next(s)
  return s.at
}

function reader (bytes, at, { maxDepth = LIMITS.maxDepth, maxValues = LIMITS.maxValues } = {}, build) {
  return { bytes, at, depth: maxDepth, values: maxValues, build }
}

const I = 0x69 // i
const L = 0x6c // l
const D = 0x64 // d
const E = 0x65 // e
const COLON = 0x3a
const MINUS = 0x2d
const ZERO = 0x30

function next (s) {
  if (--s.values < 0) throw new RangeError('bencode: too many values')
  const type = peek(s)
  if (type === I) return integer(s)
  if (type === L || type === D) {
    if (--s.depth < 0) throw new RangeError('bencode: nested too deep')
    s.at++
    const value = type === L ? list(s) : dictionary(s)
    s.at++ // the 'e'
    s.depth++
    return value
  }
  return string(s)
}

function list (s) {
  const items = s.build ? [] : null
  while (peek(s) !== E) {
    const item = next(s)
    if (items !== null) items.push(item)
  }
  return items
}

function dictionary (s) {
  const dict = s.build ? {} : null
  while (peek(s) !== E) {
    const key = string(s)
    const value = next(s)
    if (dict === null) continue
    const name = key.toString()
    // an own property, even for "__proto__"
    if (name === '__proto__') Object.defineProperty(dict, name, { value, writable: true, enumerable: true, configurable: true })
    else dict[name] = value
  }
  return dict
}

function peek (s) {
  if (s.at >= s.bytes.length) throw new SyntaxError('bencode: unexpected end')
  return s.bytes[s.at]
}

// Decimal digits from s.at up to `end` (a byte that must follow them),
// without a leading zero; returns their value.
function digits (s, end) {
  const bytes = s.bytes
  const start = s.at
  let at = start
  let value = 0
  for (; at < bytes.length && bytes[at] !== end; at++) {
    const digit = bytes[at] - ZERO
    if (digit < 0 || digit > 9) throw new SyntaxError(`bencode: unexpected byte ${bytes[at]} at ${at}`)
    value = value * 10 + digit
  }
  if (at === start || at >= bytes.length) throw new SyntaxError(`bencode: bad number at ${start}`)
  if (bytes[start] === ZERO && at > start + 1) throw new SyntaxError(`bencode: a leading zero at ${start}`)
  s.at = at + 1
  return value
}

function integer (s) {
  s.at++ // the 'i'
  const negative = s.bytes[s.at] === MINUS
  if (negative) s.at++
  const start = s.at
  const value = digits(s, E)
  if (!Number.isSafeInteger(value)) throw new RangeError('bencode: an integer past 2^53')
  if (negative && value === 0) throw new SyntaxError(`bencode: -0 at ${start}`)
  return negative ? -value : value
}

function string (s) {
  const length = digits(s, COLON)
  const start = s.at
  if (length > s.bytes.length - start) throw new SyntaxError(`bencode: a string of ${length} bytes at ${start} runs past the end`)
  s.at = start + length
  return s.build ? Buffer.from(s.bytes.subarray(start, s.at)) : s.bytes.subarray(start, s.at)
}

// What the package exports as `bencode`: the same, with the caller's
// arguments checked.
function checkedLimits (limits) {
  if (limits === undefined) return LIMITS
  if (limits === null || typeof limits !== 'object') throw new TypeError('limits must be an object')
  const { maxDepth = LIMITS.maxDepth, maxValues = LIMITS.maxValues } = limits
  checkInteger('limits.maxDepth', maxDepth, 0, 10000)
  checkInteger('limits.maxValues', maxValues, 1, Number.MAX_SAFE_INTEGER)
  return { maxDepth, maxValues }
}

const api = Object.freeze({
  encode,
  decode (bytes, limits) {
    checkBytes('bytes', bytes)
    return decode(bytes, checkedLimits(limits))
  },
  end (bytes, at = 0, limits) {
    checkBytes('bytes', bytes)
    checkInteger('at', at, 0, bytes.length)
    return end(bytes, at, checkedLimits(limits))
  }
})

module.exports = { encode, decode, end, api }
