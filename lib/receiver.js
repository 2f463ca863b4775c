'use strict'

// Bytes in. One native call per chunk (more only when a chunk holds more
// than CAPACITY messages, or the peer's handshake) decodes it into records
// (see src/batch.rs); the records are then handed to the wire's handlers in
// order, so each handler sees the state as of its own message, and a
// handler that stops the receiver stops it at once. A block that runs past
// its chunk is gathered here, without a native call per chunk in plaintext.
// On an RC4 connection (lib/mse.js) the first native call on each chunk
// decrypts it in place, all of it, before anything reads it: a chunk that
// only continues a block makes that call too, and nothing else does.

const native = require('./native.js')

const {
  RECORD_HEADER: HEADER,
  RECORD_STRIDE: STRIDE,
  RECEIVER_FRESH,
  RECEIVER_HELD,
  KIND_MASK,
  KIND_KEEP_ALIVE,
  KIND_HANDSHAKE,
  KIND_UNKNOWN,
  KIND_ERROR,
  FLAG_BUFFERED,
  FLAG_SPLIT,
  HANDSHAKE_DHT,
  HANDSHAKE_EXTENDED,
  HANDSHAKE_FAST,
  ID_LENGTH,
  ID_CHOKE,
  ID_UNCHOKE,
  ID_INTERESTED,
  ID_NOT_INTERESTED,
  ID_HAVE,
  ID_BITFIELD,
  ID_REQUEST,
  ID_PIECE,
  ID_CANCEL,
  ID_PORT,
  ID_SUGGEST,
  ID_HAVE_ALL,
  ID_HAVE_NONE,
  ID_REJECT,
  ID_ALLOWED_FAST,
  ID_EXTENDED
} = native

const CAPACITY = 256 // records per native call
// The records of a call that only decrypts its chunk: room for the header.
const NO_RECORDS = Buffer.alloc(HEADER * 4)
const MAX_SLICE = 64 * 1024 * 1024

// Record arrays are lent per call. Receiving can nest (a handler on one wire
// writes synchronously into another), so they come from a pool, not a
// global. `bytes` is the same memory as `words`, the form the native side
// fills.
const recordPool = []
function takeRecords () {
  const records = recordPool.pop()
  if (records) return records
  const words = new Uint32Array(HEADER + CAPACITY * STRIDE)
  return { words, bytes: Buffer.from(words.buffer, words.byteOffset, words.byteLength) }
}

// Blocks gathered across chunks are carved from 112 KiB slabs: allocating
// each 16 KiB block on its own costs about 700 ns here, a slice of a slab
// about 250 ns. Not 128 KiB: that is glibc's mmap threshold, so every such
// slab was fresh mmapped memory (page faults and the kernel's zeroing at the
// first write, munmap when freed), measured 10-25 % slower on 1400-byte
// chunks than a slab from the heap, which reuses freed memory. The price: a
// block kept alive keeps its slab alive (7 blocks of 16 KiB). Blocks over
// 16 KiB get their own memory.
const BLOCK_SLAB = 112 * 1024
const SLAB_BLOCK_MAX = 16 * 1024
let blockSlab = null
let blockSlabAt = BLOCK_SLAB
function allocBlock (length) {
  if (length > SLAB_BLOCK_MAX) return Buffer.allocUnsafeSlow(length)
  if (BLOCK_SLAB - blockSlabAt < length) {
    blockSlab = Buffer.allocUnsafeSlow(BLOCK_SLAB)
    blockSlabAt = 0
  }
  const block = blockSlab.subarray(blockSlabAt, blockSlabAt + length)
  blockSlabAt += length
  return block
}

// The bytes a record's [c, c + d) names: in the chunk, or in the gathered
// bytes for a record flagged FLAG_BUFFERED.
function payload (words, at, chunk, gathered) {
  const c = words[at + 3]
  return (words[at] & FLAG_BUFFERED ? gathered : chunk).subarray(c, c + words[at + 4])
}

class Receiver {
  // `wire` has a handler per message (`_onchoke`, `_onhave(index)`, …).
  constructor (wire, maxFrameLength) {
    this.wire = wire
    // Between frames the native receiver is a word kept here (see
    // src/batch.rs). `native`, the receiver itself, is null but while it
    // holds something (the bytes of a frame cut across chunks, a violation,
    // a cipher) or was asked for (fast): a call that leaves it holding
    // nothing gives its word back.
    this.packed = RECEIVER_FRESH
    this.maxFrameLength = maxFrameLength
    this.native = null
    this.parsing = true
    // A piece whose block is arriving over several chunks (see fill).
    this.blockLength = -1 // -1: none
    this.blockPiece = 0
    this.blockOffset = 0
    this.block = null // allocated once the block needs more than one chunk
    this.blockFilled = 0
    // Where handing on stopped for a congested wire (see receive).
    this.suspended = null
    this.rest = null // the slices of a large chunk still to decode
    this.decrypting = false // see decryptFrom
  }

