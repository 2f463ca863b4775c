'use strict'

// BEP 6, the fast extension: the session's rules, as bittorrent-protocol
// 5.0.9 and libtorrent apply them. A wire that never asks for fast
// (`handshake(infoHash, peerId, { fast: true })`) holds no state of this
// (its `_fast` stays null), sends no fast message, and reads ids 13 to 17 as
// unknown messages: it behaves as 0.7.1.
//
// The byte-level rules are the Rust decoder's: it reads the fast messages
// as such only when both handshakes set the fast bit (we tell it ours, see
// Receiver#setFast), checks their lengths, and fails a fast message from a
// peer that did not set the bit when we did (ERR_PEER_WIRE_FAST_NOT_NEGOTIATED).
// Here: what the messages mean once both set it (`on`):
// - a choke from the peer no longer fails our pending requests; a reject
//   fails the matching one ('request was rejected');
// - we may request a piece in the peer's allowed-fast set while it chokes us;
// - our choke() rejects the peer's pending requests outside our allowed-fast
//   set (the indexes we sent with allowedFast()); a request arriving while we
//   choke, or over our limits, is rejected unless allowed fast; respond(err)
//   rejects.

const native = require('./native.js')
const { checkUint, checkBytes } = require('./checks.js')
const { pull } = require('./requests.js')

const {
  ID_LENGTH,
  ID_SUGGEST,
  ID_HAVE_ALL,
  ID_HAVE_NONE,
  ID_REJECT,
  ID_ALLOWED_FAST,
  MAX_ALLOWED_FAST_SET_LENGTH
} = native

// The most indexes of the peer's allowed-fast set kept (btp's bound): a
// peer's flood of allowed-fast messages drops the oldest.
const MAX_PEER_ALLOWED_FAST = 100

// The public methods, each the Fast method of the same name.
const METHODS = ['haveAll', 'haveNone', 'suggest', 'reject', 'allowedFast']

const NONE = Object.freeze([])

class Fast {
  constructor (wire) {
    this.wire = wire
    this.on = false // both handshakes set the fast bit
    this.allowed = new Set() // ours: the indexes we sent with allowedFast()
    this.peerAllowed = [] // the peer's, in arrival order (wire.peerAllowedFastSet)
  }

  // outbound

  haveAll () {
    this.wire._sender.queue(ID_HAVE_ALL, 0, 0, 0)
  }

  haveNone () {
    this.wire._sender.queue(ID_HAVE_NONE, 0, 0, 0)
  }

  suggest (i) {
    checkUint('index', i)
    this.wire._sender.queue(ID_SUGGEST, i, 0, 0)
  }

  // Also forgets the peer's pending request for this block, if any (btp's).
  reject (i, offset, length) {
    checkUint('index', i)
    checkUint('offset', offset)
    checkUint('length', length)
    pull(this.wire.peerRequests, i, offset, length)
    this.wire._sender.queue(ID_REJECT, i, offset, length)
  }

  allowedFast (i) {
    checkUint('index', i)
    this.allowed.add(i)
    this.wire._sender.queue(ID_ALLOWED_FAST, i, 0, 0)
  }

  // the session's rules (see the top of the file)

  // Whether we may request piece i while the peer chokes us.
  mayRequest (i) {
    return this.peerAllowed.includes(i)
  }

  // Whether we serve piece i while we choke the peer.
  serves (i) {
    return this.allowed.has(i)
  }

  // We choked the peer: its pending requests outside our allowed-fast set
  // are rejected (after the choke, which the caller queued).
  onChoke () {
    const requests = this.wire.peerRequests
    let kept = 0
    for (let j = 0; j < requests.length; j++) {
      const req = requests[j]
      if (this.allowed.has(req.piece)) requests[kept++] = req
      else this.wire._sender.queue(ID_REJECT, req.piece, req.offset, req.length)
    }
    requests.length = kept
  }

  // A request we do not take (choked, over our limits, or answered with an
  // error): the peer is told.
  refuse (i, offset, length) {
    this.wire._sender.queue(ID_REJECT, i, offset, length)
  }

  // inbound: the fast records (lib/receiver.js), which come only when `on`

  onSuggest (i) {
    this.wire.emit('suggest', i)
  }

  onHaveAll () {
    this.wire._pieces.setAll()
    this.wire.emit('have-all')
  }

  onHaveNone () {
    this.wire._pieces.setNone()
    this.wire.emit('have-none')
  }

  onReject (i, offset, length) {
    const wire = this.wire
    wire._fail(pull(wire.requests, i, offset, length), 'request was rejected')
    if (wire._closed) return // by the callback: no event follows 'close'
    wire.emit('reject', i, offset, length)
  }

  onAllowedFast (i) {
    const set = this.peerAllowed
    if (!set.includes(i)) {
      set.push(i)
      if (set.length > MAX_PEER_ALLOWED_FAST) set.shift()
    }
    this.wire.emit('allowed-fast', i)
  }
}

// We send a handshake asking for fast: the decoder is told before the
// peer's next message is decoded (a responder answering in its 'handshake'
// listener is in time: a receive call ends after the handshake record).
function ask (wire) {
  if (wire._fast !== null) return
  wire._fast = new Fast(wire)
  wire._receiver.setFast(true)
  if (wire._peerFast !== null) agree(wire, wire.peerExtensions, wire._peerFast)
}

// The peer's handshake, read (before 'handshake' is emitted); or ours,
// after it. The extensions object gets `fast` only on a wire that asked.
function agree (wire, extensions, peerFast) {
  const fast = wire._fast
  if (fast === null) return
  extensions.fast = peerFast
  fast.on = peerFast
}

// The wire's Fast when both handshakes set the fast bit, else null.
function fastOf (wire) {
  const fast = wire._fast
  return fast !== null && fast.on ? fast : null
}

// The same, for a public fast method: throws without fast.
function negotiated (wire) {
  const fast = fastOf(wire)
  if (fast !== null) return fast
  const err = new Error('fast extension is disabled') // btp's text
  err.code = 'ERR_PEER_WIRE_FAST_DISABLED'
  throw err
}

function peerAllowedFastSet (wire) {
  return wire._fast === null ? NONE : wire._fast.peerAllowed
}

// BEP 6's allowed-fast set (the Rust core's), its arguments checked here.
function allowedFastSet (ip, infoHash, numPieces, k) {
  if (typeof ip !== 'string') throw new TypeError(`ip must be a string, got ${typeof ip}`)
  if (typeof infoHash === 'string') infoHash = Buffer.from(infoHash, 'hex')
  checkBytes('infoHash', infoHash)
  if (infoHash.length !== ID_LENGTH) throw new RangeError(`infoHash must have length ${ID_LENGTH}, got ${infoHash.length}`)
  checkUint('numPieces', numPieces)
  checkUint('k', k, MAX_ALLOWED_FAST_SET_LENGTH)
  return native.allowedFastSet(ip, infoHash, numPieces, k)
}

module.exports = { METHODS, ask, agree, fastOf, negotiated, peerAllowedFastSet, allowedFastSet }
