'use strict'

// Bytes out. A wire's outgoing messages are queued as ops (a kind and three
// numbers, see src/batch.rs) and encoded together, in one native call, at
// the end of the event loop's turn (setImmediate: after the I/O callbacks of
// the turn, so that what every wire sends in answer to all the chunks read
// in one turn goes out in one write each), when the reader asks for data, or
// when the queue is full; order is kept. The handshake, and bitfield and
// extended messages of up to INLINE_MAX bytes, are queued whole, their bytes
// copied in. A block, or a larger payload, is not copied: its header is
// queued, the queue flushed, and the payload pushed as the caller's buffer,
// at once, as 0.7.1 does (what is sent is what the buffer holds when the
// socket reads it; a caller that reuses it right away finds it already
// taken, as with 0.7.1), but while the wire hands on a chunk of the peer's
// messages (`gather`): then the answers to the chunk's requests are queued
// until the chunk is done, or until GATHER_MAX bytes of them are, and go
// out together, their headers encoded in one native call (measured here:
// bulk in memory, 1 GiB, 9 alternating runs, 119 against 138 ms median).
// Encrypted, the block is copied once, right after its header, and both go
// as one chunk (RC4 never modifies the caller's buffer).
// A flush pushes its messages whole and in order even when a push runs a
// reader's handler that sends on this wire (a flowing stream emits 'data'
// inside push): what that handler sends goes after them, never between a
// block's header and its bytes.

const native = require('./native.js')
const { carver } = require('./slab.js')

const { KIND_HANDSHAKE, HANDSHAKE_LENGTH, ID_PIECE, OP_WORDS, OP_INLINE, MAX_OP_LENGTH, MAX_PAYLOAD_LENGTH } = native

const OPS_INITIAL = 8 // a handshake, a bitfield and a few haves, in 128 bytes
const OPS_MAX = 4096 // ops in one flush: at most 68 KiB of messages
const INLINE_MAX = 1024
// The payloads a wire queues while it gathers, in bytes, before they go
// anyway: what the wire holds back from its reader, and from the check
// that stops it handing on the peer's messages when the reader is behind
// (see lib/stream.js), is at most this and one block.
const GATHER_MAX = 256 * 1024

// Senders with queued ops, flushed together at the end of the event loop's
// turn. Not at the end of the tick (process.nextTick): over TCP that is
// after each socket read, and a leecher's requests for the blocks of one
// read went out as a write of their own (about 4 requests for a 64 KiB
// read), the seed answering each such write with a write of its own;
// gathered over the turn, they go out together. Measured here over
// loopback TCP (1 GiB, 32 requests outstanding, 6 alternating runs): 449
// against 510 ms median; in memory, the `have` storm and the mix equal.
const dirty = []
let flushScheduled = false
function flushDirty () {
  flushScheduled = false
  // senders that queue more while these push wait for the next turn
  const senders = dirty.splice(0, dirty.length)
  for (let i = 0; i < senders.length; i++) senders[i].flush()
}

// A wire holds an ops array of the first size only while it has ops
// queued: a flush hands it to a pool the next queue takes from (a wire in
// bulk takes and returns the same array for every block). These are views
// on shared 8 KiB slabs: one of its own, even of 64 bytes (which V8 keeps
// on its heap), becomes a backing store of its own once the native encoder
// reads it, about 400 bytes of memory and work for the collector. A larger
// array, grown by a wire that queued more in a turn, stays with the wire
// while its flushes fill a quarter of it (a wire that queues as much every
// turn, or a storm of haves flushed every OPS_MAX), and is dropped at the
// first flush that does not.
const OPS_WORDS = OPS_INITIAL * OP_WORDS
const POOL_MAX = 64
const carveOps = carver(8192, Uint32Array)
const opsPool = []
function takeOps () {
  return opsPool.length !== 0 ? opsPool.pop() : carveOps(OPS_WORDS)
}

// Inline payloads wait for their flush in a region of a shared 16 KiB
// staging slab, a plain Uint8Array view: cheaper to make than a Buffer from
// Node's pool (a Buffer is a Uint8Array subclass), and no Node pool slice is
// pinned. A region is the wire's until its flush, and never handed out again.
const STAGING_SLAB = 16384
const carveStaging = carver(STAGING_SLAB, Uint8Array)
function stagingRegion (size) {
  return size > STAGING_SLAB / 8 ? new Uint8Array(size) : carveStaging(size)
}

