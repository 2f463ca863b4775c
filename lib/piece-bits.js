'use strict'

const util = require('util')
const { U32 } = require('./checks.js')

// The peer's pieces, one bit each (most significant bit first, as a
// bitfield message carries them), in a Uint8Array grown by doubling. Indexes
// read as 0.7.1's array does: true or false where a bitfield covered them,
// true where a have set them, undefined elsewhere. Only indexes below the
// largest bitfield a frame can carry (8 * (maxFrameLength - 1)) are kept: a
// have beyond that is still emitted, but would cost memory for nothing.
function PieceBits (maxFrameLength) {
  this.bytes = EMPTY
  this.covered = 0 // indexes below this were set by a bitfield
  this.length = 0 // 0.7.1's array length: one past the highest index set
  // a bitfield message's body is its id byte, then the bits
  this.max = Math.min(8 * (maxFrameLength - 1), U32)
}
const EMPTY = new Uint8Array(0)

PieceBits.prototype.grow = function (size) {
  if (size <= this.bytes.length) return
  let next = Math.max(64, this.bytes.length * 2)
  while (next < size) next *= 2
  next = Math.min(next, Math.ceil(this.max / 8))
  const bytes = new Uint8Array(Math.max(next, size))
  bytes.set(this.bytes)
  this.bytes = bytes
}

PieceBits.prototype.has = function (i) {
  return i < 8 * this.bytes.length && (this.bytes[i >>> 3] & (128 >>> (i & 7))) !== 0
}

PieceBits.prototype.value = function (i) {
  if (this.has(i)) return true
  return i < this.covered ? false : undefined
}

PieceBits.prototype.set = function (i, bit) {
  if (i >= this.max) return
  if (bit) {
    this.grow((i >>> 3) + 1)
    this.bytes[i >>> 3] |= 128 >>> (i & 7)
  } else {
    this.clear(i)
  }
  if (i >= this.length) this.length = i + 1
}

PieceBits.prototype.clear = function (i) {
  if (i < 8 * this.bytes.length) this.bytes[i >>> 3] &= ~(128 >>> (i & 7))
}

PieceBits.prototype.setBitfield = function (buffer) {
  const bits = Math.min(8 * buffer.length, this.max)
  const size = Math.ceil(bits / 8)
  this.grow(size)
  this.bytes.set(size === buffer.length ? buffer : buffer.subarray(0, size))
  if (bits > this.covered) this.covered = bits
  if (bits > this.length) this.length = bits
}

// wire.peerPieces: 0.7.1's array of booleans, read and written by index
// (`peerPieces[i]`), with `length` and the Array methods, stored as bits.
// `peerPieces.get(i)` is the fast way to ask (no proxy trap per index).
const BITS = Symbol('peer-wire-native.pieceBits')
function indexOf (key) {
  if (typeof key !== 'string') return -1
  const c = key.charCodeAt(0)
  if (c < 48 || c > 57) return -1
  const i = Number(key)
  return i <= U32 - 1 && String(i) === key ? i : -1
}
const piecesMethods = {
  get (i) {
    return this[BITS].has(i)
  }
}
// util.inspect looks at a proxy's target, so this sits on the target.
function inspectPieces (depth, options, inspect) {
  const bits = this[BITS]
  const shown = []
  for (let i = 0; i < Math.min(bits.length, 100); i++) shown.push(bits.value(i))
  if (bits.length > 100) shown.push(`... ${bits.length - 100} more`)
  return `PeerPieces(${bits.length}) ${inspect(shown, options)}`
}
const piecesHandler = {
  get (target, key, receiver) {
    const i = indexOf(key)
    if (i >= 0) return target[BITS].value(i)
    if (key === 'length') return target[BITS].length
    if (Object.prototype.hasOwnProperty.call(piecesMethods, key)) return piecesMethods[key]
    return Reflect.get(target, key, receiver)
  },
  set (target, key, value, receiver) {
    const i = indexOf(key)
    if (i >= 0) {
      target[BITS].set(i, !!value)
      return true
    }
    if (key === 'length') {
      const bits = target[BITS]
      const length = Number(value)
      if (!(length >= 0 && length <= U32)) return false
      for (let j = length; j < Math.min(bits.length, 8 * bits.bytes.length); j++) bits.set(j, false)
      bits.length = length
      if (bits.covered > length) bits.covered = length
      return true
    }
    return Reflect.set(target, key, value, receiver)
  },
  has (target, key) {
    const i = indexOf(key)
    if (i >= 0) return target[BITS].value(i) !== undefined
    return Reflect.has(target, key)
  },
  deleteProperty (target, key) {
    const i = indexOf(key)
    if (i >= 0) {
      target[BITS].clear(i)
      return true
    }
    return Reflect.deleteProperty(target, key)
  }
}
// The proxy's target: an Array (so that Array.isArray() holds) holding the
// bits and the inspector under symbols (measured: cheaper than an Array
// subclass or defineProperty, which matters for many wires).
function peerPieces (bits) {
  const target = []
  target[BITS] = bits
  target[util.inspect.custom] = inspectPieces
  return new Proxy(target, piecesHandler)
}

module.exports = { PieceBits, peerPieces }
