'use strict'

// peer-wire-native: the public stream. Parsing and encoding happen in the Rust
// core (binding.js loads it); this file keeps what users see and touch: the
// Duplex, events, plain state properties, request callbacks and timers, with
// the behaviour of peer-wire-protocol 0.7.1.

const { Duplex } = require('stream')
const util = require('util')
const speedometer = require('speedometer')
const native = loadBinding()

// The engine comes from napi's generated loader (binding.js): a binary built
// here (`npm run build`), or the prebuilt one in this platform's package
// (peer-wire-native-<platform>, an optional dependency of the published
// package). When none loads, its error does not say which platform it looked
// for: this one does, and what to do (napi's error stays as the cause).
function loadBinding () {
  try {
    return require('./binding.js')
  } catch (err) {
    throw bindingError(err)
  }
}

function bindingError (cause) {
  const fs = require('fs')
  const path = require('path')
  const { platform, arch } = process
  let abi = platform === 'win32' ? 'msvc' : ''
  if (platform === 'linux') {
    try {
      abi = fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl') ? 'musl' : 'gnu'
    } catch {
      const report = process.report && process.report.getReport()
      abi = report && !report.header.glibcVersionRuntime ? 'musl' : 'gnu'
    }
  }
  const id = abi ? `${platform}-${arch}-${abi}` : `${platform}-${arch}`
  const label = (name) => name.replace(/-gnu$/, ' (glibc)').replace(/-musl$/, ' (musl)').replace(/-msvc$/, '')
  const pkg = `peer-wire-native-${id}`
  const prebuilt = Object.keys(require('./package.json').optionalDependencies || {})
    .filter((name) => name.startsWith('peer-wire-native-'))
    .map((name) => name.slice('peer-wire-native-'.length))
  let installed = true
  try {
    require.resolve(`${pkg}/package.json`)
  } catch {
    installed = false
  }
  let message
  if (fs.existsSync(path.join(__dirname, 'Cargo.toml'))) {
    message = `no native binary for ${label(id)} in this source checkout: build it with \`npm run build\` (needs a Rust toolchain)`
  } else if (!prebuilt.includes(id)) {
    message = `no prebuilt binary for ${label(id)}. ` +
      (prebuilt.length ? `There are prebuilt binaries for ${prebuilt.map(label).join(', ')}; on` : 'On') +
      ' another platform, build it from source with a Rust toolchain (see the README, "Develop")'
  } else if (!installed) {
    message = `the prebuilt binary for ${label(id)} is missing: its package, ${pkg}, is an optional dependency that was not installed. ` +
      'Install again without --omit=optional (or --no-optional); if npm still skips it, delete node_modules and ' +
      'package-lock.json first (https://github.com/npm/cli/issues/4828)'
  } else {
    // The first reason in napi's chain of attempts that is not "not found".
    let reason = ''
    for (let e = cause, depth = 0; e && depth < 20 && !reason; e = e.cause, depth++) {
      if (!/^Cannot find (module|native binding)/.test(e.message)) reason = e.message.split('\n')[0]
    }
    message = `the prebuilt binary for ${label(id)}, from ${pkg}, failed to load` + (reason ? `: ${reason}` : '')
  }
  const err = new Error(`peer-wire-native: ${message}`)
  err.code = 'ERR_PEER_WIRE_NATIVE_BINDING'
  err.cause = cause
  return err
}

// Record layout of decoderReceive, as src/binding.rs exports it.
const {
  RECORD_HEADER: HEADER,
  RECORD_STRIDE: STRIDE,
  KIND_KEEP_ALIVE,
  KIND_HANDSHAKE,
  KIND_UNKNOWN,
  KIND_ERROR,
  FLAG_BUFFERED,
  FLAG_SPLIT,
  OP_WORDS,
  OP_INLINE
} = native

// Limits on what a peer may make a wire hold: the core's defaults, each
// overridable in the factory options.
const DEFAULTS = {
  maxFrameLength: native.DEFAULT_MAX_FRAME_LENGTH, // libtorrent's bound on one message
  maxPeerRequests: native.DEFAULT_MAX_PEER_REQUESTS, // libtorrent's max_allowed_in_request_queue
  maxBlockLength: native.DEFAULT_MAX_BLOCK_LENGTH
}
const CAPACITY = 256
const U32 = 0xffffffff

