'use strict'

// Serves a complete torrent to every peer that connects, and to the peers it
// is told to dial, on peer-wire-native's public API: exchange handshakes,
// send the full bitfield (have_all to a peer that speaks BEP 6), unchoke
// peers that are interested, answer their requests from storage; serve the
// info dictionary over ut_metadata to peers that have only a magnet link. A
// dialled peer is served exactly as one that connected: only who sends the
// handshake first differs. Encryption (MSE/PE)
// follows `encryption` (./encryption.js): with 'prefer' a peer that connects
// may open with MSE (RC4 selected when offered) or in plaintext, and a
// dialled peer is offered MSE, dialled again in plaintext if it hangs up
// before MSE is done; with 'require', RC4 only, both ways; with 'off',
// plaintext only.

const net = require('net')
const { Failure } = require('./failure')
const { CLIENT_NAME, peerId, client } = require('./peer-id')
const { extension } = require('./metadata')
const { connectError } = require('./connect-error')
const { dialWire, acceptWire, redial } = require('./encryption')

const FAST = { fast: true } // BEP 6, used with the peers that offer it

// Checks every piece of `storage` against the torrent's hashes.
function verifyStorage (torrent, storage, onProgress = () => {}) {
  for (let i = 0; i < torrent.pieceCount; i++) {
    const length = torrent.pieceSize(i)
    if (!torrent.pieceMatches(i, storage.read(i * torrent.pieceLength, length))) {
      throw new Failure(`the data does not match the torrent: piece ${i} fails its SHA-1 check`)
    }
    onProgress({ bytes: i * torrent.pieceLength + length, total: torrent.length })
  }
}

function fullBitfield (pieceCount) {
  const bits = Buffer.alloc(Math.ceil(pieceCount / 8), 0xff)
  if (pieceCount % 8) bits[bits.length - 1] = (0xff << (8 - pieceCount % 8)) & 0xff
  return bits
}

// Resolves with the listening net.Server once it listens on host:port; then
// dials each of `dial` ([{ host, port }]) once (no reconnect, but for the
// encryption redial). onPeer(event)
// is told of every peer: { type: 'connect' | 'handshake' | 'close', address,
// client, uploaded, dialled, encryption } ('rc4', 'plaintext' or null, as
// wire.encryption), and { type: 'failed', address, reason } for a dialled
// peer that could not be reached, closed before its handshake or answered
// with another info hash. server.close() also ends every connection.
async function seed ({ torrent, storage, host = '127.0.0.1', port = 6881, dial = [], encryption = 'prefer', onPeer = () => {} }) {
  const Metadata = extension(torrent.info)
  const bitfield = fullBitfield(torrent.pieceCount)
  const id = peerId()
  const peers = new Set()
  let stopping = false // server.close(): the connections it ends are not failures

  // One connection, whichever side dialled: `address` is the peer's. For a
  // peer we dial, `attempt` is { host, port, plaintext, retry }: whom, how
  // this dial encrypts and whether another may follow (./encryption.js
  // redial); its socket is still connecting (we handshake first once it
  // connects).
  function serve (socket, address, attempt = null) {
    const dialled = attempt !== null
    const wire = dialled ? dialWire(encryption, attempt.plaintext, torrent.infoHash) : acceptWire(encryption, torrent.infoHash)
    wire.peerAddress = address
    wire.use(Metadata) // sends our extended handshake (with metadata_size) to peers that support BEP 10
    wire.extendedHandshake.v = CLIENT_NAME
    peers.add(socket)
    let connected = !dialled
    let peerClient = null
    let refused = false // the peer's handshake named another torrent
    if (connected) onPeer({ type: 'connect', address, dialled })

    socket.on('connect', () => {
      connected = true
      onPeer({ type: 'connect', address, dialled })
      wire.handshake(torrent.infoHash, id, FAST)
    })
    socket.on('error', (err) => {
      if (!connected) onPeer({ type: 'failed', address, reason: connectError(err, address) })
    }) // the peer went away: 'close' follows
    socket.on('close', () => {
      peers.delete(socket)
      wire.destroy()
      const next = dialled && connected && wire.encryption === null && !stopping && redial(encryption, attempt)
      if (next) return dialPeer({ ...attempt, ...next }, address)
      if (dialled && connected && !peerClient && !refused && !stopping) {
        onPeer({ type: 'failed', address, reason: `peer ${address} closed the connection before its handshake (does it have this torrent?)` })
      }
      if (connected) onPeer({ type: 'close', address, client: peerClient, uploaded: wire.uploaded, dialled })
    })
    wire.on('error', () => socket.destroy()) // broke the protocol: drop it
    wire.on('close', () => socket.destroy())
    socket.pipe(wire).pipe(socket)

    wire.on('handshake', (infoHash, peer) => {
      if (!Buffer.from(infoHash).equals(torrent.infoHash)) { // not our torrent
        refused = true
        if (dialled) {
          onPeer({
            type: 'failed',
            address,
            reason: `wrong info hash: peer ${address} answered with ${Buffer.from(infoHash).toString('hex')}, ` +
              `the torrent's is ${torrent.infoHash.toString('hex')}`
          })
        }
        return socket.destroy()
      }
      peerClient = client(peer)
      if (!dialled) wire.handshake(torrent.infoHash, id, FAST)
      // BEP 6: a fast peer's first message is have_all (our extended
      // handshake follows it)
      if (wire.hasFast) wire.haveAll()
      else wire.bitfield(bitfield)
      wire.setKeepAlive(true)
      onPeer({ type: 'handshake', address, client: peerClient, dialled, encryption: wire.encryption })
    })
    wire.on('interested', () => wire.unchoke())
    wire.on('uninterested', () => wire.choke())
    wire.on('request', (index, offset, length, respond) => {
      if (index >= torrent.pieceCount || offset + length > torrent.pieceSize(index)) {
        return socket.destroy() // outside the torrent
      }
      let block
      try {
        block = storage.read(index * torrent.pieceLength + offset, length)
      } catch (err) {
        return socket.destroy()
      }
      respond(null, block)
    })
  }

  const server = net.createServer((socket) => serve(socket, `${socket.remoteAddress}:${socket.remotePort}`))

  const close = server.close.bind(server)
  server.close = (callback) => {
    stopping = true
    for (const socket of peers) socket.destroy()
    return close(callback)
  }

  await new Promise((resolve, reject) => {
    server.once('error', (err) => {
      const why = err.code === 'EADDRINUSE'
        ? 'the port is in use'
        : err.code === 'EACCES' ? 'permission denied' : err.message
      reject(new Failure(`cannot listen on ${host}:${port}: ${why}`))
    })
    server.listen(port, host, resolve)
  })
  function dialPeer (attempt, address) {
    serve(net.connect(attempt.port, attempt.host), address, attempt)
  }
  for (const peer of dial) {
    const address = peer.host.includes(':') ? `[${peer.host}]:${peer.port}` : `${peer.host}:${peer.port}`
    dialPeer({ host: peer.host, port: peer.port, plaintext: false, retry: true }, address)
  }
  return server
}

module.exports = { seed, verifyStorage }
