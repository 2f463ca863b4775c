'use strict'

// Serves a complete torrent to every peer that connects, on peer-wire-native's
// public API: answer the handshake, send the full bitfield, unchoke peers
// that are interested, answer their requests from storage; serve the info
// dictionary over ut_metadata to peers that have only a magnet link. Peers
// may open with MSE/PE (RC4 selected when offered) or in plaintext.

const net = require('net')
const pwp = require('..')
const { Failure } = require('./failure')
const { CLIENT_NAME, peerId, client } = require('./peer-id')
const { extension } = require('./metadata')

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

// Resolves with the listening net.Server once it listens on host:port.
// onPeer(event) is told of every peer: { type: 'connect' | 'handshake' |
// 'close', address, client, uploaded }.
async function seed ({ torrent, storage, host = '127.0.0.1', port = 6881, onPeer = () => {} }) {
  const Metadata = await extension(torrent.info)
  const bitfield = fullBitfield(torrent.pieceCount)
  const id = peerId()
  const peers = new Set()

  const server = net.createServer((socket) => {
    const address = `${socket.remoteAddress}:${socket.remotePort}`
    const wire = pwp({ encryption: 'prefer', infoHashes: [torrent.infoHash] })
    wire.peerAddress = address
    wire.use(Metadata) // sends our extended handshake (with metadata_size) to peers that support BEP 10
    wire.extendedHandshake.v = CLIENT_NAME
    peers.add(socket)
    let peerClient = null
    onPeer({ type: 'connect', address })

    socket.on('error', () => {}) // the peer went away: 'close' follows
    socket.on('close', () => {
      peers.delete(socket)
      wire.destroy()
      onPeer({ type: 'close', address, client: peerClient, uploaded: wire.uploaded })
    })
    wire.on('error', () => socket.destroy()) // broke the protocol: drop it
    wire.on('close', () => socket.destroy())
    socket.pipe(wire).pipe(socket)

    wire.on('handshake', (infoHash, peer) => {
      if (!Buffer.from(infoHash).equals(torrent.infoHash)) return socket.destroy() // not our torrent
      peerClient = client(peer)
      wire.handshake(torrent.infoHash, id)
      wire.bitfield(bitfield)
      wire.setKeepAlive(true)
      onPeer({ type: 'handshake', address, client: peerClient })
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
  })

  const close = server.close.bind(server)
  server.close = (callback) => {
    for (const socket of peers) socket.destroy()
    return close(callback)
  }

  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      const why = err.code === 'EADDRINUSE'
        ? 'the port is in use'
        : err.code === 'EACCES' ? 'permission denied' : err.message
      reject(new Failure(`cannot listen on ${host}:${port}: ${why}`))
    })
    server.listen(port, host, () => resolve(server))
  })
}

module.exports = { seed, verifyStorage }
