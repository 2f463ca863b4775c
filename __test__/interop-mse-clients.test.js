'use strict'

// Encryption (MSE/PE) against aria2, Transmission and rtorrent, each made to
// require RC4 (aria2 --bt-force-encryption=true; Transmission settings.json
// `encryption` 2; rtorrent protocol.encryption require,require_RC4), in
// both directions: as a seed (our wire, and `fetch`, dial it) and as a
// leecher (none is told to dial us: `seed --peer` dials its port, and it
// answers as the MSE responder). Every download is
// SHA-1 checked; RC4 is read from `wire.encryption` or from the command's
// ", encrypted (MSE, RC4)"; that the client really requires encryption is
// shown by a plaintext attempt it refuses. All on 127.0.0.1 with DHT, PEX,
// local discovery and trackers off (./clients.js); a test skips, saying
// why, only when its client is not installed (.ci/run installs them).

const test = require('node:test')
const assert = require('node:assert')
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')
const pwp = require('..')
const { createTorrent, payload, sha1, within } = require('./libtorrent')
const { missing, startAria2, startTransmission, startRtorrent } = require('./clients')
const { run, startSeed, fileReaches } = require('./command')

const BLOCK = 16384
const PIECE = 32768
const PEER_ID = Buffer.from('-PW0100-interopmsec1')
// each client: its command, and its peer id as the command prints it
const CLIENTS = {
  aria2: { command: 'aria2c', id: /\(A2-1-36-[^)]*\)/ },
  Transmission: { command: 'transmission-cli', id: /\(-TR3000-\)/ },
  rtorrent: { command: 'rtorrent', id: /\(-lt0D80-\)/ } // libtorrent (rakshasa) 0.13.8
}

// A v1 torrent (aria2 1.36 and Transmission 3 know no v2) of `size` bytes
// as NAME in dir/src, with an empty dir/dst for a leecher.
function setup (t, name, size, seed) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwn-interop-msec-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const data = payload(size, seed)
  fs.mkdirSync(path.join(dir, 'src'))
  fs.mkdirSync(path.join(dir, 'dst'))
  fs.writeFileSync(path.join(dir, 'src', name), data)
  const torrent = path.join(dir, `${name}.torrent`)
  const meta = createTorrent(path.join(dir, 'src', name), torrent, { pieceLength: PIECE, v1Only: true })
  return { dir, data, meta, torrent, src: path.join(dir, 'src'), dst: path.join(dir, 'dst') }
}

function sha1Of (file) {
  return fs.existsSync(file) ? sha1(fs.readFileSync(file)) : null
}

// `fetch TORRENT --peer 127.0.0.1:PORT --out DIR ...args`.
function fetch (torrent, port, out, args, timeout) {
  return run(['fetch', torrent, '--peer', `127.0.0.1:${port}`, '--out', out, ...args], { timeout })
}

// `client` requiring RC4, seeding from `dir` (or with `leech`, downloading
// into it).
function startClient (t, client, torrent, dir, { leech = false } = {}) {
  const workDir = path.join(dir, '..', `${client}-${leech ? 'leech' : 'seed'}`)
  if (client === 'aria2') return startAria2(t, torrent, dir, { leech, forceEncryption: true })
  if (client === 'Transmission') return startTransmission(t, torrent, dir, workDir, { leech, requireEncryption: true })
  return startRtorrent(t, torrent, dir, workDir, { leech, requireEncryption: true })
}

test('our wire (\'require\') downloads from an aria2 seed with --bt-force-encryption: RC4, every piece SHA-1 checked', { timeout: 60000 }, async (t) => {
  const why = missing('aria2c')
  if (why) return t.skip(why)
  const { data, meta, torrent, src } = setup(t, 'wire.bin', 700001, 301)
  const aria2 = await startAria2(t, torrent, src, { forceEncryption: true })

  const socket = net.connect(aria2.port, '127.0.0.1')
  socket.on('error', () => {})
  t.after(() => socket.destroy())
  const wire = pwp({ encryption: 'require', infoHash: meta.info_hash })
  let method = null
  wire.on('encryption', (m) => { method = m })
  let peer = null
  wire.on('handshake', (ih, id) => { peer = { infoHash: Buffer.from(ih).toString('hex'), id: Buffer.from(id).toString('latin1') } })
  socket.pipe(wire).pipe(socket)
  wire.handshake(meta.info_hash, PEER_ID) // held until MSE is done, then sent encrypted
  wire.interested()

  const received = Buffer.alloc(data.length)
  const done = new Promise((resolve, reject) => {
    let asked = false
    wire.on('close', () => reject(new Error(`aria2 closed the connection (${wire.protocolError ? wire.protocolError.code : 'no protocol error'})`)))
    wire.on('unchoke', () => {
      if (asked) return
      asked = true
      let pending = 0
      for (let offset = 0; offset < data.length; offset += BLOCK) {
        const index = Math.floor(offset / PIECE)
        pending++
        wire.request(index, offset % PIECE, Math.min(BLOCK, data.length - offset), (err, block) => {
          if (err) return reject(err)
          Buffer.from(block).copy(received, offset)
          if (--pending === 0) resolve()
        })
      }
    })
  })
  await within(done, 40000, () => `not every block arrived from aria2\n${aria2.output()}`)
  assert.strictEqual(method, 'rc4')
  assert.strictEqual(wire.encryption, 'rc4')
  assert.strictEqual(peer.infoHash, meta.info_hash)
  assert.match(peer.id, /^A2-1-36-/)
  for (let i = 0; i < meta.num_pieces; i++) {
    assert.strictEqual(sha1(received.subarray(i * PIECE, (i + 1) * PIECE)), meta.pieces[i], `piece ${i}`)
  }
  assert.strictEqual(wire.protocolError, null)
  wire.destroy()
})

