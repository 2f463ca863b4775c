'use strict'

const util = require('util')
const { U32 } = require('./checks.js')
const { carver } = require('./slab.js')

// The peer's pieces, one bit each (most significant bit first, as a
// bitfield message carries them), in a Uint8Array grown by doubling. Indexes
// read as 0.7.1's array does: true or false where a bitfield covered them,
// true where a have set them, undefined elsewhere. Only indexes below the
// largest bitfield a frame can carry (8 * (maxFrameLength - 1)) are kept: a
// have beyond that is still emitted, but would cost memory for nothing.
//
// A program may also write the array (0.7.1's is a plain one): what the bits
// cannot say (a value other than a boolean, false past the bitfield, a
// deleted index inside it, an index past the kept ones) goes to `written`, a
// Map made at the first such write; a have or a bitfield overwrites it as it
// overwrites 0.7.1's array. The bits always hold each index's truthiness.
function PieceBits (maxFrameLength) {
  this.bytes = EMPTY
  this.covered = 0 // indexes below this were set by a bitfield
  this.length = 0 // 0.7.1's array length: one past the highest index set
  // a bitfield message's body is its id byte, then the bits
  this.max = Math.min(8 * (maxFrameLength - 1), U32)
  this.written = null // index -> value written by the program, or HOLE
  this.all = false // BEP 6 have-all, the piece count not yet known (see setAll)
}
const EMPTY = new Uint8Array(0)
const HOLE = Symbol('hole')

PieceBits.prototype.grow = function (size) {
  if (size <= this.bytes.length) return
  let next = Math.max(64, this.bytes.length * 2)
  while (next < size) next *= 2
  next = Math.min(next, Math.ceil(this.max / 8))
  const bytes = allocBits(Math.max(next, size))
  bytes.set(this.bytes)
  this.bytes = bytes
}

// Bits of up to 512 bytes (4096 pieces) are views on a shared 8 KiB slab,
// zeroed (lib/slab.js: about 250 bytes less a wire than a Uint8Array of its
// own). A slab is kept alive by any wire whose bits are in it, at most
// 8 KiB; the slice a wire outgrew is not reused.
const BITS_SLAB = 8192
const carveBits = carver(BITS_SLAB, Uint8Array)
function allocBits (size) {
  return size > BITS_SLAB / 16 ? new Uint8Array(size) : carveBits(size)
}

PieceBits.prototype.has = function (i) {
  return this.all || (i < 8 * this.bytes.length && (this.bytes[i >>> 3] & (128 >>> (i & 7))) !== 0)
}

// Whether index i is set (an own property of 0.7.1's array).
PieceBits.prototype.defined = function (i) {
  if (this.written !== null && this.written.has(i)) return this.written.get(i) !== HOLE
  return this.all || i < this.covered || this.has(i)
}

PieceBits.prototype.value = function (i) {
  if (this.written !== null && this.written.has(i)) {
    const value = this.written.get(i)
    return value === HOLE ? undefined : value
  }
  if (this.has(i)) return true
  return i < this.covered ? false : undefined
}

// The wire's write: a have (bit true). Indexes past the kept ones are dropped.
PieceBits.prototype.set = function (i, bit) {
  if (i >= this.max) return
  if (this.written !== null) this.written.delete(i)
  if (bit && this.all) return
  if (bit) {
    this.grow((i >>> 3) + 1)
    this.bytes[i >>> 3] |= 128 >>> (i & 7)
  } else {
    this.clear(i)
    if (i >= this.covered) this.remember(i, false)
  }
  if (i >= this.length) this.length = i + 1
}

// The program's write, `peerPieces[i] = value`: kept whatever it is.
PieceBits.prototype.write = function (i, value) {
  if (i < this.max && (value === true || value === false)) return this.set(i, value)
  if (i < this.max) {
    if (value) this.set(i, true)
    else this.clear(i)
  }
  this.remember(i, value)
  if (i >= this.length) this.length = i + 1
}

PieceBits.prototype.remember = function (i, value) {
  if (this.written === null) this.written = new Map()
  this.written.set(i, value)
}

// `delete peerPieces[i]`: a hole, also inside a bitfield.
PieceBits.prototype.remove = function (i) {
  this.clear(i)
  if (i < this.covered) this.remember(i, HOLE)
  else if (this.written !== null) this.written.delete(i)
}

PieceBits.prototype.clear = function (i) {
  if (i < 8 * this.bytes.length) this.bytes[i >>> 3] &= ~(128 >>> (i & 7))
}

