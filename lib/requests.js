'use strict'

// Requests pending on either side of a wire: ours (with the callback that
// gets the block) and the peer's (with the respond function we handed out).

// Removes and returns the first request for this block, if any.
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

// Removes `request` itself; whether it was there.
function remove (requests, request) {
  const last = requests.length - 1
  if (last >= 0 && requests[last] === request) { // answered at once: the newest
    requests.pop()
    return true
  }
  const i = requests.indexOf(request)
  if (i < 0) return false
  if (i === 0) requests.shift()
  else requests.splice(i, 1)
  return true
}

function Request (piece, offset, length, callback) {
  this.piece = piece
  this.offset = offset
  this.length = length
  this.callback = callback
  this.timeout = null
}

module.exports = { Request, pull, remove }