// Transmission unchokes a new peer some seconds after it connects (~7-12 s
// here): its fetch has a long deadline.
for (const client of Object.keys(CLIENTS)) {
  test(`fetch from ${client} seeding with encryption required: --encryption off is refused; require and prefer get RC4, SHA-1 checked`, { timeout: 240000 }, async (t) => {
    const why = missing(CLIENTS[client].command)
    if (why) return t.skip(why)
    const { dir, data, meta, torrent, src } = setup(t, 'seeded.bin', 600001, 302 + Object.keys(CLIENTS).indexOf(client))
    const seeder = await startClient(t, client, torrent, src)
    const { id } = CLIENTS[client]

    const plain = await fetch(torrent, seeder.port, path.join(dir, 'off'), ['--encryption', 'off', '--timeout', '5'], 60000)
    assert.strictEqual(plain.code, 1, plain.stdout + plain.stderr + seeder.output())
    // aria2 and Transmission close the connection; rtorrent resets it
    assert.match(plain.stderr, /closed the connection before its handshake|connection to peer 127\.0\.0\.1:\d+ failed: read ECONNRESET/)
    assert.notStrictEqual(sha1Of(path.join(dir, 'off', 'seeded.bin')), sha1(data))

    for (const policy of ['require', 'prefer']) {
      const r = await fetch(torrent, seeder.port, path.join(dir, policy), ['--encryption', policy], 90000)
      assert.strictEqual(r.code, 0, r.stdout + r.stderr + seeder.output())
      assert.match(r.stdout, new RegExp(`connected to 127\\.0\\.0\\.1:${seeder.port} ${id.source}, encrypted \\(MSE, RC4\\)\\n`))
      assert.match(r.stdout, new RegExp(`all ${meta.num_pieces} pieces passed SHA-1`))
      assert.strictEqual(sha1Of(path.join(dir, policy, 'seeded.bin')), sha1(data))
    }
  })
}

// Transmission requests some seconds after we connect (~15 s here): the file
// has a long deadline.
for (const client of Object.keys(CLIENTS)) {
  test(`seed --peer to ${client} leeching with encryption required: --encryption off is refused; require is RC4, its file SHA-1 checked`, { timeout: 240000 }, async (t) => {
    const why = missing(CLIENTS[client].command)
    if (why) return t.skip(why)
    const { data, torrent, src, dst } = setup(t, 'leeched.bin', 600001, 305 + Object.keys(CLIENTS).indexOf(client))
    const leecher = await startClient(t, client, torrent, dst, { leech: true })
    const { id } = CLIENTS[client]
    const where = `127\\.0\\.0\\.1:${leecher.port}`

    const plain = startSeed(t, [torrent, src, '--peer', `127.0.0.1:${leecher.port}`, '--encryption', 'off'])
    await plain.port
    await plain.printed(new RegExp(`peer ${where} closed the connection before its handshake`), { timeout: 60000 })
    assert.doesNotMatch(plain.output(), /connected to peer/)
    plain.child.kill('SIGKILL')

    const seed = startSeed(t, [torrent, src, '--peer', `127.0.0.1:${leecher.port}`, '--encryption', 'require'])
    await seed.port
    const output = () => seed.output() + leecher.output()
    await fileReaches(path.join(dst, 'leeched.bin'), sha1(data), { timeout: 90000, output })
    assert.match(seed.output(), new RegExp(`connected to peer ${where} ${id.source}, encrypted \\(MSE, RC4\\)\\n`))
  })
}
