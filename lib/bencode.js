'use strict'

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
module.exports = function encode (value) {
  const parts = []
  bencode(value, parts)
  return Buffer.concat(parts)
}

// Decodes the bencoded value at the start of `bytes` (bytes after it are
// ignored, as bittorrent-protocol does), bounded for a peer's input: at most
// `maxDepth` lists and dictionaries inside one another and `maxValues`
// values in all, so neither the stack nor the heap grows with what a peer
// sends beyond those bounds. Throws on anything malformed. Byte strings are
// copied into Buffers (a kept value keeps no chunk alive), dictionary keys
// are UTF-8 strings, integers are numbers (exact: larger ones throw).
//
// Not the `bencode` package: its 2.x decode (a dependency, CommonJS) recurses
// without a bound, loops forever on a negative string length (`d1:a-3:e`)
// and lets a `__proto__` key set the dictionary's prototype; 3.x and 4.x
// are ES modules.
function decode (bytes, maxDepth = 100, maxValues = 10000) {
  const state = { bytes, at: 0, depth: maxDepth, values: maxValues }
  return next(state)
}

const I = 0x69 // i
const L = 0x6c // l
const D = 0x64 // d
const E = 0x65 // e
const COLON = 0x3a
const MINUS = 0x2d

function next (s) {
  if (--s.values < 0) throw new RangeError('bencode: too many values')
  const type = s.bytes[s.at]
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
  const items = []
  while (peek(s) !== E) items.push(next(s))
  return items
}

function dictionary (s) {
  const dict = {}
  while (peek(s) !== E) {
    const key = string(s).toString()
    const value = next(s)
    // an own property, even for "__proto__"
    if (key === '__proto__') Object.defineProperty(dict, key, { value, writable: true, enumerable: true, configurable: true })
    else dict[key] = value
  }
  return dict
}

function peek (s) {
  if (s.at >= s.bytes.length) throw new SyntaxError('bencode: unexpected end')
  return s.bytes[s.at]
}

// Digits from s.at up to `end` (a byte that must follow them); returns their value.
function digits (s, end) {
  const bytes = s.bytes
  let at = s.at
  let value = 0
  const start = at
  for (; at < bytes.length && bytes[at] !== end; at++) {
    const digit = bytes[at] - 0x30
    if (digit < 0 || digit > 9) throw new SyntaxError(`bencode: unexpected byte ${bytes[at]} at ${at}`)
    value = value * 10 + digit
  }
  if (at === start || at >= bytes.length) throw new SyntaxError(`bencode: bad number at ${start}`)
  s.at = at + 1
  return value
}

function integer (s) {
  s.at++ // the 'i'
  const negative = s.bytes[s.at] === MINUS
  if (negative) s.at++
  const value = digits(s, E)
  if (!Number.isSafeInteger(value)) throw new RangeError('bencode: an integer past 2^53')
  return negative ? -value : value
}

function string (s) {
  const length = digits(s, COLON)
  const start = s.at
  if (length > s.bytes.length - start) throw new SyntaxError(`bencode: a string of ${length} bytes at ${start} runs past the end`)
  s.at = start + length
  return Buffer.from(s.bytes.subarray(start, s.at))
}

module.exports.decode = decode
