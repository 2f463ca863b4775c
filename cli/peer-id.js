'use strict'

// Who we are on the wire, and who the peer says it is.

const crypto = require('crypto')
const { version } = require('../package.json')

// The client name and version sent in the extended handshake's `v`.
const CLIENT_NAME = `peer-wire-native ${version}`

// A fresh peer id, Azureus style: -PW0100- for peer-wire-native 0.1.0, then
// 12 random characters.
function peerId () {
  const v = version.split('.').map((n) => String(Math.min(Number(n), 9))).join('')
  return Buffer.from(`-PW${v.padEnd(4, '0')}-` + crypto.randomBytes(9).toString('base64').replace(/[+/]/g, '_'))
}

// The client a peer id names: its Azureus-style prefix (-LT2080-), else a
// readable prefix of at least 3 characters (aria2's A2-1-36-0-), else the
// whole id in hex.
function client (id) {
  const text = Buffer.from(id).toString('latin1')
  if (/^-[A-Za-z]{2}[0-9A-Za-z]{4}-/.test(text)) return text.slice(0, 8)
  const readable = /^[0-9A-Za-z.-]{3,}/.exec(text)
  return readable ? readable[0] : Buffer.from(id).toString('hex')
}

module.exports = { CLIENT_NAME, peerId, client }
