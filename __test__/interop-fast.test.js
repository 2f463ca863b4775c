'use strict'

// The fast extension (BEP 6) against real clients, on 127.0.0.1 only:
// libtorrent-rasterbar (libtorrent_peer.py), as a seed and as a leecher,
// and aria2 as a seed (it cannot dial a given peer: we connect to its
// listening port). Each test is bounded in time; the aria2 test skips,
// saying why, only when aria2c is not installed (.ci/run installs it).

const test = require('node:test')
const assert = require('node:assert')
const { spawn, spawnSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const net = require('net')
const path = require('path')
const bencode = require('bencode')
const pwp = require('..')
const { createTorrent, payloadTorrent, startPeer, payload, sha1, within, startSeed, dial } = require('./libtorrent')
const { tmpdir: tmp } = require('./tmpdir')

const BLOCK = 16384
const PIECE = 32768
const PEER_ID = Buffer.from('-PW0100-interopfast1')
const FAST_EVENTS = ['have-all', 'have-none', 'suggest', 'reject', 'allowed-fast']

const tmpdir = (t) => tmp(t, 'pwn-interop-fast-')

// Logs the wire's fast events (and choke/unchoke) as [name, ...args].
function record (wire) {
  const log = []
  for (const name of FAST_EVENTS.concat('choke', 'unchoke')) wire.on(name, (...args) => log.push([name, ...args]))
  return log
}

// Downloads `size` bytes in PIECE-byte pieces: a piece the peer allows fast
// is requested as soon as it is allowed (while the peer still chokes us,
// which BEP 6 permits), the rest once unchoked; a rejected request is asked
// again once unchoked. Resolves with the payload and what was served while
// choked.
function download (wire, size) {
  const received = Buffer.alloc(size)
  const blocks = []
  for (let offset = 0; offset < size; offset += BLOCK) blocks.push({ offset, asked: false, done: false })
  let left = blocks.length
  const whileChoked = new Set()
  return new Promise((resolve, reject) => {
    function ask (block) {
      block.asked = true
      const index = Math.floor(block.offset / PIECE)
      const length = Math.min(BLOCK, size - block.offset)
      const choked = wire.peerChoking
      wire.request(index, block.offset % PIECE, length, (err, data) => {
        if (err) {
          if (err.message === 'request was rejected' || err.message === 'peer is choking') {
            block.asked = false
            if (!wire.peerChoking) ask(block)
            return
          }
          return reject(err)
        }
        if (block.done) return
        if (choked) whileChoked.add(index)
        block.done = true
        Buffer.from(data).copy(received, block.offset)
        if (--left === 0) resolve({ received, whileChoked })
      })
    }
    wire.on('allowed-fast', (index) => {
      for (const block of blocks) if (!block.asked && Math.floor(block.offset / PIECE) === index) ask(block)
    })
    wire.on('unchoke', () => {
      for (const block of blocks) if (!block.asked && !block.done) ask(block)
    })
    wire.on('close', () => reject(new Error('the wire closed before the download finished')))
  })
}

test('fast with a libtorrent seed: have-all, allowed-fast after interested, a verified download', async (t) => {
  const dir = tmpdir(t)
  const data = payload(1000001, 'fast-seed') // 31 pieces, a short last one
  fs.writeFileSync(path.join(dir, 'payload.bin'), data)
  const meta = createTorrent(path.join(dir, 'payload.bin'), path.join(dir, 'payload.torrent'), { pieceLength: PIECE })

  const { port } = await startSeed(t, path.join(dir, 'payload.torrent'), dir)

  const wire = pwp()
  const socket = dial(t, port, wire)
  const log = record(wire)
  let extensions = null
  wire.on('handshake', (infoHash, peerId, ext) => {
    extensions = ext
    wire.haveNone() // BEP 6: one of have-all/have-none/bitfield first
    wire.interested()
  })
  const done = download(wire, data.length)
  wire.handshake(meta.info_hash, PEER_ID, { fast: true })

  const { received } = await within(done, 20000, () => `no complete download from libtorrent; fast events: ${JSON.stringify(log)}`)
  assert.deepStrictEqual(extensions, { dht: true, extended: true, fast: true })
  assert.strictEqual(wire.hasFast, true)
  for (let i = 0; i < meta.num_pieces; i++) {
    assert.strictEqual(sha1(received.subarray(i * PIECE, (i + 1) * PIECE)), meta.pieces[i], `piece ${i}`)
  }
  // a seed tells a fast peer with have-all, first; every piece reads as had
  assert.deepStrictEqual(log[0], ['have-all'])
  assert.strictEqual(wire.peerPieces.get(meta.num_pieces - 1), true)
  wire.peerPieces.length = meta.num_pieces
  assert.strictEqual(Object.keys(wire.peerPieces).length, meta.num_pieces)
  // libtorrent's allowed-fast set: 5 pieces, after our interested
  const allowed = log.filter((e) => e[0] === 'allowed-fast').map((e) => e[1])
  assert.strictEqual(allowed.length, 5, JSON.stringify(log))
  assert.deepStrictEqual(wire.peerAllowedFastSet, allowed)
  for (const i of allowed) assert.ok(i < meta.num_pieces)
  assert.strictEqual(wire.protocolError, null)
  socket.end()
  wire.end()
})

test('fast with a libtorrent leecher: we seed with have-all and allowed-fast, choke once mid-way (rejecting); libtorrent verifies every piece', async (t) => {
  const { data, meta, torrent: torrentFile, target } = payloadTorrent(tmpdir(t), 700000, 'fast-leech', PIECE) // 22 pieces

  const seen = { extensions: null, log: null, requests: 0, hasFast: false, keptAtChoke: null, pendingAtChoke: 0 }
  const sockets = new Set()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    const wire = pwp()
    socket.pipe(wire).pipe(socket)
    seen.log = record(wire)
    wire.on('handshake', (infoHash, peerId, extensions) => {
      wire.handshake(infoHash, PEER_ID, { fast: true }) // a responder decides here
      seen.extensions = extensions
      seen.hasFast = wire.hasFast
      wire.haveAll()
      wire.allowedFast(0)
      wire.allowedFast(1)
    })
    wire.on('interested', () => wire.unchoke())
    const responders = []
    wire.on('request', (index, offset, length, respond) => {
      seen.requests++
      const start = index * PIECE + offset
      if (seen.keptAtChoke !== null) return respond(null, data.subarray(start, start + length))
      // Requests for pieces outside our allowed-fast set (0 and 1, which
      // libtorrent asks for first, and which are answered at once) wait,
      // from the first of them for 100 ms; then we choke: the pending ones
      // outside that set are rejected (libtorrent asks again once we
      // unchoke).
      if (index <= 1) return respond(null, data.subarray(start, start + length))
      responders.push(index)
      if (responders.length > 1) return
      setTimeout(() => {
        seen.pendingAtChoke = wire.peerRequests.length
        wire.choke()
        seen.keptAtChoke = wire.peerRequests.map((r) => r.piece)
        setTimeout(() => wire.unchoke(), 200)
      }, 100)
    })
  })
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))

  const leech = startPeer(t, ['leech', torrentFile, target, `127.0.0.1:${server.address().port}`])
  const finished = await leech.waitFor('finished', { timeout: 30000, fatal: ['error', 'banned', 'hash_failed'] })
  assert.strictEqual(finished.pieces, meta.num_pieces)
  assert.strictEqual(finished.hash_failures, 0)
  assert.ok(fs.readFileSync(path.join(target, 'payload.bin')).equals(data))
  assert.deepStrictEqual(seen.extensions, { dht: true, extended: true, fast: true })
  assert.strictEqual(seen.hasFast, true)
  assert.ok(seen.requests >= Math.ceil(data.length / BLOCK))
  assert.ok(seen.pendingAtChoke > 0, JSON.stringify(seen))
  assert.deepStrictEqual(seen.keptAtChoke, [])
})

