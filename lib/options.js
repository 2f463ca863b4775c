'use strict'

// The factory's options, checked, with the defaults where the options are
// silent: the window of the speed meters, the limits on what a peer may
// make a wire hold, whether the wire turns Nagle's algorithm off on its
// sockets, and encryption (MSE/PE).

const native = require('./native.js')
const { U32, checkInteger, checkBoolean, isBytes } = require('./checks.js')

const DEFAULTS = Object.freeze({
  // The core's bound on one message (libtorrent's: 1 MiB).
  maxFrameLength: native.DEFAULT_MAX_FRAME_LENGTH,
  // The peer's pending requests kept (libtorrent's max_allowed_in_request_queue).
  maxPeerRequests: 2000,
  // The longest block the peer may request.
  maxBlockLength: 128 * 1024
})

// The window of the speed meters (speedometer, as 0.7.1's), in seconds: 5
// unless set, as 0.7.1 reads `opts.speed || 5`. A whole number of quarter
// seconds: the meters count in quarter-second ticks, and speedometer, given
// any other window, never wraps its history: with 0.1 its first reading
// grows it until V8 aborts the process, with 1.3 it grows by four entries
// a second for the wire's life.
const SPEED_DEFAULT = 5
function readSpeed (opts) {
  if (!opts || !opts.speed) return SPEED_DEFAULT
  const speed = opts.speed
  if (typeof speed !== 'number') throw new TypeError(`opts.speed must be a number, got ${typeof speed}`)
  if (!(speed > 0) || !Number.isSafeInteger(4 * speed)) {
    throw new RangeError(`opts.speed must be a positive number of seconds, in quarter seconds (such as 5 or 2.5), got ${speed}`)
  }
  return speed
}

function readLimits (opts) {
  if (!opts) return DEFAULTS
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

// Whether the wire turns Nagle's algorithm off on the sockets it is piped
// to or from (see lib/sockets.js): yes, unless `noDelay: false`.
function readNoDelay (opts) {
  if (!opts || opts.noDelay === undefined) return true
  checkBoolean('opts.noDelay', opts.noDelay)
  return opts.noDelay
}

const ENCRYPTION = ['off', 'prefer', 'require']
const HEX = /^[0-9a-fA-F]{40}$/

// An info hash as 20 bytes: a Buffer or Uint8Array of 20 bytes, or 40 hex digits.
function infoHashOf (name, value) {
  if (typeof value === 'string') {
    if (!HEX.test(value)) throw new RangeError(`${name} must be 40 hex digits, got ${JSON.stringify(value)}`)
    return Buffer.from(value, 'hex')
  }
  if (!isBytes(value)) {
    throw new TypeError(`${name} must be a Buffer, Uint8Array or hex string, got ${value === null ? 'null' : typeof value}`)
  }
  if (value.length !== native.ID_LENGTH) throw new RangeError(`${name} must be ${native.ID_LENGTH} bytes, got ${value.length}`)
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

// Encryption (see lib/mse.js): null for 'off' (the default: the wire is
// 0.7.1's), else `{ require, infoHash }` for a wire that dials (the
// initiator) or `{ require, infoHashes }` (20 bytes each, one after
// another) for one that accepts (the responder).
function readEncryption (opts) {
  if (!opts) return null
  const { encryption = 'off', infoHash, infoHashes } = opts
  if (typeof encryption !== 'string') {
    throw new TypeError(`opts.encryption must be a string, got ${encryption === null ? 'null' : typeof encryption}`)
  }
  if (!ENCRYPTION.includes(encryption)) {
    throw new RangeError(`opts.encryption must be one of ${ENCRYPTION.map((e) => `'${e}'`).join(', ')}, got ${JSON.stringify(encryption)}`)
  }
  if (infoHash !== undefined && infoHashes !== undefined) {
    throw new TypeError('opts.infoHash (a wire that dials) and opts.infoHashes (a wire that accepts) exclude each other')
  }
  let hashes = null
  if (infoHashes !== undefined) {
    if (!Array.isArray(infoHashes)) throw new TypeError(`opts.infoHashes must be an array, got ${infoHashes === null ? 'null' : typeof infoHashes}`)
    if (infoHashes.length === 0) throw new RangeError('opts.infoHashes must name at least one torrent')
    hashes = Buffer.concat(infoHashes.map((ih, i) => infoHashOf(`opts.infoHashes[${i}]`, ih)))
  }
  const hash = infoHash === undefined ? null : infoHashOf('opts.infoHash', infoHash)
  if (encryption === 'off') return null
  if (hash === null && hashes === null) {
    throw new TypeError(`opts.encryption '${encryption}' needs opts.infoHash (a wire that dials) or opts.infoHashes (a wire that accepts)`)
  }
  const require = encryption === 'require'
  return hash !== null ? { require, infoHash: hash } : { require, infoHashes: hashes }
}

module.exports = { DEFAULTS, readSpeed, readLimits, readNoDelay, readEncryption }
