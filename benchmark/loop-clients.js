'use strict'

// The clients of event-loop.js, in a process of their own: CONNS loopback
// TCP connections to 127.0.0.1:PORT, each a peer that handshakes, says
// interested and, once unchoked, keeps WINDOW (2) requests for 16 KiB blocks
// outstanding, sending a new request and a have for every block that
// arrives, but no more than RATE (30) requests a second: the same load
// (15,000 blocks a second for 500 connections) for every implementation
// that can serve it. Until killed. Raw bytes, so that every implementation's server
// faces the same clients.
//
//   node loop-clients.js PORT CONNS

const net = require('node:net')

const BLOCK = 16384
const WINDOW = 2
const RATE = 30
const HEAD = 68 + 5 // the server's handshake and unchoke
const PIECE = 13 + BLOCK

const [port, conns] = process.argv.slice(2)

const handshake = Buffer.alloc(68)
handshake[0] = 19
handshake.write('BitTorrent protocol', 1, 'latin1')
handshake.fill(0x11, 28, 48)
const interested = Buffer.from([0, 0, 0, 1, 2])

function request (n) {
  const out = Buffer.alloc(17 + 9)
  out.writeUInt32BE(13, 0)
  out[4] = 6
  out.writeUInt32BE(Math.floor(n / 16) % 1000, 5)
  out.writeUInt32BE((n % 16) * BLOCK, 9)
  out.writeUInt32BE(BLOCK, 13)
  out.writeUInt32BE(5, 17)
  out[21] = 4
  out.writeUInt32BE(n % 100000, 22)
  return out
}

function client (k) {
  const socket = net.connect(Number(port), '127.0.0.1')
  socket.on('error', () => {})
  let received = 0
  let sent = 0
  let started = 0 // when the unchoke came
  const pump = () => {
    if (started === 0) return
    const blocks = Math.floor((received - HEAD) / PIECE)
    const allowed = WINDOW + Math.floor(RATE * (Date.now() - started) / 1000)
    const parts = []
    while (sent < blocks + WINDOW && sent < allowed) parts.push(request(sent++))
    if (parts.length) socket.write(parts.length === 1 ? parts[0] : Buffer.concat(parts))
  }
  pumps.push(pump)
  socket.on('connect', () => {
    const id = Buffer.alloc(20, 0x30 + (k % 10))
    id.write(`-PW0001-${k}`, 'latin1')
    socket.write(Buffer.concat([handshake.subarray(0, 48), id, interested]))
  })
  socket.on('data', (chunk) => {
    received += chunk.length
    if (received < HEAD) return
    if (started === 0) started = Date.now()
    pump()
  })
}

const pumps = []
for (let k = 0; k < Number(conns); k++) client(k)
setInterval(() => { for (const pump of pumps) pump() }, 10)
