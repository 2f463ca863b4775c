'use strict'

// Encryption (MSE/PE) for a wire made with `encryption: 'prefer'` or
// `'require'`. The handshake itself is the Rust core's (src/protocol/mse,
// behind an External handle); this file is the session glue:
//
// - Until the handshake is established the wire's `_write` feeds the peer's
//   bytes to it (the receiver sees none of them), and what it answers goes
//   out first. Whatever the wire sends meanwhile (the BitTorrent
//   handshake, a bitfield, …) is held, not pushed: no plaintext leaves
//   before MSE has decided.
// - Once established with RC4, the receiver owns the decrypt stream (each
//   chunk written to the wire after the handshake's is decrypted in place,
//   in the receiver's first native call on it) and the sender the encrypt
//   stream (its encoded ops are encrypted in place in its slab in the same
//   native call; a block handed to `piece()` is copied in after its header
//   and encrypted with it, the caller's buffer untouched).
//   The bytes held meanwhile go out encrypted, after the handshake's own.
//   In plaintext, the wire goes on as 0.7.1's.
// - A peer's mistake ends the wire as a protocol error does
//   (`wire.protocolError`, 'error' if listened to, 'close'), with a coded
//   error `ERR_PEER_WIRE_MSE_*`.

const native = require('./native.js')
const WireStream = require('./stream.js')

const plainWrite = WireStream.prototype._write
const plainPush = WireStream.prototype.push

class Mse {
  constructor (wire, { require, infoHash, infoHashes }) {
    this.wire = wire
    this.handle = infoHash
      ? native.mseInitiator(infoHash, require)
      : native.mseResponder(infoHashes, require)
    this.held = [] // what the wire pushed before the handshake was done
    this.received = [] // plaintext the handshake passed on before it was done
    this.failed = false
  }
}

// Makes `wire` open with the MSE handshake; `options` from
// lib/options.js's readEncryption. An initiator's first bytes are pushed
// at once.
function start (wire, options) {
  const mse = new Mse(wire, options)
  wire._mse = mse
  wire._encryption = null
  wire._write = handshakeWrite
  wire.push = holdingPush
  if (options.infoHash) step(mse, Buffer.alloc(0))
}

// The wire's push while the handshake runs: held, but for the end.
function holdingPush (chunk) {
  if (chunk === null) {
    this._mse.held.length = 0 // never sent: the handshake did not complete
    return plainPush.call(this, null)
  }
  this._mse.held.push(chunk)
  return true
}

// The wire's _write while the handshake runs. The peer wire bytes that
// came with the handshake's last are plaintext already: the receiver
// decrypts from the next chunk on (which cannot come before this one's
// callback).
function handshakeWrite (chunk, encoding, callback) {
  const mse = this._mse
  const done = mse.failed || this._closed ? false : step(mse, chunk)
  if (!done) return callback()
  const received = takeReceived(mse)
  if (received.length === 0) {
    decryptNext(mse)
    return callback()
  }
  plainWrite.call(this, received, encoding, () => {
    decryptNext(mse)
    callback()
  })
}

// With RC4, the receiver decrypts every chunk from now on.
function decryptNext (mse) {
  if (mse.handle !== null) mse.wire._receiver.decryptFrom(mse.handle)
  mse.handle = null
}

// Feeds the handshake; returns whether it is established now.
function step (mse, chunk) {
  const wire = mse.wire
  const p = native.mseFeed(mse.handle, chunk)
  if (p.error) {
    fail(mse, p.error)
    return false
  }
  if (p.send.length > 0) plainPush.call(wire, p.send)
  if (p.received.length > 0) mse.received.push(p.received)
  if (!p.encryption) return false
  established(mse, p.encryption)
  return true
}

function takeReceived (mse) {
  const received = mse.received
  mse.received = []
  return received.length === 1 ? received[0] : Buffer.concat(received)
}

function established (mse, encryption) {
  const wire = mse.wire
  wire._encryption = encryption
  delete wire.push
  const held = mse.held
  mse.held = null
  delete wire._write
  if (encryption === 'rc4') {
    const encryptor = native.encryptorNew(mse.handle)
    wire._sender.encryptor = encryptor
    // A copy, encrypted: what was held may be a caller's block.
    if (held.length > 0) {
      const bytes = Buffer.concat(held)
      native.encryptorApply(encryptor, bytes)
      wire.push(bytes)
    }
  } else {
    mse.handle = null // no stream to decrypt with
    for (const chunk of held) wire.push(chunk)
  }
  wire.emit('encryption', encryption)
}

function fail (mse, info) {
  const wire = mse.wire
  mse.failed = true
  const err = new Error(info.message)
  err.code = info.code
  wire._onprotocolerror(err)
}

module.exports = { start }
