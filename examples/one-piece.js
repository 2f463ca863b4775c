'use strict'

// Seed one piece and download it over TCP: a seeder answers requests from
// memory, a leecher asks for the piece in two 16 KiB blocks and checks it.

const crypto = require('crypto')
const net = require('net')
const pwp = require('peer-wire-native')

const sha1 = (data) => crypto.createHash('sha1').update(data).digest()
const piece = crypto.randomBytes(32768) // piece 0 of a torrent
const pieceHash = sha1(piece) // as the torrent lists it
const infoHash = crypto.randomBytes(20) // the SHA-1 of the torrent's info dictionary

const server = net.createServer((socket) => {
  const wire = pwp()
  socket.pipe(wire).pipe(socket)
  wire.on('handshake', (hash) => {
    wire.handshake(hash, Buffer.from('-EX0001-seeder000000'))
    wire.bitfield(Buffer.from([0x80])) // we have piece 0
  })
  wire.on('interested', () => wire.unchoke())
  wire.on('request', (index, offset, length, respond) => respond(null, piece.subarray(offset, offset + length)))
})

server.listen(0, '127.0.0.1', () => {
  const socket = net.connect(server.address().port, '127.0.0.1')
  const wire = pwp()
  socket.pipe(wire).pipe(socket)
  wire.handshake(infoHash, Buffer.from('-EX0001-leecher00000'))
  wire.on('handshake', () => wire.interested())
  wire.once('unchoke', () => {
    const blocks = [0, 16384].map((offset) => new Promise((resolve, reject) => {
      wire.request(0, offset, 16384, (err, block) => err ? reject(err) : resolve(block))
    }))
    Promise.all(blocks).then((blocks) => {
      const got = Buffer.concat(blocks)
      console.log(`downloaded piece 0: ${got.length} bytes, SHA-1 ${sha1(got).equals(pieceHash) ? 'ok' : 'WRONG'}`)
      socket.end()
      server.close()
    })
  })
})
