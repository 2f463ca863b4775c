'use strict'

// A peer for slow-reader.js, in a process of its own: connects to
// 127.0.0.1:PORT, handshakes, says interested, then sends requests for
// 16 KiB blocks as fast as its socket takes them, and never reads a byte.
//
//   node flood-peer.js PORT

const net = require('node:net')

const BLOCK = 16384
const BATCH = 1000 // requests a write

const [port] = process.argv.slice(2)
const socket = net.connect(Number(port), '127.0.0.1')
socket.pause()
socket.on('error', () => {})

const handshake = Buffer.alloc(68)
handshake[0] = 19
handshake.write('BitTorrent protocol', 1, 'latin1')
handshake.fill(0x11, 28, 48)
handshake.write('-PW0001-floodfloodfl', 48, 'latin1')
const interested = Buffer.from([0, 0, 0, 1, 2])

let requested = 0
function batch () {
  const out = Buffer.alloc(17 * BATCH)
  for (let k = 0; k < BATCH; k++, requested++) {
    const at = 17 * k
    out.writeUInt32BE(13, at)
    out[at + 4] = 6
    out.writeUInt32BE(Math.floor(requested / 16), at + 5)
    out.writeUInt32BE((requested % 16) * BLOCK, at + 9)
    out.writeUInt32BE(BLOCK, at + 13)
  }
  return out
}

function flood () {
  while (socket.write(batch()));
}

socket.on('connect', () => {
  socket.write(Buffer.concat([handshake, interested]))
  flood()
  socket.on('drain', flood)
})
