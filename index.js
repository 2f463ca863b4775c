'use strict'

// peer-wire-native: the public Wire, with the behaviour of
// peer-wire-protocol 0.7.1. It keeps what users see and touch (the Duplex,
// events, state properties, request callbacks, timers) and wires the parts
// together; bytes are lib/'s and the Rust core's:
//
//   bytes in:  _write (lib/stream.js) -> Receiver (lib/receiver.js) -> records
//              -> _on* handlers -> events
//   bytes out: public calls -> Sender (lib/sender.js) ops -> native encoder -> push

const util = require('util')
const speedometer = require('speedometer')
const native = require('./lib/native.js')
const Receiver = require('./lib/receiver.js')
const Sender = require('./lib/sender.js')
const bencode = require('./lib/bencode.js')
const WireStream = require('./lib/stream.js')
const { PieceBits, peerPieces } = require('./lib/piece-bits.js')
const { Request, pull, remove } = require('./lib/requests.js')
const { readSpeed, readLimits, readNoDelay, readEncryption } = require('./lib/options.js')
const mse = require('./lib/mse.js')
const { checkUint, checkBytes, checkCallback, isBytes } = require('./lib/checks.js')
const { Extensions, HANDSHAKEN, idOf } = require('./lib/extensions.js')
const fast = require('./lib/fast.js')

const {
  KIND_KEEP_ALIVE,
  MAX_PORT,
  MAX_EXTENDED_ID,
  HANDSHAKE_DHT,
  HANDSHAKE_FAST,
  ID_LENGTH,
  ID_CHOKE,
  ID_UNCHOKE,
  ID_INTERESTED,
  ID_NOT_INTERESTED,
  ID_HAVE,
  ID_BITFIELD,
  ID_REQUEST,
  ID_PIECE,
  ID_CANCEL,
  ID_PORT,
  ID_EXTENDED
} = native

const noop = function () {}

// The Error a request fails with: 0.7.1's message, no stack. Capturing a
// stack costs about 1.5 µs here, five times the rest of the Error, and a
// stack would show only the wire's internals (the dispatch of a record, a
// timer): a program that cancels many requests paid more for it than for
// the protocol.
function requestError (message) {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  const err = new Error(message)
  Error.stackTraceLimit = limit
  return err
}

function onfinish () {
  this._sender.close()
  this._finished = true
  this.push(null) // cannot be half open
  clearInterval(this._keepAlive)
  this._receiver.stop()
  this.peerRequests.length = 0
  while (this.requests.length) this._fail(this.requests.shift(), 'wire is closed')
}

function Wire (opts) {
  if (!(this instanceof Wire)) return new Wire(opts)
  const limits = readLimits(opts)
  const encryption = readEncryption(opts)
  WireStream.call(this, readNoDelay(opts))

  this.amChoking = true
  this.amInterested = false
  this.peerChoking = true
  this.peerInterested = false
  this._pieces = new PieceBits(limits.maxFrameLength)
  this.peerPieces = peerPieces(this._pieces)
  this.peerExtensions = {}
  this.peerAddress = null // external

  this.uploaded = 0
  this.downloaded = 0
  const speed = readSpeed(opts)
  this.uploadSpeed = speedometer(speed)
  this.downloadSpeed = speedometer(speed)

  this.requests = []
  this.peerRequests = []
  this.droppedRequests = 0 // peer requests over the limits, never emitted
  this.protocolError = null // why the peer's bytes were rejected, if they were

  this._maxFrameLength = limits.maxFrameLength // fixed: the receiver was made with it
  this.maxPeerRequests = limits.maxPeerRequests
  this.maxBlockLength = limits.maxBlockLength

  this._receiver = new Receiver(this, limits.maxFrameLength)
  this._sender = new Sender(this)
  this._keepAlive = null
  this._finished = false
  this._closed = false
  this._timeout = 0
  this._ontimeout = null // made by the first _updateTimeout that arms a timer
  this._ext = null // BEP 10: HANDSHAKEN, or the Extensions of the first use()
  this._fast = null // BEP 6: made when our handshake asks for fast (lib/fast.js)
  this._peerFast = null // the fast bit of the peer's handshake, once read

  this.on('finish', onfinish)
  if (encryption !== null) mse.start(this, encryption) // MSE/PE first (lib/mse.js)
}

