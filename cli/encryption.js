'use strict'

// The command's --encryption policy (off, prefer, require: MSE/PE), for
// fetch and seed alike: the wire a connection gets, and what happens to a
// peer we dialled whose connection ends before MSE is done. A peer without
// MSE reads our public key as a bad handshake and hangs up: with 'prefer'
// it is dialled again, once, in plaintext (as libtorrent does). With
// 'require' it is dialled once more, encrypted: a peer may also drop an
// incoming connection while it is busy (libtorrent sometimes does right
// after it starts seeding).

const pwp = require('..')

const POLICIES = ['off', 'prefer', 'require']

// The wire for a connection we dial (plaintext: a wire without MSE).
function dialWire (encryption, plaintext, infoHash) {
  return plaintext || encryption === 'off' ? pwp() : pwp({ encryption, infoHash })
}

// The wire for a connection a peer opened to us: with 'prefer' it may open
// with MSE or in plaintext, with 'require' only with MSE and RC4.
function acceptWire (encryption, infoHash) {
  return encryption === 'off' ? pwp() : pwp({ encryption, infoHashes: [infoHash] })
}

// How to dial again a peer whose encrypted connection ended before MSE was
// done: { plaintext, retry } for the next attempt, or null to give up.
// `plaintext`, `retry`: the attempt that ended.
function redial (encryption, { plaintext, retry }) {
  if (plaintext || encryption === 'off') return null
  if (encryption === 'prefer') return { plaintext: true, retry: false }
  return retry ? { plaintext: false, retry: false } : null
}

// " , encrypted (MSE, RC4)" for a wire that negotiated RC4, else "".
function describeEncryption (method) {
  return method === 'rc4' ? ', encrypted (MSE, RC4)' : ''
}

module.exports = { POLICIES, dialWire, acceptWire, redial, describeEncryption }
