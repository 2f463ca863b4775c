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
