'use strict'

// BEP 10, the extension protocol, as bittorrent-protocol 5.0.9 offers it to
// extension modules (ut_metadata, ut_pex, …) through `wire.use(Extension)`.
// A wire that never calls use() holds no state of this (see index.js: its
// `_ext` is null, or HANDSHAKEN once it has sent its handshake), decodes no
// extended handshake and sends none: it behaves as 0.7.1.
//
// The contract, btp's: `Extension.prototype.name` names the extension;
// `new Extension(wire)` is made at once and kept as `wire[name]`; our ids
// are 1, 2, … in call order. Its hooks, each optional:
//   onHandshake(infoHashHex, peerIdHex, extensions)  on the peer's handshake
//   onExtendedHandshake(dict)   on the peer's extended handshake, when its
//                               `m` names the extension with a non-zero id
//   onMessage(payload)          a message to the extension's id (a Buffer)
// Our extended handshake (`extendedHandshake` plus `m`) goes out once, as
// soon as we have sent our handshake and the peer's has the extension bit;
// when we answer the peer's handshake from a 'handshake' listener, after
// what the listeners send: with BEP 6, a bitfield, have_all or have_none
// must come first (aria2 drops a peer that sends anything else first).

const { decode } = require('./bencode.js')

const EXTENDED_HANDSHAKE = 0 // the extended message id of the extended handshake
const MAX_ID = 255 // ids are one byte
// A peer's extended handshake is decoded within bencode's default bounds
// (its size is bounded by the wire's frame limit): libtorrent's bdecode
// depth, and far more values than any client sends (libtorrent's has about
// twenty).

// What `_ext` holds on a wire that has sent its handshake before any use():
// only that fact, shared by every such wire.
const HANDSHAKEN = Object.freeze({ handshaken: true })

class Extensions {
  constructor (wire, handshaken) {
    this.wire = wire
    this.handshaken = handshaken // we have sent our handshake
    this.sent = false // our extended handshake has gone out
    this.pending = false // a send after a late use() waits for the end of the tick
    this.handlers = [] // the extensions, ours id - 1 each
    this.extendedMapping = {} // our id -> name
    this.extendedHandshake = {} // what we send, `m` added
    this.peerExtendedHandshake = {} // the peer's, as decoded
    this.peerExtendedMapping = {} // name -> the peer's id (0: none)
  }

  use (Extension) {
    const name = Extension.prototype.name
    if (!name || typeof name !== 'string') {
      throw new Error('Extension class requires a "name" property on the prototype')
    }
    if (name in this.wire) throw new Error(`Extension name ${name} is already a property of the wire`)
    if (this.handlers.length === MAX_ID) throw new RangeError(`at most ${MAX_ID} extensions fit the extension protocol's ids`)
    const handler = new Extension(this.wire)
    this.handlers.push(handler)
    this.extendedMapping[this.handlers.length] = name
    this.wire[name] = handler
    // Both handshakes are done already (e.g. use() after them): send at the
    // end of the tick, so that the use() calls made with this one are in `m`
    // (and inside a 'handshake' listener, onPeerHandshake sends first).
    if (this.ready() && !this.pending) {
      this.pending = true
      process.nextTick(sendLate, this)
    }
  }

  // The moment both handshakes are done, once use() was called.
  ready () {
    return !this.sent && this.handlers.length > 0 && this.handshaken && this.wire.peerExtensions.extended === true
  }

  send () {
    const msg = Object.assign({}, this.extendedHandshake)
    const m = {}
    for (let id = 1; id <= this.handlers.length; id++) m[this.extendedMapping[id]] = id
    msg.m = m
    this.sent = true
    this.wire.extended(EXTENDED_HANDSHAKE, msg)
  }

  // We sent our handshake.
  onHandshakeSent () {
    this.handshaken = true
    if (this.ready() && !this.wire._peerHandshaking) this.send()
  }

  // The peer's handshake arrived ('handshake' was emitted).
  onPeerHandshake (infoHash, peerId, extensions) {
    const infoHashHex = infoHash.toString('hex')
    const peerIdHex = peerId.toString('hex')
    const handlers = this.handlers
    for (let i = 0; i < handlers.length && !this.wire._closed; i++) {
      if (typeof handlers[i].onHandshake === 'function') handlers[i].onHandshake(infoHashHex, peerIdHex, extensions)
    }
    if (this.ready() && !this.wire._closed) this.send()
  }

  // An extended message arrived, before its 'extended' event.
  onExtended (id, payload) {
    if (this.handlers.length === 0) return
    if (id === EXTENDED_HANDSHAKE) return this.onExtendedHandshake(payload)
    const handler = this.handlers[id - 1]
    if (handler !== undefined && typeof handler.onMessage === 'function') handler.onMessage(payload)
  }

  // A malformed extended handshake is ignored (no hook, the state kept), as
  // btp does; it still goes out as an 'extended' event.
  onExtendedHandshake (payload) {
    let dict
    try {
      dict = decode(payload)
    } catch (err) {
      return
    }
    if (!isDictionary(dict)) return
    this.peerExtendedHandshake = dict
    const mapping = this.peerExtendedMapping
    if (isDictionary(dict.m)) {
      for (const name of Object.keys(dict.m)) {
        const id = dict.m[name]
        setOwn(mapping, name, Number.isInteger(id) && id > 0 && id <= MAX_ID ? id : 0)
      }
    }
    const handlers = this.handlers
    for (let i = 0; i < handlers.length && !this.wire._closed; i++) {
      const name = this.extendedMapping[i + 1]
      if (typeof handlers[i].onExtendedHandshake === 'function' && peerId(mapping, name) !== 0) {
        handlers[i].onExtendedHandshake(dict)
      }
    }
  }
}

function sendLate (extensions) {
  extensions.pending = false
  if (extensions.ready() && !extensions.wire._closed) extensions.send()
}

// The peer's id for the extension `name`, for extended(name, payload).
function idOf (ext, name) {
  const id = ext instanceof Extensions ? peerId(ext.peerExtendedMapping, name) : 0
  if (id === 0) throw new Error(`Unrecognized extension: ${name}`)
  return id
}

function peerId (mapping, name) {
  return Object.prototype.hasOwnProperty.call(mapping, name) ? mapping[name] : 0
}

function isDictionary (value) {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
}

// An own property, even for "__proto__".
function setOwn (object, key, value) {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true })
}

module.exports = { Extensions, HANDSHAKEN, idOf }
