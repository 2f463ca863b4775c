'use strict'

// The stream a wire is: a Duplex with backpressure end to end and socket
// batching. The wire (index.js) subclasses it and provides `_receiver` (bytes
// in, lib/receiver.js), `_sender` (bytes out, lib/sender.js) and `destroy()`.

const { Duplex } = require('stream')
const util = require('util')
const { Sockets, isSocket, noDelay, WATERMARK } = require('./sockets.js')

// What the wire holds for a reader that is behind before it stops taking
// the peer's bytes (see _write). One object for all wires: Node reads the
// options and keeps none of them.
const DUPLEX_OPTIONS = Object.freeze({ readableHighWaterMark: WATERMARK })

// `nagleOff`: turn Nagle's algorithm off on the sockets the wire is piped
// to or from (see lib/sockets.js).
function WireStream (nagleOff) {
  Duplex.call(this, DUPLEX_OPTIONS)
  this._sockets = null // the sockets this wire is piped to, see pipe
  this._noDelay = nagleOff
  this._congested = false // the reader is behind: stop taking the peer's bytes, see _handle
  this._held = null // the write callback held while congested
  this._handling = false
  if (nagleOff) this.on('pipe', onpipe)
}

util.inherits(WireStream, Duplex)

// `source.pipe(wire)`: a socket we read from gets Nagle off too (see pipe).
function onpipe (source) {
  noDelay(source)
}

// Backpressure, end to end: while the reader is behind (a push found the
// readable side full, or a socket we are piped to asked us to pause), the
// wire stops handing on the peer's messages at the next message, and holds
// the write callback; so `socket.pipe(wire)` pauses the socket, and the
// peer's further bytes wait in the kernel. `_read` (the reader wants more)
// takes up where the wire stopped.
WireStream.prototype._write = function (chunk, encoding, callback) {
  if (this._receiver.continues(chunk)) return callback()
  this._held = callback
  this._handle(chunk)
}

// Hands on a chunk's messages (or, with null, what is left of the last
// one's) to the handlers, with the sockets corked and the blocks sent in
// answer gathered (see lib/sender.js); releases the write once the chunk
// is used up.
WireStream.prototype._handle = function (chunk) {
  const sockets = this._sockets
  if (sockets !== null) sockets.cork()
  this._handling = true
  this._sender.gather()
  let done = true
  try {
    done = chunk === null ? this._receiver.resume() : this._receiver.receive(chunk)
    this._sender.release()
  } catch (err) {
    // A listener threw. The rest of the chunk is already decoded and can no
    // longer be handed on in order, so the wire ends (what was sent before
    // goes, gathered answers too; pending callbacks get 'wire is closed');
    // the exception goes on to the caller, as from any EventEmitter. The
    // write callback still runs, or the stream could never finish.
    this.destroy()
    throw err
  } finally {
    this._handling = false
    if (sockets !== null && sockets.uncork()) Duplex.prototype.pause.call(this)
    if (done) this._release()
  }
}

WireStream.prototype._release = function () {
  const callback = this._held
  this._held = null
  callback()
}

// Lets a held write go (the wire is ending), unless it is being handled:
// then it goes when the handling ends.
WireStream.prototype._letGo = function () {
  if (this._held !== null && !this._handling) this._release()
}

WireStream.prototype.push = function (chunk) {
  const ok = Duplex.prototype.push.call(this, chunk)
  if (!ok) this._congested = true
  return ok
}

// See lib/sockets.js: a pause while a batch is corked waits for its end.
WireStream.prototype.pause = function () {
  const sockets = this._sockets
  if (sockets !== null && sockets.holdPause()) {
    if (sockets.full()) this._congested = true
    return this
  }
  this._congested = true
  return Duplex.prototype.pause.call(this)
}

WireStream.prototype.pipe = function (dest, options) {
  if (this._noDelay) noDelay(dest)
  if (isSocket(dest) && !(dest instanceof WireStream)) {
    if (this._sockets === null) this._sockets = new Sockets(this)
    this._sockets.add(dest)
  }
  return Duplex.prototype.pipe.call(this, dest, options)
}

// The reader wants data: what is queued goes now, not at the end of the
// turn. `read()` flushes too: after a `_read` that found nothing to push,
// Node calls `_read` again only after the next push, and a caller reading
// right after `have()` must get the message.
WireStream.prototype._read = function () {
  this._congested = false
  this._sender.flush()
  if (this._held !== null && !this._handling) this._handle(null)
}

// A reader that resumes (a pipe after its destination drained) wants more
// too, though Node calls `_read` only when the last one pushed something.
WireStream.prototype.resume = function () {
  Duplex.prototype.resume.call(this)
  if (this._held !== null) process.nextTick(resumeHandling, this)
  return this
}

function resumeHandling (wire) {
  if (wire._held === null || wire._handling || !wire.readableFlowing) return
  if (wire.readableLength >= wire.readableHighWaterMark) return
  wire._congested = false
  wire._handle(null)
}

WireStream.prototype.read = function (n) {
  this._sender.flush()
  return Duplex.prototype.read.call(this, n)
}

module.exports = WireStream