util.inherits(Wire, WireStream)

// MSE/PE: null until the handshake is done (always, without encryption),
// then 'rc4' or 'plaintext'.
Wire.prototype._encryption = null
Object.defineProperty(Wire.prototype, 'encryption', {
  get () { return this._encryption }
})

Object.defineProperty(Wire.prototype, 'maxFrameLength', {
  get () { return this._maxFrameLength },
  enumerable: true
})

// outbound

Wire.prototype.handshake = function (infoHash, peerId, extensions) {
  if (typeof infoHash === 'string') infoHash = Buffer.from(infoHash, 'hex')
  if (typeof peerId === 'string') peerId = Buffer.from(peerId)
  checkBytes('infoHash', infoHash)
  checkBytes('peerId', peerId)
  if (infoHash.length !== ID_LENGTH || peerId.length !== ID_LENGTH) {
    // 0.7.1's message, as a RangeError (still an Error).
    throw new RangeError(`infoHash and peerId MUST have length ${ID_LENGTH}`)
  }
  const asks = !!(extensions && extensions.fast)
  this._sender.handshake(infoHash, peerId, (extensions && extensions.dht ? HANDSHAKE_DHT : 0) | (asks ? HANDSHAKE_FAST : 0))
  if (asks) fast.ask(this)
  if (this._ext instanceof Extensions) this._ext.onHandshakeSent()
  else this._ext = HANDSHAKEN
}

Wire.prototype.choke = function () {
  if (this.amChoking) return
  this.amChoking = true
  this._sender.queue(ID_CHOKE, 0, 0, 0)
  if (this._fast !== null && this._fast.on) this._fast.onChoke()
  else this.peerRequests.length = 0
}

Wire.prototype.unchoke = function () {
  if (!this.amChoking) return
  this.amChoking = false
  this._sender.queue(ID_UNCHOKE, 0, 0, 0)
}

Wire.prototype.interested = function () {
  if (this.amInterested) return
  this.amInterested = true
  this._sender.queue(ID_INTERESTED, 0, 0, 0)
}

Wire.prototype.uninterested = function () {
  if (!this.amInterested) return
  this.amInterested = false
  this._sender.queue(ID_NOT_INTERESTED, 0, 0, 0)
}

Wire.prototype.have = function (i) {
  checkUint('index', i)
  this._sender.queue(ID_HAVE, i, 0, 0)
}

Wire.prototype.bitfield = function (bitfield) {
  // A Buffer is sent as is; an object holding one (e.g. a `bitfield`
  // instance) by its `.buffer`.
  const bytes = isBytes(bitfield) ? bitfield : bitfield && bitfield.buffer
  checkBytes('bitfield', bytes)
  this._sender.send(ID_BITFIELD, 0, 0, bytes)
}

Wire.prototype.request = function (i, offset, length, callback) {
  checkUint('index', i)
  checkUint('offset', offset)
  checkUint('length', length)
  checkCallback(callback)
  if (!callback) callback = noop
  if (this._finished || this._closed) return callback === noop ? undefined : callback(requestError('wire is closed'))
  if (this.peerChoking && !(this._fast !== null && this._fast.on && this._fast.mayRequest(i))) return callback === noop ? undefined : callback(requestError('peer is choking'))
  this.requests.push(new Request(i, offset, length, callback))
  this._updateTimeout()
  this._sender.queue(ID_REQUEST, i, offset, length)
}

Wire.prototype.piece = function (i, offset, buffer) {
  checkUint('index', i)
  checkUint('offset', offset)
  checkBytes('block', buffer)
  if (this._closed) return
  this.uploaded += buffer.length
  this.uploadSpeed(buffer.length)
  this.emit('upload', buffer.length)
  this._sender.send(ID_PIECE, i, offset, buffer)
}

Wire.prototype.cancel = function (i, offset, length) {
  checkUint('index', i)
  checkUint('offset', offset)
  checkUint('length', length)
  this._fail(pull(this.requests, i, offset, length), 'request was cancelled')
  this._sender.queue(ID_CANCEL, i, offset, length)
}