// Record arrays are lent per call. Dispatch can nest (a handler on one wire
// writes synchronously into another), so they come from a pool, not a global.
// `bytes` is the same memory as `words`, the form the native side fills.
const recordPool = []
function takeRecords () {
  const records = recordPool.pop()
  if (records) return records
  const words = new Uint32Array(HEADER + CAPACITY * STRIDE)
  return { words, bytes: Buffer.from(words.buffer, words.byteOffset, words.byteLength) }
}

// Outgoing messages are queued per wire as ops (kind and three numbers) and
// encoded together, in one native call, at the end of the tick, when the
// reader asks for data (`_read`, `read()`), or when the queue is full; order
// is kept. The handshake, and bitfield and extended messages of up to
// INLINE_MAX bytes, are queued whole, their bytes copied in. A block, or a
// larger payload, is not copied: its header is queued, the queue flushed,
// and the payload pushed as the caller's buffer, at once, as 0.7.1 does.
const OPS_INITIAL = 4 // 64 bytes: V8 keeps a typed array this small on its heap
const INLINE_MAX = 1024
const OPS_MAX = 4096 // ops in one flush: at most 68 KiB of messages
const dirty = [] // wires with queued ops
let flushScheduled = false
function flushDirty () {
  flushScheduled = false
  // wires that queue more while these push wait for the next tick
  const wires = dirty.splice(0, dirty.length)
  for (let i = 0; i < wires.length; i++) wires[i]._flush()
}

// Encoded messages are written into a slab and pushed as subarrays of it
// (no allocation per flush). A region once handed out is never written
// again: a slab without room is replaced.
const SLAB_SIZE = 65536
const HANDSHAKE_BYTES = 68
const MAX_OP_BYTES = 17 // request and cancel
let slab = Buffer.allocUnsafe(SLAB_SIZE)
let slabAt = 0
function reserve (bytes) {
  if (slab.length - slabAt < bytes) {
    slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, bytes))
    slabAt = 0
  }
}
function cut (end) {
  const out = slab.subarray(slabAt, end)
  slabAt = end
  return out
}
function encodeOps (ops, count, payloads, payloadBytes) {
  reserve(count * MAX_OP_BYTES + payloadBytes)
  return cut(native.encodeOps(slab, slabAt, ops, count, payloads))
}

const noop = function () {}