// aria2

function aria2Version () {
  const r = spawnSync('aria2c', ['--version'], { encoding: 'utf8', timeout: 10000 })
  if (r.error || r.status !== 0) return null
  return r.stdout.split('\n')[0].replace(/^aria2 version /, '')
}

// A single-file v1 .torrent, written here (aria2 1.36 reads no v2).
function writeTorrent (file, data, torrentFile) {
  const hashes = []
  for (let i = 0; i < data.length; i += PIECE) hashes.push(crypto.createHash('sha1').update(data.subarray(i, i + PIECE)).digest())
  const info = { length: data.length, name: Buffer.from(path.basename(file)), 'piece length': PIECE, pieces: Buffer.concat(hashes) }
  fs.writeFileSync(torrentFile, bencode.encode({ info }))
  return { infoHash: sha1(bencode.encode(info)), pieces: hashes.map((h) => h.toString('hex')) }
}

function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// Starts aria2c seeding `torrentFile` from `dir`, confined to 127.0.0.1;
// resolves once it listens. Killed after the test.
async function startAria2 (t, dir, torrentFile) {
  const port = await freePort()
  const proc = spawn('aria2c', [
    `--dir=${dir}`, '--seed-ratio=0.0', '--check-integrity=true', `--listen-port=${port}`,
    '--interface=127.0.0.1', '--disable-ipv6=true', '--enable-dht=false', '--enable-dht6=false',
    '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--bt-exclude-tracker=*',
    '--no-conf=true', '--summary-interval=0', '--console-log-level=notice', '--stop=40',
    torrentFile
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout.on('data', (chunk) => { output += chunk })
  proc.stderr.on('data', (chunk) => { output += chunk })
  t.after(() => proc.kill('SIGKILL'))
  const listening = new Promise((resolve, reject) => {
    const check = () => { if (/listening on TCP port/.test(output)) resolve() }
    proc.stdout.on('data', check)
    proc.on('exit', (code) => reject(new Error(`aria2c exited (${code}) before listening:\n${output}`)))
  })
  await within(listening, 15000, 'aria2c did not listen within 15 s')
  return { port, output: () => output }
}

test('fast with an aria2 seed: have-none first, have-all and allowed-fast (also from a seed), a verified download', async (t) => {
  const version = aria2Version()
  if (version === null) return t.skip('aria2c is not installed (apt-get install -y aria2; .ci/run does)')
  const dir = tmpdir(t)
  const data = payload(400000, 'fast-aria2') // 13 pieces, a short last one
  const file = path.join(dir, 'payload.bin')
  fs.writeFileSync(file, data)
  const meta = writeTorrent(file, data, path.join(dir, 'payload.torrent'))
  const aria2 = await startAria2(t, dir, path.join(dir, 'payload.torrent'))

  const wire = pwp()
  const socket = dial(t, aria2.port, wire)
  const log = record(wire)
  let extensions = null
  wire.on('handshake', (infoHash, peerId, ext) => {
    extensions = ext
    wire.haveNone() // aria2 drops a fast peer whose first message is not one of these
    wire.interested()
  })
  const done = download(wire, data.length)
  wire.handshake(meta.infoHash, PEER_ID, { fast: true })

  const { received } = await within(done, 20000, () => `no complete download from aria2 ${version}; fast events: ${JSON.stringify(log)}\n${aria2.output()}`)
  assert.deepStrictEqual(extensions, { dht: false, extended: true, fast: true })
  assert.strictEqual(wire.hasFast, true)
  for (let i = 0; i < meta.pieces.length; i++) {
    assert.strictEqual(sha1(received.subarray(i * PIECE, (i + 1) * PIECE)), meta.pieces[i], `piece ${i}`)
  }
  assert.deepStrictEqual(log[0], ['have-all'])
  assert.strictEqual(wire.peerPieces.get(0), true)
  // aria2's allowed-fast set, even as a seed: 10 pieces (all of a smaller torrent)
  const allowed = log.filter((e) => e[0] === 'allowed-fast').map((e) => e[1])
  assert.strictEqual(allowed.length, Math.min(10, meta.pieces.length), JSON.stringify(log))
  assert.deepStrictEqual([...wire.peerAllowedFastSet].sort((a, b) => a - b), [...allowed].sort((a, b) => a - b))
  assert.strictEqual(wire.protocolError, null)
  socket.end()
  wire.end()
})
