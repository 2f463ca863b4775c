'use strict'

// Requests pending on either side of a wire: ours (with the callback that
// gets the block) and the peer's (with the respond function we handed out).

function pull (requests, piece, offset, length) {
  for (let i = 0; i < requests.length; i++) {
    const req = requests[i]
    if (req.piece !== piece || req.offset !== offset || req.length !== length) continue
    if (i === 0) requests.shift()
    else requests.splice(i, 1)
    return req
  }
  return null
}

function Request (piece, offset, length, callback) {
  this.piece = piece
  this.offset = offset
  this.length = length
  this.callback = callback
  this.timeout = null
}

module.exports = { Request, pull }