// Argument checks: bad input from the caller is a synchronous TypeError or
// RangeError, never a value silently wrapped into 32 bits.
function checkInteger (name, value, min, max) {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${typeof value}`)
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
}
function checkUint (name, value, max) {
  checkInteger(name, value, 0, max)
}
function isBytes (value) {
  return value instanceof Uint8Array
}
function checkBytes (name, value) {
  if (!isBytes(value)) {
    throw new TypeError(`${name} must be a Buffer or Uint8Array, got ${util.inspect(value, { depth: 0 })}`)
  }
}

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

// The limits the options ask for (checked), the defaults where they are
// silent.
function readLimits (opts) {
  const limit = (name, min, max) => {
    const value = opts[name]
    if (value === undefined) return DEFAULTS[name]
    checkInteger(`opts.${name}`, value, min, max)
    return value
  }
  return {
    maxFrameLength: limit('maxFrameLength', 1, U32),
    maxPeerRequests: limit('maxPeerRequests', 0, Number.MAX_SAFE_INTEGER),
    maxBlockLength: limit('maxBlockLength', 1, U32)
  }
}

// The peer's pieces, one bit each (most significant bit first, as a
// bitfield message carries them), in a Uint8Array grown by doubling. Indexes
// read as 0.7.1's array does: true or false where a bitfield covered them,
// true where a have set them, undefined elsewhere. Only indexes below the
// largest bitfield a frame can carry (8 * (maxFrameLength - 1)) are kept: a
// have beyond that is still emitted, but would cost memory for nothing.
function PieceBits (maxPieces) {
  this.bytes = EMPTY
  this.covered = 0 // indexes below this were set by a bitfield
  this.length = 0 // 0.7.1's array length: one past the highest index set
  this.max = maxPieces
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

function pull (requests, piece, offset, length) {
  for (let i = 0; i < requests.length; i++) {
    const req = requests[i]
    if (req.piece !== piece || req.offset !== offset || req.length !== length) continue
    if (i === 0) requests.shift()
    else requests.splice(i, 1)
    return req
  }
  return null
}

function Request (piece, offset, length, callback) {
  this.piece = piece
  this.offset = offset
  this.length = length
  this.callback = callback
  this.timeout = null
}

function onfinish () {
  this._flush()
  this._finished = true
  this.push(null) // cannot be half open
  clearInterval(this._keepAlive)
  this._parsing = false
  this.peerRequests.length = 0
  while (this.requests.length) this._fail(this.requests.shift(), 'wire is closed')
}

function Wire (opts) {
  if (!(this instanceof Wire)) return new Wire(opts)
  const limits = opts ? readLimits(opts) : DEFAULTS
  const speed = opts ? opts.speed : undefined
  const maxFrameLength = limits.maxFrameLength
  Duplex.call(this)

  this.amChoking = true
  this.amInterested = false
  this.peerChoking = true
  this.peerInterested = false
  this._pieces = new PieceBits(Math.min(8 * (maxFrameLength - 1), U32))
  this.peerPieces = peerPieces(this._pieces)
  this.peerExtensions = {}
  this.peerAddress = null // external

  this.uploaded = 0
  this.downloaded = 0

  this.uploadSpeed = speedometer(speed)
  this.downloadSpeed = speedometer(speed)

  this.requests = []
  this.peerRequests = []
  this.droppedRequests = 0 // peer requests over the limits, never emitted
  this.protocolError = null // why the peer's bytes were rejected, if they were

  this._maxFrameLength = maxFrameLength // fixed: the decoder was made with it
  this.maxPeerRequests = limits.maxPeerRequests
  this.maxBlockLength = limits.maxBlockLength

  this._keepAlive = null
  this._ops = null // queued messages, see _queue
  this._inlineBuf = null // their inline payloads, one after another
  this._inlineUsed = 0
  this._payloadBytes = 0 // what the inline payloads add to the encoding
  this._dests = NO_DESTS // piped-to sockets, see pipe
  this._batching = false // corking them, see _write and pause
  this._pauseAfterBatch = false
  this._opCount = 0
  this._finished = false
  this._closed = false
  this._parsing = true
  this._timeout = 0
  this._decoder = native.decoderNew(maxFrameLength)
  // A piece whose block is arriving over several chunks (see _fill).
  this._blockLength = -1 // -1: none
  this._blockPiece = 0
  this._blockOffset = 0
  this._block = null // allocated once the block needs more than one chunk
  this._blockFilled = 0

  this._ontimeout = null // made by the first _updateTimeout that arms a timer

  this.on('finish', onfinish)
}

util.inherits(Wire, Duplex)

const NO_DESTS = Object.freeze([])

Object.defineProperty(Wire.prototype, 'maxFrameLength', {
  get () { return this._maxFrameLength },
  enumerable: true
})

// outbound

Wire.prototype.handshake = function (infoHash, peerId, extensions) {
  if (typeof infoHash === 'string') infoHash = Buffer.from(infoHash, 'hex')
  if (typeof peerId === 'string') peerId = Buffer.from(peerId)
  checkBytes('infoHash', infoHash)
  checkBytes('peerId', peerId)
  // 0.7.1's message, as a RangeError (still an Error).
  if (infoHash.length !== 20 || peerId.length !== 20) throw new RangeError('infoHash and peerId MUST have length 20')
  if (this._finished) return
  this._queue(KIND_HANDSHAKE, extensions && extensions.dht ? 1 : 0, 0, 0)
  this._inline(infoHash, 0)
  this._inline(peerId, HANDSHAKE_BYTES)
}

Wire.prototype.choke = function () {
  if (this.amChoking) return
  this.amChoking = true
  this.peerRequests.length = 0
  this._queue(0, 0, 0, 0)
}

Wire.prototype.unchoke = function () {
  if (!this.amChoking) return
  this.amChoking = false
  this._queue(1, 0, 0, 0)
}

Wire.prototype.interested = function () {
  if (this.amInterested) return
  this.amInterested = true
  this._queue(2, 0, 0, 0)
}

Wire.prototype.uninterested = function () {
  if (!this.amInterested) return
  this.amInterested = false
  this._queue(3, 0, 0, 0)
}

Wire.prototype.have = function (i) {
  checkUint('index', i, U32)
  this._queue(4, i, 0, 0)
}

Wire.prototype.bitfield = function (bitfield) {
  // A Buffer is sent as is; an object holding one (e.g. a `bitfield`
  // instance) by its `.buffer`.
  const bytes = isBytes(bitfield) ? bitfield : bitfield && bitfield.buffer
  checkBytes('bitfield', bytes)
  this._send(5, 0, 0, bytes)
}

Wire.prototype.request = function (i, offset, length, callback) {
  checkUint('index', i, U32)
  checkUint('offset', offset, U32)
  checkUint('length', length, U32)
  if (callback != null && typeof callback !== 'function') throw new TypeError('callback must be a function')
  if (!callback) callback = noop
  if (this._finished) return callback === noop ? undefined : callback(new Error('wire is closed'))
  if (this.peerChoking) return callback === noop ? undefined : callback(new Error('peer is choking'))
  this.requests.push(new Request(i, offset, length, callback))
  this._updateTimeout()
  this._queue(6, i, offset, length)
}

Wire.prototype.piece = function (i, offset, buffer) {
  checkUint('index', i, U32)
  checkUint('offset', offset, U32)
  checkBytes('block', buffer)
  this.uploaded += buffer.length
  this.uploadSpeed(buffer.length)
  this.emit('upload', buffer.length)
  this._send(7, i, offset, buffer)
}

Wire.prototype.cancel = function (i, offset, length) {
  checkUint('index', i, U32)
  checkUint('offset', offset, U32)
  checkUint('length', length, U32)
  this._fail(pull(this.requests, i, offset, length), 'request was cancelled')
  this._queue(8, i, offset, length)
}

Wire.prototype.extended = function (id, msg) {
  checkUint('id', id, 255)
  let payload
  if (isBytes(msg)) {
    // Copied, as 0.7.1 does: the caller may reuse its buffer at once. A
    // small one is copied when it is queued (see _send).
    payload = msg.length > INLINE_MAX ? Buffer.from(msg) : msg
  } else {
    const parts = []
    bencode(msg, parts)
    payload = Buffer.concat(parts)
  }
  this._send(20, id, 0, payload)
}

Wire.prototype.port = function (port) {
  checkUint('port', port, 0xffff)
  this._queue(9, port, 0, 0)
}

Wire.prototype.setKeepAlive = function (bool) {
  clearInterval(this._keepAlive)
  if (bool === false) return
  this._keepAlive = setInterval(this._queue.bind(this, KIND_KEEP_ALIVE, 0, 0, 0), 60000)
}

Wire.prototype.setTimeout = function (ms, fn) {
  if (this.requests.length) clearTimeout(this.requests[0].timeout)
  this._timeout = ms
  this._updateTimeout()
  if (fn) this.on('timeout', fn)
}

// Stops parsing at once (no further events from the chunk being read), emits
// 'close' (the reference's behaviour), then ends the stream. Node's
// autoDestroy calls destroy() again after 'end' and 'finish': that second
// call must not emit 'close' again.
Wire.prototype.destroy = function () {
  this._parsing = false
  if (!this._closed) {
    this._closed = true
    this.emit('close')
  }
  this.end()
}

// inbound

Wire.prototype._onhandshake = function (infoHash, peerId, extensions) {
  this.peerExtensions = extensions
  this.emit('handshake', infoHash, peerId, extensions)
}

Wire.prototype._oninterested = function () {
  this.peerInterested = true
  this.emit('interested')
}

Wire.prototype._onuninterested = function () {
  this.peerInterested = false
  this.emit('uninterested')
}

Wire.prototype._onchoke = function () {
  this.peerChoking = true
  this.emit('choke')
  while (this.requests.length) this._fail(this.requests.shift(), 'peer is choking')
}

Wire.prototype._onunchoke = function () {
  this.peerChoking = false
  this.emit('unchoke')
}

Wire.prototype._onbitfield = function (buffer) {
  this._pieces.setBitfield(buffer)
  this.emit('bitfield', buffer)
}

Wire.prototype._onhave = function (i) {
  this._pieces.set(i, true)
  this.emit('have', i)
}

Wire.prototype._onrequest = function (i, offset, length) {
  if (this.amChoking) return
  if (length === 0 || length > this.maxBlockLength || this.peerRequests.length >= this.maxPeerRequests) {
    this.droppedRequests++
    return
  }

  const self = this
  const respond = function (err, buffer) {
    if (request !== pull(self.peerRequests, i, offset, length)) return
    if (err) return
    self.piece(i, offset, buffer)
  }
  const request = new Request(i, offset, length, respond)
  this.peerRequests.push(request)
  this.emit('request', i, offset, length, respond)
}

Wire.prototype._oncancel = function (i, offset, length) {
  pull(this.peerRequests, i, offset, length)
  this.emit('cancel', i, offset, length)
}

Wire.prototype._onpiece = function (i, offset, buffer) {
  this._callback(pull(this.requests, i, offset, buffer.length), null, buffer)
  this.downloaded += buffer.length
  this.downloadSpeed(buffer.length)
  this.emit('download', buffer.length)
  this.emit('piece', i, offset, buffer)
}

Wire.prototype._onport = function (port) {
  this.emit('port', port)
}

Wire.prototype._onextended = function (id, ext) {
  this.emit('extended', id, ext)
}

// A peer broke the protocol: stop reading, tell whoever listens, and end
// the wire in order (pending request callbacks get 'wire is closed').
Wire.prototype._onprotocolerror = function (err) {
  this._parsing = false
  this.protocolError = err
  if (this.listenerCount('error') > 0) this.emit('error', err)
  this.destroy()
}

// Hands one decoded record to its handler. `source` is the chunk, or the
// decoder's gathered bytes for a record flagged FLAG_BUFFERED.
Wire.prototype._dispatch = function (words, at, chunk, gathered) {
  const kind = words[at]
  const source = kind & FLAG_BUFFERED ? gathered : chunk
  const a = words[at + 1]
  const b = words[at + 2]
  const c = words[at + 3]
  switch (kind & 0xff) {
    case 0: return this._onchoke()
    case 1: return this._onunchoke()
    case 2: return this._oninterested()
    case 3: return this._onuninterested()
    case 4: return this._onhave(a)
    case 5: return this._onbitfield(source.subarray(c, c + words[at + 4]))
    case 6: return this._onrequest(a, b, c)
    case 7:
      if (kind & FLAG_SPLIT) return this._startBlock(a, b, c, chunk)
      return this._onpiece(a, b, source.subarray(c, c + words[at + 4]))
    case 8: return this._oncancel(a, b, c)
    case 9: return this._onport(a)
    case 20: return this._onextended(a, source.subarray(c, c + words[at + 4]))
    case KIND_KEEP_ALIVE: return this.emit('keep-alive')
    case KIND_HANDSHAKE:
      return this._onhandshake(source.subarray(c, c + 20), source.subarray(c + 20, c + 40), {
        dht: a === 1,
        extended: b === 1
      })
    case KIND_UNKNOWN: return this.emit('unknownmessage', source.subarray(c, c + words[at + 4]))
    case KIND_ERROR: {
      const info = native.decoderTakeError(this._decoder)
      const err = new Error(info.message)
      err.code = info.code
      return this._onprotocolerror(err)
    }
  }
}

// helpers and streams

Wire.prototype._callback = function (request, err, buffer) {
  if (!request) return
  if (request.timeout) clearTimeout(request.timeout)
  if (!this.peerChoking && !this._finished) this._updateTimeout()
  request.callback(err, buffer)
}

// Fails a request with Error(message). A request made without a callback
// (so with noop) gets no Error: capturing its stack costs a microsecond,
// and nobody could see it.
Wire.prototype._fail = function (request, message) {
  if (!request) return
  this._callback(request, request.callback === noop ? null : new Error(message), null)
}

Wire.prototype._updateTimeout = function () {
  if (!this._timeout || !this.requests.length || this.requests[0].timeout) return
  if (this._ontimeout === null) {
    const self = this
    this._ontimeout = function () {
      self._fail(self.requests.shift(), 'request has timed out')
      self.emit('timeout')
    }
  }
  this.requests[0].timeout = setTimeout(this._ontimeout, this._timeout)
}

Wire.prototype._queue = function (kind, a, b, c) {
  if (this._finished) return
  let ops = this._ops
  let n = this._opCount
  if (n === 0) {
    dirty.push(this)
    if (!flushScheduled) {
      flushScheduled = true
      process.nextTick(flushDirty)
    }
  }
  if (ops === null) {
    ops = this._ops = new Uint32Array(OPS_INITIAL * OP_WORDS)
  } else if (n * OP_WORDS === ops.length) {
    if (n < OPS_MAX) {
      ops = new Uint32Array(2 * ops.length)
      ops.set(this._ops)
      this._ops = ops
    } else {
      this._flush()
      n = 0
      dirty.push(this)
    }
  }
  const at = n * OP_WORDS
  ops[at] = kind
  ops[at + 1] = a
  ops[at + 2] = b
  ops[at + 3] = c
  this._opCount = n + 1
}

// Copies the payload of the op just queued after the others (the caller may
// reuse its buffer at once); `bytes` is what it adds to the encoding.
Wire.prototype._inline = function (payload, bytes) {
  const used = this._inlineUsed
  let buf = this._inlineBuf
  if (buf === null || buf.length - used < payload.length) {
    const grown = Buffer.allocUnsafe(Math.max(256, 2 * (used + payload.length)))
    if (used !== 0) grown.set(buf.subarray(0, used))
    buf = this._inlineBuf = grown
  }
  buf.set(payload, used)
  this._inlineUsed = used + payload.length
  this._payloadBytes += bytes
}

// Pushes the queued ops, encoded (inline payloads copied in), as one chunk.
Wire.prototype._flush = function () {
  const n = this._opCount
  if (n === 0) return
  const used = this._inlineUsed
  const inline = used === 0 ? undefined : this._inlineBuf.subarray(0, used)
  const bytes = this._payloadBytes
  this._opCount = 0
  this._inlineUsed = 0
  this._payloadBytes = 0
  if (used > 4096) this._inlineBuf = null // a large one is not kept
  this.push(encodeOps(this._ops, n, inline, bytes))
}

// A message with a payload. A bitfield or extended message of up to
// INLINE_MAX bytes is queued whole (its payload copied). A block, and any
// larger payload: its header goes out with the queued ops, then the payload
// as it is, by reference, as 0.7.1 pushes it (what is sent is what the
// buffer holds when the socket reads it).
Wire.prototype._send = function (kind, a, b, payload) {
  if (payload.length > U32 - 13) {
    throw new RangeError(`a payload of ${payload.length} bytes does not fit a message (at most ${U32 - 13})`)
  }
  if (this._finished) return
  if (payload.length <= INLINE_MAX && kind !== 7) {
    this._queue(kind | OP_INLINE, a, b, payload.length)
    this._inline(payload, payload.length)
    return
  }
  this._queue(kind, a, b, payload.length)
  this._flush()
  this.push(payload)
}

// Record offsets are 32-bit: a larger write is decoded in slices.
const MAX_SLICE = 64 * 1024 * 1024

Wire.prototype._write = function (chunk, encoding, callback) {
  // The common case of a block trickling in: the chunk only continues it.
  const block = this._block
  if (block !== null && chunk.length < this._blockLength - this._blockFilled && this._parsing) {
    block.set(chunk, this._blockFilled)
    this._blockFilled += chunk.length
    return callback()
  }
  // What the handlers send in answer to this chunk (blocks, above all) goes
  // out in one write of each socket the wire is piped to: corked until the
  // chunk has been dispatched, like libtorrent's one send per read.
  const dests = this._dests
  for (let i = 0; i < dests.length; i++) dests[i].cork()
  this._batching = dests.length !== 0
  // The callback runs even when a listener throws, or the stream could
  // never finish (and pending request callbacks never fail).
  try {
    if (chunk.length <= MAX_SLICE) {
      if (this._parsing) this._receive(chunk)
    } else {
      for (let at = 0; at < chunk.length && this._parsing; at += MAX_SLICE) {
        this._receive(chunk.subarray(at, at + MAX_SLICE))
      }
    }
  } finally {
    this._batching = false
    for (let i = 0; i < dests.length; i++) dests[i].uncork()
    if (this._pauseAfterBatch) {
      this._pauseAfterBatch = false
      Duplex.prototype.pause.call(this)
    }
    callback()
  }
}

// While a chunk's answers are being corked into the sockets, a pipe's
// pause() (a socket's write() returned false: its 16 KiB high-water mark is
// one block) waits for the end of the batch, so that the batch goes out in
// one write; backpressure then holds as usual, batch by batch.
Wire.prototype.pause = function () {
  if (this._batching) {
    this._pauseAfterBatch = true
    return this
  }
  return Duplex.prototype.pause.call(this)
}

// Sockets (anything with cork/uncork but another wire) this wire is piped
// to, for the corking above.
Wire.prototype.pipe = function (dest, options) {
  if (typeof dest.cork === 'function' && typeof dest.uncork === 'function' && !(dest instanceof Wire)) {
    const self = this
    this._dests = this._dests.concat(dest)
    dest.on('unpipe', function onunpipe (source) {
      if (source !== self) return
      dest.removeListener('unpipe', onunpipe)
      self._dests = self._dests.filter((d) => d !== dest)
    })
  }
  return Duplex.prototype.pipe.call(this, dest, options)
}

// One native call per chunk (more only when a chunk holds more than CAPACITY
// messages, or after a split piece's block); the records are then
// dispatched in order, so each handler sees the state as of its own message.
Wire.prototype._receive = function (chunk) {
  const records = takeRecords()
  const words = records.words
  try {
    let from = 0
    while (from < chunk.length && this._parsing) {
      if (this._blockLength >= 0) {
        from = this._fill(chunk, from)
        continue
      }
      const gathered = native.decoderReceive(this._decoder, chunk, from, records.bytes)
      const count = words[0]
      from = words[1]
      for (let i = 0; i < count && this._parsing; i++) {
        this._dispatch(words, HEADER + i * STRIDE, chunk, gathered)
      }
    }
  } catch (err) {
    // A listener threw. The rest of the chunk is already decoded and can no
    // longer be delivered in order, so the wire ends (pending callbacks get
    // 'wire is closed'); the exception goes on to the caller, as from any
    // EventEmitter.
    this.destroy()
    throw err
  } finally {
    recordPool.push(records)
  }
}

// Blocks gathered across chunks are carved from 128 KiB slabs: allocating
// each 16 KiB block on its own costs about 700 ns here, a slice of a slab
// about 250 ns. The price: a block kept alive keeps its 128 KiB slab alive
// (8 blocks of 16 KiB). Blocks over 16 KiB get their own memory.
const BLOCK_SLAB = 128 * 1024
let blockSlab = null
let blockSlabAt = BLOCK_SLAB
function allocBlock (length) {
  if (length > BLOCK_SLAB / 8) return Buffer.allocUnsafeSlow(length)
  if (BLOCK_SLAB - blockSlabAt < length) {
    blockSlab = Buffer.allocUnsafeSlow(BLOCK_SLAB)
    blockSlabAt = 0
  }
  const block = blockSlab.subarray(blockSlabAt, blockSlabAt + length)
  blockSlabAt += length
  return block
}

// A piece whose block runs past the chunk (a FLAG_SPLIT record): the block
// is gathered here, by _fill, with no native call per chunk, and emitted
// once whole. `at` is where it starts in the chunk.
Wire.prototype._startBlock = function (piece, offset, length, chunk) {
  if (length === 0) return this._onpiece(piece, offset, chunk.subarray(0, 0))
  this._blockPiece = piece
  this._blockOffset = offset
  this._blockLength = length
  this._blockFilled = 0
}

// Takes the pending block's bytes from chunk[at..]; returns where they end.
// A block that arrives whole in one chunk is a view of it, not a copy;
// otherwise it is copied once, into the Buffer the listener receives.
Wire.prototype._fill = function (chunk, at) {
  const need = this._blockLength - this._blockFilled
  const available = chunk.length - at
  let block = this._block
  if (block === null) {
    if (available >= need) {
      this._blockLength = -1
      this._onpiece(this._blockPiece, this._blockOffset, chunk.subarray(at, at + need))
      return at + need
    }
    block = this._block = allocBlock(this._blockLength)
  }
  if (available < need) {
    block.set(at === 0 ? chunk : chunk.subarray(at), this._blockFilled)
    this._blockFilled += available
    return chunk.length
  }
  block.set(at === 0 && need === chunk.length ? chunk : chunk.subarray(at, at + need), this._blockFilled)
  this._block = null
  this._blockLength = -1
  this._onpiece(this._blockPiece, this._blockOffset, block)
  return at + need
}

// The reader wants data: what is queued goes now, not at the end of the
// tick. `read()` flushes too: after a `_read` that found nothing to push,
// Node calls `_read` again only after the next push, and a caller reading
// right after `have()` must get the message.
Wire.prototype._read = function () {
  this._flush()
}

Wire.prototype.read = function (n) {
  if (this._opCount !== 0) this._flush()
  return Duplex.prototype.read.call(this, n)
}

module.exports = Wire
