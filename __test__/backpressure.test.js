'use strict'

// Backpressure end to end, over loopback TCP: a seeder written the natural
// way (socket.pipe(wire).pipe(socket), every request answered at once from
// one preallocated block) against a peer that floods requests and reads
// slowly or never (in a process of its own, flood-peer.js), and against a
// polite peer keeping 2000 requests outstanding. The seeder's memory (JS
// heap and buffers outside it, after a full GC) must stay within a small
// budget: the wire stops taking the peer's bytes while its reader is
// behind, so the requests wait in the kernel, not in the process.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const path = require('node:path')
const v8 = require('node:v8')
const vm = require('node:vm')
const { execFile } = require('node:child_process')
const pwp = require('..')
const { HASH } = require('./peer.js')

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

const MiB = 1024 * 1024
const BLOCK = 16384
const SECONDS = 10
const BUDGET = 32 * MiB
const SEEDER_ID = Buffer.from('-PW0001-seeder-00000')

function held () {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

// A seeder as users write one; `stats` counts what it answered.
function seeder () {
  const block = Buffer.alloc(BLOCK, 7)
  const stats = { requests: 0, wires: [] }
  const server = net.createServer((socket) => {
    const wire = pwp()
    stats.wires.push(wire)
    socket.on('error', () => {})
    wire.on('error', () => {})
    socket.pipe(wire).pipe(socket)
    wire.on('handshake', (infoHash) => {
      wire.handshake(infoHash, SEEDER_ID)
      wire.unchoke()
    })
    wire.on('request', (i, offset, length, respond) => {
      stats.requests++
      respond(null, block.subarray(0, length))
    })
    wire.on('close', () => socket.destroy())
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, stats })))
}

// Runs flood-peer.js against the seeder for SECONDS, sampling the memory
// the seeder's process holds; stops early once over budget.
async function flood (read) {
  const { server, stats } = await seeder()
  const before = held()
  let most = 0
  const child = execFile(process.execPath, [path.join(__dirname, 'flood-peer.js'), server.address().port, SECONDS, read])
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const sampler = setInterval(() => {
    most = Math.max(most, held() - before)
    if (most > 4 * BUDGET) child.kill() // the defect: no need to wait for gigabytes
  }, 250)
  await exited
  clearInterval(sampler)
  most = Math.max(most, held() - before)
  for (const wire of stats.wires) wire.destroy()
  server.close()
  return { most, stats, peer: out ? JSON.parse(out) : null }
}

test(`a peer that floods requests and never reads: the seeder stays within ${BUDGET / MiB} MiB for ${SECONDS} s`, async () => {
  const { most, stats, peer } = await flood('never')
  assert.ok(peer, 'the peer ran to the end (it was not stopped for the seeder holding over 4x the budget)')
  assert.ok(most <= BUDGET, `the seeder grew by ${(most / MiB).toFixed(1)} MiB`)
  // It answered what fits the socket buffers, then stopped taking requests.
  assert.ok(stats.requests > 0)
  assert.ok(stats.requests < peer.requested, `${stats.requests} of ${peer.requested} requests taken`)
})

test(`a peer that floods requests and reads at 256 KiB/s: the seeder stays within ${BUDGET / MiB} MiB for ${SECONDS} s and keeps serving`, async () => {
  const { most, stats, peer } = await flood(String(256 * 1024))
  assert.ok(peer, 'the peer ran to the end')
  assert.ok(most <= BUDGET, `the seeder grew by ${(most / MiB).toFixed(1)} MiB`)
  assert.ok(peer.received > 0, 'the peer received blocks')
  assert.ok(stats.requests < peer.requested)
})

test('a polite peer keeping 2000 requests outstanding gets every block, and the seeder stays bounded', async () => {
  const { server, stats } = await seeder()
  const before = held()
  let most = 0
  const TOTAL = 64 * MiB / BLOCK // blocks
  const socket = net.connect(server.address().port, '127.0.0.1')
  const wire = pwp()
  socket.pipe(wire).pipe(socket)
  let sent = 0
  let got = 0
  let bad = 0
  const done = new Promise((resolve, reject) => {
    const ask = () => {
      while (sent < TOTAL && wire.requests.length < 2000) {
        const k = sent++
        wire.request(k >> 4, (k & 15) * BLOCK, BLOCK, (err, block) => {
          if (err) return reject(err)
          if (block.length !== BLOCK || block[0] !== 7 || block[BLOCK - 1] !== 7) bad++
          if (++got === TOTAL) resolve()
          else if (got % 512 === 0) most = Math.max(most, held() - before)
          ask()
        })
      }
    }
    wire.on('unchoke', ask)
    wire.on('close', () => reject(new Error('closed before the end')))
  })
  wire.handshake(HASH, Buffer.from('-PW0001-leecher-0000'))
  wire.interested()
  await done
  assert.equal(got, TOTAL)
  assert.equal(bad, 0)
  assert.equal(stats.requests, TOTAL)
  assert.ok(most <= BUDGET, `the process grew by ${(most / MiB).toFixed(1)} MiB`)
  wire.destroy()
  for (const w of stats.wires) w.destroy()
  server.close()
})
