'use strict'

// Socket batching: what a wire's handlers send in answer to one incoming
// chunk (blocks, above all) goes out in one write of each socket the wire
// is piped to, corked until the chunk has been handled, like libtorrent's
// one send per read. While corked, a pipe's pause() (a socket's write()
// returned false: its 16 KiB high-water mark is one block) waits for the
// end of the batch, so that the batch goes out in one write; backpressure
// then holds as usual, batch by batch, but for a batch that passes
// WATERMARK bytes in a socket: the wire stops handing on the peer's
// messages there (see index.js), as libtorrent stops reading requests past
// its send_buffer_watermark (500 KiB).

const WATERMARK = 512 * 1024

// Nagle's algorithm only adds latency under a wire: the wire already gathers
// small messages into one write per event-loop turn and a chunk's answers
// into one write, and what it sends last (a request, the end of a block) is
// what the peer waits for. With Nagle on, that write waits for the
// acknowledgement of the one before, which the peer delays (up to 40 ms on
// Linux) as it has nothing to send yet: a 16 KiB block per round trip then
// takes ~44 ms instead of ~40 µs. So a wire turns it off on a socket it is
// piped to or from (`opts.noDelay`, default true), as BitTorrent clients do
// on their peer sockets; a net.Socket not yet connected keeps the setting
// for its connection.
function noDelay (stream) {
  if (typeof stream.setNoDelay === 'function') stream.setNoDelay(true)
}

const NONE = Object.freeze([])

// Whether a pipe destination is a socket to cork: anything with cork and
// uncork (another wire is not: it has no write of its own to save).
function isSocket (dest) {
  return typeof dest.cork === 'function' && typeof dest.uncork === 'function'
}

class Sockets {
  constructor (source) {
    this.source = source
    this.list = NONE // replaced, never changed, so a batch keeps its own
    this.corked = NONE
    this.pauseAfter = false
  }

  add (dest) {
    const self = this
    this.list = this.list.concat(dest)
    dest.on('unpipe', function onunpipe (source) {
      if (source !== self.source) return
      dest.removeListener('unpipe', onunpipe)
      self.list = self.list.filter((d) => d !== dest)
    })
  }

  cork () {
    const corked = this.corked = this.list
    for (let i = 0; i < corked.length; i++) corked[i].cork()
  }

  // Whether the source should pause now (a pause was held for the batch).
  uncork () {
    const corked = this.corked
    this.corked = NONE
    for (let i = 0; i < corked.length; i++) corked[i].uncork()
    const pause = this.pauseAfter
    this.pauseAfter = false
    return pause
  }

  // Whether a pause is held until the batch ends.
  holdPause () {
    if (this.corked.length === 0) return false
    this.pauseAfter = true
    return true
  }

  // Whether a corked socket holds WATERMARK bytes or more.
  full () {
    const corked = this.corked
    for (let i = 0; i < corked.length; i++) {
      if (corked[i].writableLength >= WATERMARK) return true
    }
    return false
  }
}

module.exports = { Sockets, isSocket, noDelay, WATERMARK }