// `peerPieces.length = length`: shortening deletes every index from length.
// After a have-all, it gives the piece count: indexes below it become true.
PieceBits.prototype.truncate = function (length) {
  if (this.all) return this.fill(length)
  if (length < this.length) {
    const bits = 8 * this.bytes.length
    for (let j = length; j < Math.min(bits, 8 * Math.ceil(length / 8)); j++) this.clear(j)
    if (length < bits) this.bytes.fill(0, Math.ceil(length / 8))
    if (this.covered > length) this.covered = length
    if (this.written !== null) {
      for (const j of this.written.keys()) if (j >= length) this.written.delete(j)
    }
  }
  this.length = length
}

// BEP 6 have-all: every index reads true (`get(i)`, `peerPieces[i]`, `i in
// peerPieces`), while the piece count is unknown (`length` 0, no index
// listed), until the program sets `peerPieces.length` to it, which makes
// indexes 0 to length - 1 true as a bitfield would. A have changes
// nothing; the program's writes are kept over it; a bitfield ends it.
PieceBits.prototype.setAll = function () {
  this.bytes = EMPTY
  this.covered = 0
  this.length = 0
  this.written = null
  this.all = true
}

// BEP 6 have-none: nothing known to be had (every index reads false by
// `get(i)`, undefined by index, as before any bitfield).
PieceBits.prototype.setNone = function () {
  this.bytes = EMPTY
  this.covered = 0
  this.length = 0
  this.written = null
  this.all = false
}

// Indexes 0 to count - 1 set, as a bitfield of count bits all ones.
PieceBits.prototype.fill = function (count) {
  this.all = false
  const bits = Math.min(count, this.max)
  const bytes = new Uint8Array(Math.ceil(bits / 8))
  bytes.fill(0xff)
  if (bits & 7) bytes[bytes.length - 1] = (0xff00 >>> (bits & 7)) & 0xff
  this.setBitfield(bytes)
  this.covered = bits
  this.length = count
}

PieceBits.prototype.setBitfield = function (buffer) {
  this.all = false
  const bits = Math.min(8 * buffer.length, this.max)
  const size = Math.ceil(bits / 8)
  this.grow(size)
  this.bytes.set(size === buffer.length ? buffer : buffer.subarray(0, size))
  if (bits > this.covered) this.covered = bits
  if (bits > this.length) this.length = bits
  if (this.written !== null) {
    for (const j of this.written.keys()) if (j < bits) this.written.delete(j)
  }
}

// The set indexes in ascending order, at most `limit` of them, as strings.
PieceBits.prototype.keys = function (limit = Infinity) {
  const keys = []
  const end = Math.min(this.length, Math.max(this.covered, 8 * this.bytes.length))
  for (let i = 0; i < end && keys.length < limit; i++) {
    if (this.defined(i)) keys.push(String(i))
  }
  if (this.written !== null && keys.length < limit) {
    const past = []
    for (const [j, value] of this.written) if (j >= end && value !== HOLE) past.push(j)
    past.sort((a, b) => a - b)
    for (let k = 0; k < past.length && keys.length < limit; k++) keys.push(String(past[k]))
  }
  return keys
}