Wire.prototype.extended = function (id, msg) {
  if (typeof id === 'string') { // BEP 10, by name (see use): the peer's id for it; any view sent as it is
    id = idOf(this._ext, id)
    if (ArrayBuffer.isView(msg) && !isBytes(msg)) msg = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength)
  }
  checkUint('id', id, MAX_EXTENDED_ID)
  // A Buffer is copied, as 0.7.1 does (the caller may reuse it at once);
  // anything else is bencoded.
  if (isBytes(msg)) this._sender.sendCopy(ID_EXTENDED, id, 0, msg)
  else this._sender.send(ID_EXTENDED, id, 0, bencode.encode(msg))
}

// BEP 10 extensions, as bittorrent-protocol's (lib/extensions.js).
Wire.prototype.use = function (Extension) {
  this._extensions().use(Extension)
}

Wire.prototype._extensions = function () {
  if (!(this._ext instanceof Extensions)) this._ext = new Extensions(this, this._ext === HANDSHAKEN)
  return this._ext
}

// btp's state properties; the first read makes the state (not a use()).
for (const name of ['extendedMapping', 'extendedHandshake', 'peerExtendedMapping', 'peerExtendedHandshake']) {
  Object.defineProperty(Wire.prototype, name, {
    get () { return this._extensions()[name] },
    set (value) { this._extensions()[name] = value }
  })
}

// BEP 6 (lib/fast.js): each throws unless both handshakes set the fast bit.
for (const name of fast.METHODS) {
  Wire.prototype[name] = function (i, offset, length) { fast.negotiated(this)[name](i, offset, length) }
}

Object.defineProperty(Wire.prototype, 'hasFast', { get () { return fast.fastOf(this) !== null } })
Object.defineProperty(Wire.prototype, 'peerAllowedFastSet', { get () { return fast.peerAllowedFastSet(this) } })

Wire.prototype.port = function (port) {
  checkUint('port', port, MAX_PORT)
  this._sender.queue(ID_PORT, port, 0, 0)
}

Wire.prototype.setKeepAlive = function (bool) {
  clearInterval(this._keepAlive)
  if (bool === false || this._closed || this._finished) return
  this._keepAlive = setInterval(this._sender.queue.bind(this._sender, KIND_KEEP_ALIVE, 0, 0, 0), 60000)
}

Wire.prototype.setTimeout = function (ms, fn) {
  if (this.requests.length) clearTimeout(this.requests[0].timeout)
  this._timeout = ms
  this._updateTimeout()
  if (fn) this.on('timeout', fn)
}

// Stops parsing at once (no further events from the chunk being read), emits
// 'close' (the reference's behaviour), then ends the stream. Node's
// autoDestroy calls destroy() again after 'end' and 'finish': that second
// call must not emit 'close' again.
Wire.prototype.destroy = function () {
  this._receiver.stop()
  this._sender.close() // what was called before goes out, nothing after
  if (!this._closed) {
    this._closed = true
    this.emit('close')
  }
  this.end()
  // A write held for a reader that is behind is let go, or 'finish' (and
  // the failing of pending requests) would wait for it forever.
  this._letGo()
}

// inbound: one handler per message, called by the Receiver in order

Wire.prototype._onhandshake = function (infoHash, peerId, extensions, peerFast) {
  this.peerExtensions = extensions
  this._peerFast = peerFast
  fast.agree(this, extensions, peerFast)
  // Our handshake sent from a listener sends no extended handshake yet:
  // onPeerHandshake does, after what the listeners send (see lib/extensions.js).
  this._peerHandshaking = true
  try {
    this.emit('handshake', infoHash, peerId, extensions)
  } finally {
    this._peerHandshaking = false
  }
  if (this._ext instanceof Extensions && !this._closed) this._ext.onPeerHandshake(infoHash, peerId, extensions)
}

Wire.prototype._peerHandshaking = false

Wire.prototype._onkeepalive = function () {
  this.emit('keep-alive')
}

Wire.prototype._oninterested = function () {
  this.peerInterested = true
  this.emit('interested')
}

Wire.prototype._onuninterested = function () {
  this.peerInterested = false
  this.emit('uninterested')
}