  // Every chunk received after this is decrypted in place with the RC4
  // stream of `session`, an established MSE handshake (lib/mse.js).
  decryptFrom (session) {
    native.receiverSetDecrypt(this.own(), session)
    this.decrypting = true
  }

  // Whether our handshake set the fast bit (BEP 6): the decoder reads the
  // fast messages as such only when the peer's did too.
  setFast (fast) {
    native.receiverSetFast(this.own(), fast)
  }

  // The native receiver itself, made from its word if need be.
  own () {
    if (this.native === null) this.native = native.receiverUnpack(this.packed, this.maxFrameLength)
    return this.native
  }

  // No record is handed on after this, not even the rest of the chunk's.
  stop () {
    this.parsing = false
  }

  // The common case of a block trickling in: the chunk only continues it.
  // Returns whether it did (and so was taken whole, with nothing to hand on).
  continues (chunk) {
    const block = this.block
    if (block === null || chunk.length >= this.blockLength - this.blockFilled || !this.parsing) return false
    if (this.decrypting) native.receiverReceive(this.native, chunk, chunk.length, NO_RECORDS, true)
    block.set(chunk, this.blockFilled)
    this.blockFilled += chunk.length
    return true
  }

  // Hands on the chunk's messages. Returns whether the chunk is used up
  // (or the receiver stopped); false when the wire became congested (see
  // index.js), after a message: `resume` then takes up from the next one.
  receive (chunk) {
    if (!this.parsing) return true
    if (chunk.length > MAX_SLICE) {
      this.rest = chunk
      return this.nextSlice()
    }
    return this.decode(chunk, 0, takeRecords(), 0, 0, null, this.decrypting)
  }

  resume () {
    const at = this.suspended
    if (at === null) return true
    this.suspended = null
    if (!this.parsing) {
      recordPool.push(at.records)
      return true
    }
    return this.decode(at.chunk, at.from, at.records, at.next, at.count, at.gathered, false) && this.nextSlice()
  }

  // Record offsets are 32-bit: a larger chunk is decoded in slices.
  nextSlice () {
    while (this.rest !== null && this.parsing) {
      const slice = this.rest.subarray(0, MAX_SLICE)
      this.rest = this.rest.length > MAX_SLICE ? this.rest.subarray(MAX_SLICE) : null
      if (!this.decode(slice, 0, takeRecords(), 0, 0, null, this.decrypting)) return false
    }
    this.rest = null
    return true
  }

  // Decodes chunk[from..] and hands on its records, from record `next` of
  // `count` already decoded into `records`. `fresh`: no native call has
  // seen the chunk yet (so, encrypted, it is still to be decrypted).
  decode (chunk, from, records, next, count, gathered, fresh) {
    const wire = this.wire
    const words = records.words
    let suspended = false
    try {
      for (;;) {
        while (next < count && this.parsing) {
          this.dispatch(words, HEADER + next * STRIDE, chunk, gathered)
          next++
          if (wire._congested && this.parsing) {
            suspended = true
            this.suspended = { chunk, from, records, next, count, gathered }
            return false
          }
        }
        if ((from >= chunk.length && !fresh) || !this.parsing) return true
        // A pending block's bytes come first, but the native call comes
        // before anything reads the chunk: it decodes what follows the
        // block, whose records are handed on after it.
        const blockAt = from
        if (this.blockLength >= 0) from = Math.min(chunk.length, from + this.blockLength - this.blockFilled)
        count = next = 0
        if (from < chunk.length || fresh) {
          if (this.native !== null) {
            gathered = native.receiverReceive(this.native, chunk, from, records.bytes, fresh)
          } else {
            // Not encrypted (that takes the receiver itself): `fresh` means nothing here.
            this.native = native.receiverReceivePacked(this.packed, this.maxFrameLength, chunk, from, records.bytes)
            gathered = null
          }
          // The header's `state`: back to the word once nothing is held.
          if (words[2] !== RECEIVER_HELD) {
            this.packed = words[2]
            this.native = null
          }
          fresh = false
          count = words[0]
          from = words[1]
        }
        if (this.blockLength >= 0) this.fill(chunk, blockAt)
      }
    } finally {
      if (!suspended) recordPool.push(records)
    }
  }

