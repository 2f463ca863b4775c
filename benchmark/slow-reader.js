'use strict'

// A seeder facing a peer that floods requests and never reads (flood-peer.js,
// in a process of its own), in a process of its own: how much memory the
// seeder's process takes. The seeder is written the natural way
// (socket.pipe(wire).pipe(socket), unchoke on interest, every request
// answered at once with a block read into a Buffer of its own, as from a
// disk cache). Samples the RSS growth every 50 ms for SECONDS, and stops
// early once it passes CAP MiB (an unbounded seeder would take the machine).
// Prints JSON: { growth (bytes, the largest sample), capped, ms, answered }.
//
//   node --expose-gc slow-reader.js <impl short name> SECONDS CAP

const net = require('node:net')
const path = require('node:path')
const { fork } = require('node:child_process')
const { load } = require('./impls.js')
const { BLOCK, HASH, ID_B } = require('./workloads.js')

const MiB = 1024 * 1024

async function main () {
  const [short, seconds, cap] = process.argv.slice(2)
  const [impl] = await load(short)
  const data = Buffer.alloc(BLOCK, 0x61)
  const limit = Number(cap) * MiB
  let before = 0
  let t0 = 0
  let growth = 0
  let answered = 0
  let peer = null
  // The sample also runs from the request handler: a JavaScript wire
  // answers a socket's whole chunk of requests in one go, and the timer
  // would wait for it.
  const sample = () => {
    growth = Math.max(growth, process.memoryUsage.rss() - before)
    if (growth > limit || Date.now() - t0 >= Number(seconds) * 1000) finish()
  }
  const finish = () => {
    peer.kill()
    const capped = growth > limit
    process.stdout.write(JSON.stringify({ growth, capped, ms: Date.now() - t0, answered }) + '\n')
    process.exit(0)
  }
  const server = net.createServer((socket) => {
    const wire = impl.create()
    socket.on('error', () => {})
    wire.on('error', () => {})
    socket.pipe(wire).pipe(socket)
    wire.on('handshake', () => wire.handshake(HASH, ID_B))
    wire.on('interested', () => wire.unchoke())
    wire.on('request', (i, offset, length, respond) => {
      if ((++answered & 63) === 0) sample()
      respond(null, Buffer.from(data.subarray(0, length)))
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  global.gc()
  before = process.memoryUsage.rss()
  t0 = Date.now()
  peer = fork(path.join(__dirname, 'flood-peer.js'), [String(server.address().port)], { stdio: 'ignore' })
  setInterval(sample, 50)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