Wire.prototype._onchoke = function () {
  this.peerChoking = true
  this.emit('choke')
  if (fast.fastOf(this) !== null) return // BEP 6: a choke no longer fails requests
  while (this.requests.length) this._fail(this.requests.shift(), 'peer is choking')
}

Wire.prototype._onunchoke = function () {
  this.peerChoking = false
  this.emit('unchoke')
}

Wire.prototype._onbitfield = function (buffer) {
  this._pieces.setBitfield(buffer)
  this.emit('bitfield', buffer)
}

Wire.prototype._onhave = function (i) {
  this._pieces.set(i, true)
  this.emit('have', i)
}

Wire.prototype._onrequest = function (i, offset, length) {
  const fastOn = fast.fastOf(this) // BEP 6: refused requests are rejected
  if (this.amChoking && !(fastOn !== null && fastOn.serves(i))) return fastOn === null ? undefined : fastOn.refuse(i, offset, length)
  if (length === 0 || length > this.maxBlockLength || this.peerRequests.length >= this.maxPeerRequests) {
    this.droppedRequests++
    return fastOn === null ? undefined : fastOn.refuse(i, offset, length)
  }

  // Answers this request, by identity: a cancelled request, or one already
  // answered, sends nothing, whatever else is pending for the same block.
  const self = this
  const respond = function (err, buffer) {
    if (!remove(self.peerRequests, request)) return
    if (err) return fastOn === null ? undefined : fastOn.refuse(i, offset, length)
    self.piece(i, offset, buffer)
  }
  const request = new Request(i, offset, length, respond)
  this.peerRequests.push(request)
  this.emit('request', i, offset, length, respond)
}

Wire.prototype._oncancel = function (i, offset, length) {
  pull(this.peerRequests, i, offset, length)
  this.emit('cancel', i, offset, length)
}

Wire.prototype._onpiece = function (i, offset, buffer) {
  this._callback(pull(this.requests, i, offset, buffer.length), null, buffer)
  if (this._closed) return // by the callback: no event follows 'close'
  this.downloaded += buffer.length
  this.downloadSpeed(buffer.length)
  this.emit('download', buffer.length)
  if (this._closed) return
  this.emit('piece', i, offset, buffer)
}

Wire.prototype._onport = function (port) {
  this.emit('port', port)
}

Wire.prototype._onextended = function (id, ext) {
  if (this._ext instanceof Extensions) {
    this._ext.onExtended(id, ext)
    if (this._closed) return // by a hook: no event follows 'close'
  }
  this.emit('extended', id, ext)
}

Wire.prototype._onunknown = function (body) {
  this.emit('unknownmessage', body)
}

// A peer broke the protocol: stop reading, tell whoever listens, and end
// the wire in order (pending request callbacks get 'wire is closed').
Wire.prototype._onprotocolerror = function (err) {
  this._receiver.stop()
  this.protocolError = err
  if (this.listenerCount('error') > 0) this.emit('error', err)
  this.destroy()
}

// requests and timers

Wire.prototype._callback = function (request, err, buffer) {
  if (!request) return
  if (request.timeout) clearTimeout(request.timeout)
  if (this._timeout !== 0 && (!this.peerChoking || fast.fastOf(this) !== null) && !this._finished) this._updateTimeout()
  request.callback(err, buffer)
}

// Fails a request with Error(message). A request made without a callback
// (so with noop) gets no Error: nobody could see it.
Wire.prototype._fail = function (request, message) {
  if (!request) return
  this._callback(request, request.callback === noop ? null : requestError(message), null)
}

Wire.prototype._updateTimeout = function () {
  if (!this._timeout || !this.requests.length || this.requests[0].timeout) return
  if (this._ontimeout === null) {
    const self = this
    this._ontimeout = function () {
      if (self._closed) return // the request fails as 'wire is closed'
      self._fail(self.requests.shift(), 'request has timed out')
      self.emit('timeout')
    }
  }
  this.requests[0].timeout = setTimeout(this._ontimeout, this._timeout)
}

// BEP 6's allowed-fast set, for the indexes a program offers a peer.
Wire.allowedFastSet = fast.allowedFastSet

// The bencode the wire reads peers' extended handshakes with, bounded for
// bytes a peer chose (see lib/bencode.js), and writes extended messages with.
Wire.bencode = bencode.api

module.exports = Wire
