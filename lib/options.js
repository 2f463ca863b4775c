'use strict'

// The factory's options: the limits on what a peer may make a wire hold,
// checked, with the defaults where the options are silent.

const native = require('./native.js')
const { U32, checkInteger } = require('./checks.js')

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

module.exports = { DEFAULTS, readLimits }
