'use strict'

// Bytes a peer sends, built by hand for the tests (not a test file itself).

const pwp = require('..')

const HASH = Buffer.alloc(20, 0xab)
const ID = Buffer.from('-PW0001-123456789012')

// A peer's handshake: HASH, ID, no extensions asked for.
function handshakeBytes () {
  const w = pwp()
  w.handshake(HASH, ID)
  return w.read()
}

// 32-bit big-endian words.
function u32 (...values) {
  const out = Buffer.alloc(4 * values.length)
  values.forEach((v, i) => out.writeUInt32BE(v, 4 * i))
  return out
}

// A message: length prefix, id, body.
function frame (id, body = Buffer.alloc(0)) {
  return Buffer.concat([u32(1 + body.length), Buffer.from([id]), body])
}

module.exports = { HASH, ID, handshakeBytes, u32, frame }