// Encoded messages are written into a slab and pushed as subarrays of it
// (no allocation per flush). A region once handed out is never written
// again: a slab without room is replaced.
const SLAB_SIZE = 65536
let slab = Buffer.allocUnsafe(SLAB_SIZE)
let slabAt = 0
// With MSE's `encryptor` (lib/mse.js), encrypted in place in the same call,
// and `tail` (a block the caller owns) copied in after the ops and
// encrypted with them: the copy RC4 needs anyway, made where the header
// is, so that the block goes with it as one chunk.
function encode (ops, count, inline, inlineBytes, encryptor, tail) {
  const bytes = count * MAX_OP_LENGTH + inlineBytes + (tail === undefined ? 0 : tail.length)
  if (slab.length - slabAt < bytes) {
    slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, bytes))
    slabAt = 0
  }
  const end = encryptor === null
    ? native.encodeOps(slab, slabAt, ops, count, inline)
    : native.encodeOpsEncrypted(encryptor, slab, slabAt, ops, count, inline, tail)
  const out = slab.subarray(slabAt, end)
  slabAt = end
  return out
}

// The same for a queue with payloads the caller owns: the end offset of
// each one's header goes into `ends`; returns the start.
let ends = new Uint32Array(64)
let endsBytes = Buffer.from(ends.buffer)
function encodeCut (ops, count, inline, inlineBytes, payloads) {
  const bytes = count * MAX_OP_LENGTH + inlineBytes
  if (slab.length - slabAt < bytes) {
    slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, bytes))
    slabAt = 0
  }
  if (ends.length < payloads) {
    ends = new Uint32Array(2 * payloads)
    endsBytes = Buffer.from(ends.buffer)
  }
  const start = slabAt
  slabAt = native.encodeOpsCut(slab, slabAt, ops, count, inline, endsBytes)
  return start
}

// A payload the caller owns, encrypted into a copy: the caller's buffer is
// never modified.
function encrypted (encryptor, payload) {
  const copy = Buffer.allocUnsafe(payload.length)
  copy.set(payload)
  native.encryptorApply(encryptor, copy)
  return copy
}

class Sender {
  // `stream` is the readable side the encoded bytes are pushed to.
  constructor (stream) {
    this.stream = stream
    this.ops = null
    this.count = 0
    this.inlineBuf = null // inline payloads, one after another
    this.inlineUsed = 0
    this.inlineBytes = 0 // what the inline payloads add to the encoding
    this.closed = false
    // The queued headers' payloads, in order: the first, and the others
    // (only a reader's handler queues more while a flush pushes).
    this.payload = null
    this.payloads = null
    this.payloadBytes = 0 // theirs, queued
    this.lastCut = 0 // the queue's length after the last header whose payload follows it
    this.pushing = false // a flush is pushing (see the top of this file)
    this.gathering = false // see gather
    this.held = false // a message that goes at once waits for `release`
    this.encryptor = null // MSE's encrypt stream, once RC4 is agreed (lib/mse.js)
  }

  // From now until `release`, a message with a payload the caller owns is
  // queued, not flushed at once, until GATHER_MAX bytes of payloads are
  // (see the top of this file).
  gather () {
    this.gathering = true
  }

  release () {
    this.gathering = false
    if (this.held) this.flush()
  }

  // Queues a message without payload (or a header, see `send`). `now`: the
  // caller flushes at once (or a flush under way takes it), so no flush at
  // the end of the turn is needed for it.
  queue (kind, a, b, c, now) {
    if (this.closed) return
    let ops = this.ops
    let n = this.count
    if (n === 0 && now !== true) {
      dirty.push(this)
      if (!flushScheduled) {
        flushScheduled = true
        setImmediate(flushDirty)
      }
    }
    if (ops === null) {
      ops = this.ops = takeOps()
    } else if (n * OP_WORDS === ops.length) {
      if (n >= OPS_MAX && !this.pushing) {
        this.flush() // full, so kept, unless a reader's handler queued more meanwhile
        n = 0
        ops = this.ops
        if (ops === null) ops = this.ops = takeOps()
        if (now !== true) dirty.push(this)
      } else {
        ops = new Uint32Array(2 * ops.length)
        ops.set(this.ops)
        this.ops = ops
      }
    }
    const at = n * OP_WORDS
    ops[at] = kind
    ops[at + 1] = a
    ops[at + 2] = b
    ops[at + 3] = c
    this.count = n + 1
  }

  // Copies the payload of the op just queued after the others (the caller
  // may reuse its buffer at once); `bytes` is what it adds to the encoding.
  inline (payload, bytes) {
    const used = this.inlineUsed
    let buf = this.inlineBuf
    if (buf === null || buf.length - used < payload.length) {
      const grown = stagingRegion(Math.max(256, 2 * (used + payload.length)))
      if (used !== 0) grown.set(buf.subarray(0, used))
      buf = this.inlineBuf = grown
    }
    buf.set(payload, used)
    this.inlineUsed = used + payload.length
    this.inlineBytes += bytes
  }