// wire.peerPieces: 0.7.1's array of booleans, read and written by index
// (`peerPieces[i]`), with `length` and the Array methods, stored as bits.
// `peerPieces.get(i)` is the fast way to ask (no proxy trap per index).
const BITS = Symbol('peer-wire-native.pieceBits')
const TARGET = Symbol('peer-wire-native.target')
function indexOf (key) {
  if (typeof key !== 'string') return -1
  const c = key.charCodeAt(0)
  if (c < 48 || c > 57) return -1
  const i = Number(key)
  return i >>> 0 === i && i < U32 && String(i) === key ? i : -1
}
const INSPECT = util.inspect.custom
const piecesMethods = {
  get (i) {
    const bits = this[BITS]
    return bits.written === null ? bits.has(i) : !!bits.value(i)
  }
}
// `peerPieces.length = value`, as an Array takes it.
function setLength (bits, value) {
  const length = Number(value)
  if (length >>> 0 !== length) throw new RangeError('Invalid array length')
  bits.truncate(length)
}
// A descriptor an Array index can take without becoming read-only, hidden or
// fixed (those the bits cannot keep): a data property, writable, enumerable
// and configurable (each given as true, or left out for an existing index).
function plainIndex (desc, exists) {
  if ('get' in desc || 'set' in desc) return false
  for (const attribute of ['writable', 'enumerable', 'configurable']) {
    if (desc[attribute] === false || (!exists && desc[attribute] !== true)) return false
  }
  return true
}
function internal (key) {
  return key === BITS || key === INSPECT
}
// util.inspect looks at a proxy's target, so this sits on the target; it
// hands util.inspect a plain sparse Array holding what 0.7.1's would, so that
// the output is the same in every format. Only the first maxArrayLength set
// indexes can be shown.
function inspectPieces (depth, options) {
  const bits = this[BITS]
  const target = this[TARGET] || this // this: the target itself under showProxy
  const limit = typeof options.maxArrayLength === 'number' ? Math.max(0, options.maxArrayLength) : Infinity
  const copy = []
  for (const key of bits.keys(limit)) copy[key] = bits.value(Number(key))
  copy.length = bits.length
  for (const key of Reflect.ownKeys(target)) {
    if (key !== 'length' && !internal(key)) Object.defineProperty(copy, key, Reflect.getOwnPropertyDescriptor(target, key))
  }
  return copy
}
// Every trap answers from the bits for an index and for 'length', and hides
// the two symbols the target holds; other keys go to the target. Proxy
// invariants: the target's own 'length' is non-configurable and writable, so
// it is always listed and described as non-configurable, but its value may
// differ from the target's (which stays 0); the target has no index of its
// own; and it stays extensible (preventExtensions is refused), so that keys
// it holds may go unlisted.
const piecesHandler = {
  get (target, key, receiver) {
    const i = indexOf(key)
    if (i >= 0) return target[BITS].value(i)
    if (key === 'length') return target[BITS].length
    if (Object.prototype.hasOwnProperty.call(piecesMethods, key)) return piecesMethods[key]
    if (key === INSPECT) return undefined
    if (key === TARGET) return target
    return Reflect.get(target, key, receiver)
  },
  set (target, key, value, receiver) {
    const i = indexOf(key)
    if (i >= 0) {
      target[BITS].write(i, value)
      return true
    }
    if (key === 'length') {
      setLength(target[BITS], value)
      return true
    }
    if (internal(key)) return false
    return Reflect.set(target, key, value, receiver)
  },
  has (target, key) {
    const i = indexOf(key)
    if (i >= 0) return target[BITS].defined(i)
    if (internal(key)) return false
    return Reflect.has(target, key)
  },
  deleteProperty (target, key) {
    const i = indexOf(key)
    if (i >= 0) {
      target[BITS].remove(i)
      return true
    }
    if (internal(key)) return false
    return Reflect.deleteProperty(target, key)
  },
  ownKeys (target) {
    const keys = target[BITS].keys()
    keys.push('length')
    for (const key of Reflect.ownKeys(target)) {
      if (key !== 'length' && !internal(key)) keys.push(key)
    }
    return keys
  },
  getOwnPropertyDescriptor (target, key) {
    const i = indexOf(key)
    if (i >= 0) {
      const bits = target[BITS]
      if (!bits.defined(i)) return undefined
      return { value: bits.value(i), writable: true, enumerable: true, configurable: true }
    }
    if (key === 'length') return { value: target[BITS].length, writable: true, enumerable: false, configurable: false }
    if (internal(key)) return undefined
    return Reflect.getOwnPropertyDescriptor(target, key)
  },
  defineProperty (target, key, desc) {
    const i = indexOf(key)
    if (i >= 0) {
      const bits = target[BITS]
      const exists = bits.defined(i)
      if (!plainIndex(desc, exists)) return false
      bits.write(i, 'value' in desc ? desc.value : bits.value(i))
      return true
    }
    if (key === 'length') {
      if ('get' in desc || 'set' in desc || desc.configurable || desc.enumerable || desc.writable === false) return false
      if ('value' in desc) setLength(target[BITS], desc.value)
      return true
    }
    if (internal(key)) return false
    return Reflect.defineProperty(target, key, desc)
  },
  preventExtensions () {
    return false
  }
}
// The proxy's target: an Array (so that Array.isArray() holds) holding the
// bits and the inspector under symbols (measured: cheaper than an Array
// subclass or defineProperty, which matters for many wires).
function peerPieces (bits) {
  const target = []
  target[BITS] = bits
  target[INSPECT] = inspectPieces
  return new Proxy(target, piecesHandler)
}

module.exports = { PieceBits, peerPieces }
