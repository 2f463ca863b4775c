'use strict'

// The factory's options, checked, with the defaults where the options are
// silent: the limits on what a peer may make a wire hold, and whether the
// wire turns Nagle's algorithm off on its sockets.

const native = require('./native.js')
const { U32, checkInteger, checkBoolean } = require('./checks.js')

const DEFAULTS = Object.freeze({
  // The core's bound on one message (libtorrent's: 1 MiB).
  maxFrameLength: native.DEFAULT_MAX_FRAME_LENGTH,
  // The peer's pending requests kept (libtorrent's max_allowed_in_request_queue).
  maxPeerRequests: 2000,
  // The longest block the peer may request.
  maxBlockLength: 128 * 1024
})

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

module.exports = { DEFAULTS, readLimits, readNoDelay }