  // `flags`: HANDSHAKE_DHT, HANDSHAKE_FAST (see src/batch.rs).
  handshake (infoHash, peerId, flags) {
    if (this.closed) return
    this.queue(KIND_HANDSHAKE, flags, 0, 0)
    this.inline(infoHash, 0)
    this.inline(peerId, HANDSHAKE_LENGTH)
  }

  // A message with a payload (see the top of this file).
  send (kind, a, b, payload) {
    if (payload.length > MAX_PAYLOAD_LENGTH) {
      throw new RangeError(`a payload of ${payload.length} bytes does not fit a message (at most ${MAX_PAYLOAD_LENGTH})`)
    }
    if (this.closed) return
    if (payload.length <= INLINE_MAX && kind !== ID_PIECE) {
      this.queue(kind | OP_INLINE, a, b, payload.length)
      this.inline(payload, payload.length)
      return
    }
    this.queue(kind, a, b, payload.length, true)
    if (payload.length !== 0) { // an empty one: its header is the whole message
      if (this.payload === null) this.payload = payload
      else if (this.payloads === null) this.payloads = [payload]
      else this.payloads.push(payload)
      this.payloadBytes += payload.length
      this.lastCut = this.count
    }
    if (this.gathering && this.payloadBytes < GATHER_MAX) {
      this.held = true
      return
    }
    this.flush()
  }

  // The same, for a payload the caller may reuse at once: a large one is
  // copied too (a small one always is), as 0.7.1 copies extended payloads.
  sendCopy (kind, a, b, payload) {
    this.send(kind, a, b, payload.length > INLINE_MAX ? Buffer.from(payload) : payload)
  }

  // Pushes the queued ops, encoded (inline payloads copied in), as one chunk,
  // each payload the caller owns right after its header; then what a
  // reader's handler queued meanwhile.
  flush () {
    if (this.count === 0 || this.pushing) return
    this.pushing = true
    try {
      do this.pushQueued()
      while (this.count !== 0)
    } finally {
      this.pushing = false
    }
  }

  pushQueued () {
    const n = this.count
    // Kept, or handed back (see takeOps): to the pool already, as nothing
    // can take it from there before the encoding below, which comes first.
    const ops = this.ops
    if (ops.length === OPS_WORDS || 4 * n * OP_WORDS < ops.length) {
      this.ops = null
      if (ops.length === OPS_WORDS && opsPool.length < POOL_MAX) opsPool.push(ops)
    }
    const used = this.inlineUsed
    // whole: the encoder takes from it only the bytes the ops name
    const inline = used === 0 ? undefined : this.inlineBuf
    const bytes = this.inlineBytes
    const payload = this.payload
    const more = this.payloads
    const lastCut = this.lastCut
    this.count = 0
    this.lastCut = 0
    this.held = false
    this.inlineUsed = 0
    this.inlineBytes = 0
    // Not kept: most wires send their inline messages (handshake, bitfield,
    // extended handshake) once, and a kept region would pin its staging
    // slab for the wire's life.
    this.inlineBuf = null
    const stream = this.stream
    const encryptor = this.encryptor
    if (payload === null) {
      stream.push(encode(ops, n, inline, bytes, encryptor))
      return
    }
    this.payload = null
    this.payloadBytes = 0
    if (more === null && lastCut === n) { // the usual case: its header is the last op
      if (encryptor !== null) { // the block as a copy (RC4 needs one), with its header
        stream.push(encode(ops, n, inline, bytes, encryptor, payload))
        return
      }
      stream.push(encode(ops, n, inline, bytes, null))
      stream.push(payload)
      return
    }
    // Payloads with messages queued after them: sent from a reader's
    // handler while a flush pushed, or gathered (see `gather`).
    this.payloads = null
    const payloads = more === null ? [payload] : [payload, ...more]
    let at = encodeCut(ops, n, inline, bytes, payloads.length)
    const end = slabAt
    const out = slab
    // Read before any push: a push can run another wire's flush.
    const cuts = new Array(payloads.length)
    for (let k = 0; k < cuts.length; k++) cuts[k] = ends[k]
    for (let k = 0; k < cuts.length; k++) {
      stream.push(this.seal(out.subarray(at, cuts[k])))
      stream.push(encryptor === null ? payloads[k] : encrypted(encryptor, payloads[k]))
      at = cuts[k]
    }
    if (at < end) stream.push(this.seal(out.subarray(at, end)))
  }

  // Our encoded bytes, encrypted in place when encrypting.
  seal (bytes) {
    if (this.encryptor !== null) native.encryptorApply(this.encryptor, bytes)
    return bytes
  }

  // What is queued goes; nothing more is taken.
  close () {
    this.flush()
    this.closed = true
  }
}

Sender.GATHER_MAX = GATHER_MAX

module.exports = Sender