  // Hands one record to its handler. A payload lies in the chunk, or in the
  // gathered bytes for a record flagged FLAG_BUFFERED (see `payload`).
  dispatch (words, at, chunk, gathered) {
    const wire = this.wire
    const kind = words[at]
    // Each case reads only its own fields: most messages have none or one.
    switch (kind & KIND_MASK) {
      case ID_CHOKE: return wire._onchoke()
      case ID_UNCHOKE: return wire._onunchoke()
      case ID_INTERESTED: return wire._oninterested()
      case ID_NOT_INTERESTED: return wire._onuninterested()
      case ID_HAVE: return wire._onhave(words[at + 1])
      case ID_REQUEST: return wire._onrequest(words[at + 1], words[at + 2], words[at + 3])
      case ID_CANCEL: return wire._oncancel(words[at + 1], words[at + 2], words[at + 3])
      case ID_PIECE:
        if (kind & FLAG_SPLIT) return this.startBlock(words[at + 1], words[at + 2], words[at + 3], chunk)
        return wire._onpiece(words[at + 1], words[at + 2], payload(words, at, chunk, gathered))
      case ID_BITFIELD: return wire._onbitfield(payload(words, at, chunk, gathered))
      case ID_PORT: return wire._onport(words[at + 1])
      case ID_EXTENDED: return wire._onextended(words[at + 1], payload(words, at, chunk, gathered))
      case KIND_KEEP_ALIVE: return wire._onkeepalive()
      case KIND_HANDSHAKE: {
        const source = kind & FLAG_BUFFERED ? gathered : chunk
        const a = words[at + 1]
        const c = words[at + 3]
        const d = words[at + 4]
        return wire._onhandshake(source.subarray(c, c + ID_LENGTH), source.subarray(d, d + ID_LENGTH), {
          dht: (a & HANDSHAKE_DHT) !== 0,
          extended: (a & HANDSHAKE_EXTENDED) !== 0
        }, (a & HANDSHAKE_FAST) !== 0)
      }
      case KIND_UNKNOWN: return wire._onunknown(payload(words, at, chunk, gathered))
      // The fast messages: only when both handshakes set the fast bit, so
      // only on a wire that asked for fast (see lib/fast.js).
      case ID_SUGGEST: return wire._fast.onSuggest(words[at + 1])
      case ID_HAVE_ALL: return wire._fast.onHaveAll()
      case ID_HAVE_NONE: return wire._fast.onHaveNone()
      case ID_REJECT: return wire._fast.onReject(words[at + 1], words[at + 2], words[at + 3])
      case ID_ALLOWED_FAST: return wire._fast.onAllowedFast(words[at + 1])
      case KIND_ERROR: {
        const info = native.receiverTakeError(this.native)
        const err = new Error(info.message)
        err.code = info.code
        return wire._onprotocolerror(err)
      }
    }
  }

  // A piece whose block runs past the chunk (a FLAG_SPLIT record): the
  // block is gathered by `fill`, and handed on once whole.
  startBlock (piece, offset, length, chunk) {
    if (length === 0) return this.wire._onpiece(piece, offset, chunk.subarray(0, 0))
    this.blockPiece = piece
    this.blockOffset = offset
    this.blockLength = length
    this.blockFilled = 0
  }

  // Takes the pending block's bytes from chunk[at..]. A block that arrives whole in one chunk is a view of it, not a
  // copy (the chunk itself when it is the block, as when a wire in memory
  // pushes a block as a chunk of its own: no view to make); otherwise it is
  // copied once, into the Buffer the handler gets.
  fill (chunk, at) {
    const need = this.blockLength - this.blockFilled
    const available = chunk.length - at
    let block = this.block
    if (block === null) {
      if (available >= need) {
        this.blockLength = -1
        this.wire._onpiece(this.blockPiece, this.blockOffset, at === 0 && need === chunk.length ? chunk : chunk.subarray(at, at + need))
        return
      }
      block = this.block = allocBlock(this.blockLength)
    }
    if (available < need) {
      block.set(at === 0 ? chunk : chunk.subarray(at), this.blockFilled)
      this.blockFilled += available
      return
    }
    block.set(at === 0 && need === chunk.length ? chunk : chunk.subarray(at, at + need), this.blockFilled)
    this.block = null
    this.blockLength = -1
    this.wire._onpiece(this.blockPiece, this.blockOffset, block)
  }
}

module.exports = Receiver
