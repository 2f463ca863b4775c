'use strict'

// Event-loop latency under many connections, in a process of its own: a
// server with CONNS loopback TCP connections (the clients in another
// process, loop-clients.js), each peer keeping requests outstanding and
// sending haves; the server answers every request at once from a
// preallocated buffer. Once every connection has handshaken, the server's
// event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) is
// recorded for SECONDS. Prints JSON: { p50, p99, max (ms), blocks (served
// a second while recording) }.
//
//   node --expose-gc event-loop.js <impl short name> CONNS SECONDS

const net = require('node:net')
const path = require('node:path')
const { fork } = require('node:child_process')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { load } = require('./impls.js')
const { BLOCK, HASH, ID_B } = require('./workloads.js')

async function main () {
  const [short, conns, seconds] = process.argv.slice(2)
  const [impl] = await load(short)
  const data = Buffer.alloc(256 * BLOCK, 0x61) // 4 MiB: 256 blocks
  let handshakes = 0
  let answered = 0
  let allIn
  const ready = new Promise((resolve) => { allIn = resolve })
  const server = net.createServer((socket) => {
    const wire = impl.create()
    socket.on('error', () => {})
    wire.on('error', () => {})
    socket.pipe(wire).pipe(socket)
    wire.on('handshake', () => {
      wire.handshake(HASH, ID_B)
      if (++handshakes === Number(conns)) allIn()
    })
    wire.on('interested', () => wire.unchoke())
    wire.on('have', () => {})
    wire.on('request', (i, offset, length, respond) => {
      answered++
      const at = ((i * 16 + offset / BLOCK) % 256) * BLOCK
      respond(null, data.subarray(at, at + length))
    })
  })
  server.maxConnections = Number(conns)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', 1024, resolve))
  const clients = fork(path.join(__dirname, 'loop-clients.js'), [String(server.address().port), conns], { stdio: 'ignore' })
  await ready
  await new Promise((resolve) => setTimeout(resolve, 500)) // the connections' first bursts
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  const from = answered
  const t0 = Date.now()
  histogram.enable()
  await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000))
  histogram.disable()
  const blocks = (answered - from) / ((Date.now() - t0) / 1000)
  clients.kill()
  const ms = (ns) => ns / 1e6
  process.stdout.write(JSON.stringify({
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    blocks
  }) + '\n')
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
