'use strict'

// The info dictionary over ut_metadata (BEP 9), with the ut_metadata package
// on peer-wire-native's wire.use(): fetched from peers given only the info
// hash of a magnet link, and served to them. Version 3.5.2, the CommonJS
// one: 5.x declares Node >= 22 (its bitfield >= 20.19), and the package
// supports Node 18.
//
// ut_metadata decodes what a peer sends with bencode 2.0.3, which hangs on
// some malformed input and has no depth limit: the extension is wrapped so
// that a message reaches it only once the wire's bounded bencode
// (`pwp.bencode`) has read its bencoded part, and assembled metadata only
// once it is well-formed. The size a peer announces is bounded at 4 MiB
// (libtorrent's limit; the package's own is 10 MB). ut_metadata checks the
// SHA-1 against the info hash; so does this.

const crypto = require('crypto')
const net = require('net')
const { Failure } = require('./failure')
const { bencode } = require('..')
const { CLIENT_NAME, peerId } = require('./peer-id')
const { connectError } = require('./connect-error')
const { dialWire, redial } = require('./encryption')
const utMetadata = require('ut_metadata')

const MAX_METADATA_SIZE = 4 * 1024 * 1024
// A message's dictionary ({ msg_type, piece, total_size }), and an info
// dictionary (many files, many values: see ./torrent.js).
const MESSAGE_LIMITS = { maxDepth: 2, maxValues: 16 }
const METADATA_LIMITS = { maxDepth: 100, maxValues: 2000000 }

// Where the bencoded value at the start of `bytes` ends, or -1 when it is
// malformed or past the limits.
function endOf (bytes, limits) {
  try {
    return bencode.end(bytes, 0, limits)
  } catch (err) {
    return -1
  }
}

// The ut_metadata extension class for wire.use(), guarded as above;
// `metadata` (the info dictionary's bytes) to serve it, nothing to fetch it.
function extension (metadata) {
  const Base = utMetadata(metadata)
  class GuardedMetadata extends Base {
    onExtendedHandshake (handshake) {
      const size = handshake.metadata_size
      if (typeof size === 'number' && size > MAX_METADATA_SIZE) {
        return this.emit('warning', new Error(`metadata_size ${size} is over the limit of ${MAX_METADATA_SIZE} bytes`))
      }
      return super.onExtendedHandshake(handshake)
    }

    onMessage (buf) {
      // ut_metadata decodes up to the first 'ee': that part must be one
      // well-formed dictionary of plain ASCII
      const end = buf.indexOf('ee') + 2
      if (end < 2 || endOf(buf, MESSAGE_LIMITS) !== end) return
      for (let i = 0; i < end; i++) if (buf[i] > 0x7e) return
      return super.onMessage(buf)
    }

    setMetadata (data) {
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.length)
      if (endOf(bytes, METADATA_LIMITS) !== bytes.length) return false
      return super.setMetadata(data)
    }
  }
  return GuardedMetadata
}

function sha1 (data) {
  return crypto.createHash('sha1').update(data).digest()
}

// Fetches the info dictionary from one peer: resolves with its bytes
// (SHA-1 checked against `infoHash`), rejects with a Failure. `stop` is
// given a function that ends the attempt (it then never settles). The
// connection follows `encryption` (./encryption.js), redialled as the
// download's are when the peer hangs up before MSE is done.
function fetchFrom ({ infoHash, host, port, timeout, encryption = 'off', stop = () => {} }) {
  const Extension = extension()
  const where = `${host}:${port}`
  return new Promise((resolve, reject) => {
    let done = false
    let socket = null
    let wire = null
    const timer = setTimeout(() => finish(new Failure(`peer ${where} sent no metadata within ${timeout / 1000} s`)), timeout)
    function finish (err, value) {
      if (done) return
      done = true
      clearTimeout(timer)
      wire.destroy()
      socket.destroy()
      if (err) reject(err)
      else resolve(value)
    }
    stop(() => {
      done = true
      clearTimeout(timer)
      wire.destroy()
      socket.destroy()
    })
    function dial (attempt) {
      socket = net.connect({ host, port })
      wire = dialWire(encryption, attempt.plaintext, infoHash)
      const [s, w] = [socket, wire]
      let connected = false
      s.on('error', (err) => finish(new Failure(w.peerId ? `connection to peer ${where} failed: ${err.message}` : connectError(err, where))))
      s.on('close', () => {
        const next = !done && connected && w.encryption === null && redial(encryption, attempt)
        if (next) return dial(next)
        finish(new Failure(`peer ${where} closed the connection before sending the metadata`))
      })
      w.on('error', (err) => finish(new Failure(`peer ${where} broke the protocol: ${err.message}`)))
      s.pipe(w).pipe(s)
      w.use(Extension)
      w.extendedHandshake.v = CLIENT_NAME
      w.ut_metadata.on('warning', (err) => finish(new Failure(`peer ${where} cannot send the metadata: ${err.message}`)))
      w.ut_metadata.on('metadata', () => {
        const info = Buffer.from(w.ut_metadata.metadata)
        if (!sha1(info).equals(infoHash)) return finish(new Failure(`peer ${where} sent metadata of another info hash`))
        finish(null, info)
      })
      w.on('handshake', (peerInfoHash, id, extensions) => {
        if (!Buffer.from(peerInfoHash).equals(infoHash)) return finish(new Failure(`wrong info hash: peer ${where} answered with ${Buffer.from(peerInfoHash).toString('hex')}`))
        if (!extensions.extended) return finish(new Failure(`peer ${where} does not speak the extension protocol (BEP 10): it cannot send metadata`))
        w.ut_metadata.fetch()
      })
      s.on('connect', () => {
        connected = true
        w.handshake(infoHash, peerId())
      })
    }
    dial({ plaintext: false, retry: true })
  })
}

// The info dictionary from the first of `peers` ([{ host, port }]) to send
// it (the others' connections are then closed); fails only when every peer
// failed, with each one's reason.
function fetchMetadata ({ infoHash, peers, timeout = 30000, encryption = 'off', onPeerFailed = () => {} }) {
  return new Promise((resolve, reject) => {
    const reasons = []
    const stops = []
    let settled = false
    for (const { host, port } of peers) {
      fetchFrom({ infoHash, host, port, timeout, encryption, stop: (fn) => stops.push(fn) }).then((info) => {
        if (!settled) {
          settled = true
          for (const stop of stops) stop()
          resolve({ info, peer: `${host}:${port}` })
        }
      }, (err) => {
        reasons.push(err.message)
        onPeerFailed(err.message)
        if (!settled && reasons.length === peers.length) {
          settled = true
          reject(new Failure(peers.length === 1 ? reasons[0] : `no peer sent the metadata: ${reasons.join('; ')}`))
        }
      })
    }
  })
}

module.exports = { extension, fetchMetadata, MAX_METADATA_SIZE }
