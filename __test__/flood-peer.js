'use strict'

// A peer in a process of its own (not a test file): connects to a seeder on
// 127.0.0.1:PORT, handshakes, says interested, then sends requests for
// 16 KiB blocks as fast as its socket takes them, for SECONDS seconds.
// READ is how it reads: 'never' (it never reads a byte) or a rate in bytes
// per second. Prints one JSON line when done: what it sent and read.
//
//   node flood-peer.js PORT SECONDS READ

const net = require('node:net')
const { handshakeBytes, frame, u32 } = require('./peer.js')

const [port, seconds, read] = process.argv.slice(2)
const rate = read === 'never' ? 0 : Number(read)
const BLOCK = 16384
const BATCH = 1000 // requests a write

const socket = net.connect(Number(port), '127.0.0.1')
let requested = 0
let received = 0
let stopped = false

function batch () {
  const parts = []
  for (let k = 0; k < BATCH; k++, requested++) {
    parts.push(frame(6, u32(Math.floor(requested / 16), (requested % 16) * BLOCK, BLOCK)))
  }
  return Buffer.concat(parts)
}

function flood () {
  if (stopped) return
  while (socket.write(batch()));
}

socket.on('connect', () => {
  socket.write(Buffer.concat([handshakeBytes(), frame(2)]))
  flood()
  socket.on('drain', flood)
})

socket.pause()
const started = Date.now()
if (rate > 0) {
  // At most `rate` bytes a second: read while under it, pause when over.
  socket.on('data', (chunk) => {
    received += chunk.length
    if (received > rate * (Date.now() - started) / 1000) socket.pause()
  })
  setInterval(() => {
    if (received <= rate * (Date.now() - started) / 1000) socket.resume()
  }, 20).unref()
}
socket.on('error', () => {})

setTimeout(() => {
  stopped = true
  process.stdout.write(JSON.stringify({ requested, received }) + '\n')
  socket.destroy()
  process.exit(0)
}, Number(seconds) * 1000)
