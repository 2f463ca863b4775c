'use strict'

// The command's --encryption (MSE/PE) between its own two ends and against
// peers written here: `seed --encryption off|prefer|require` for the peers
// that connect and for each --peer it dials (redialled in plaintext with
// 'prefer' when it hangs up before MSE is done), and `fetch --encryption`
// against it. What each end negotiated is read from its output
// (", encrypted (MSE, RC4)" after the peer's client), every download is
// SHA-1 checked.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('fs')
const net = require('net')
const path = require('path')
const pwp = require('..')
const { payload, sha1, createTorrent, startPeer } = require('./libtorrent')
const { run, startSeed, makeTorrent } = require('./command')
const { tmpdir: tmp } = require('./tmpdir')

const PEER_ID = Buffer.from('-PW0100-clicrypt0001')

const tmpdir = (t) => tmp(t, 'pwn-cli-mse-')

// A torrent of `size` bytes written to dir/NAME and dir/NAME.torrent.
function torrentIn (dir, name, size, seed) {
  const torrent = makeTorrent(name, [{ data: payload(size, seed) }])
  fs.writeFileSync(path.join(dir, `${name}.torrent`), torrent.file)
  fs.writeFileSync(path.join(dir, name), torrent.data)
  return torrent
}

test('fetch --encryption require from seed --encryption require: RC4 at both ends, SHA-1 checked; a plaintext fetch is refused', async (t) => {
  const dir = tmpdir(t)
  const torrent = torrentIn(dir, 'both.bin', 300001, 201)
  const seed = startSeed(t, [path.join(dir, 'both.bin.torrent'), path.join(dir, 'both.bin'), '--encryption', 'require'])
  const port = await seed.port

  const r = await run(['fetch', path.join(dir, 'both.bin.torrent'), '--peer', `127.0.0.1:${port}`, '--out', path.join(dir, 'out'),
    '--encryption', 'require'])
  assert.strictEqual(r.code, 0, r.stderr + seed.output())
  assert.match(r.stdout, /connected to 127\.0\.0\.1:\d+ \(-PW0100-\), encrypted \(MSE, RC4\)\n/)
  assert.strictEqual(sha1(fs.readFileSync(path.join(dir, 'out', 'both.bin'))), sha1(torrent.data))
  await seed.printed(/peer 127\.0\.0\.1:\d+ \(-PW0100-\) connected, encrypted \(MSE, RC4\)\n/)

  const plain = await run(['fetch', path.join(dir, 'both.bin.torrent'), '--peer', `127.0.0.1:${port}`, '--out', path.join(dir, 'plain'),
    '--encryption', 'off', '--timeout', '3'])
  assert.strictEqual(plain.code, 1, plain.stdout + plain.stderr)
  assert.match(plain.stderr, /closed the connection before its handshake/)
  assert.ok(!fs.existsSync(path.join(dir, 'plain', 'both.bin')) ||
    sha1(fs.readFileSync(path.join(dir, 'plain', 'both.bin'))) !== sha1(torrent.data))
})

test('seed --encryption off accepts plaintext only: fetch --encryption require fails, the default fetch redials in plaintext', async (t) => {
  const dir = tmpdir(t)
  const torrent = torrentIn(dir, 'plain.bin', 200003, 202)
  const seed = startSeed(t, [path.join(dir, 'plain.bin.torrent'), path.join(dir, 'plain.bin'), '--encryption', 'off'])
  const port = await seed.port
  const refused = await run(['fetch', path.join(dir, 'plain.bin.torrent'), '--peer', `127.0.0.1:${port}`, '--out', path.join(dir, 'a'),
    '--encryption', 'require', '--timeout', '3'])
  assert.strictEqual(refused.code, 1, refused.stdout + refused.stderr)
  assert.match(refused.stderr, /closed the connection before its handshake/)

  const r = await run(['fetch', path.join(dir, 'plain.bin.torrent'), '--peer', `127.0.0.1:${port}`, '--out', path.join(dir, 'b')])
  assert.strictEqual(r.code, 0, r.stderr + seed.output())
  assert.match(r.stdout, /connected to 127\.0\.0\.1:\d+ \(-PW0100-\)\n/)
  assert.strictEqual(sha1(fs.readFileSync(path.join(dir, 'b', 'plain.bin'))), sha1(torrent.data))
})

// A leecher written here that only listens and speaks plaintext only (a
// wire without `encryption`): an MSE opening is a bad handshake to it, and
// it hangs up, as a client without MSE does. Each connection is logged.
async function plaintextLeecher (t, torrent) {
  const connections = []
  const sockets = new Set()
  let answer
  const got = new Promise((resolve, reject) => { answer = { resolve, reject } })
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    const seen = { handshake: false, error: null }
    connections.push(seen)
    const wire = pwp()
    socket.pipe(wire).pipe(socket)
    wire.on('close', () => {
      seen.error = wire.protocolError && wire.protocolError.code
      socket.destroy()
    })
    wire.on('handshake', (infoHash) => {
      seen.handshake = true
      wire.handshake(infoHash, PEER_ID)
      wire.interested()
    })
    wire.on('unchoke', () => {
      wire.request(0, 0, 16384, (err, block) => err ? answer.reject(err) : answer.resolve(Buffer.from(block)))
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  return { port: server.address().port, connections, got }
}

test('seed --peer (encryption prefer, the default) to a peer without MSE: it hangs up on MSE, is dialled again in plaintext and served', async (t) => {
  const dir = tmpdir(t)
  const torrent = torrentIn(dir, 'redial.bin', 100001, 203)
  const leecher = await plaintextLeecher(t, torrent)
  const seed = startSeed(t, [path.join(dir, 'redial.bin.torrent'), path.join(dir, 'redial.bin'), '--peer', `127.0.0.1:${leecher.port}`])
  await seed.port
  const block = await leecher.got
  assert.ok(block.equals(torrent.data.subarray(0, 16384)))
  assert.strictEqual(leecher.connections.length, 2)
  assert.deepStrictEqual(leecher.connections[0], { handshake: false, error: 'ERR_PEER_WIRE_BAD_HANDSHAKE' })
  assert.strictEqual(leecher.connections[1].handshake, true)
  const output = await seed.printed(/connected to peer 127\.0\.0\.1:\d+ \(-PW0100-\)\n/)
  assert.doesNotMatch(output, /closed the connection before its handshake/)
})

test('seed --peer --encryption require to a peer without MSE: dialled twice encrypted, then one line; --encryption off dials in plaintext', async (t) => {
  const dir = tmpdir(t)
  const torrent = torrentIn(dir, 'strict.bin', 100001, 204)
  const leecher = await plaintextLeecher(t, torrent)
  const seed = startSeed(t, [path.join(dir, 'strict.bin.torrent'), path.join(dir, 'strict.bin'), '--peer', `127.0.0.1:${leecher.port}`,
    '--encryption', 'require'])
  await seed.port
  await seed.printed(new RegExp(`peer 127\\.0\\.0\\.1:${leecher.port} closed the connection before its handshake`))
  assert.strictEqual(leecher.connections.length, 2)
  for (const c of leecher.connections) assert.deepStrictEqual(c, { handshake: false, error: 'ERR_PEER_WIRE_BAD_HANDSHAKE' })

  const plain = startSeed(t, [path.join(dir, 'strict.bin.torrent'), path.join(dir, 'strict.bin'), '--peer', `127.0.0.1:${leecher.port}`,
    '--encryption', 'off'])
  await plain.port
  const block = await leecher.got
  assert.ok(block.equals(torrent.data.subarray(0, 16384)))
  assert.strictEqual(leecher.connections.length, 3)
  assert.strictEqual(leecher.connections[2].handshake, true)
})

test('seed --encryption require refuses a plain BitTorrent handshake; a bad --encryption is a usage error', async (t) => {
  const dir = tmpdir(t)
  const torrent = torrentIn(dir, 'only.bin', 50001, 205)
  const seed = startSeed(t, [path.join(dir, 'only.bin.torrent'), path.join(dir, 'only.bin'), '--encryption', 'require'])
  const port = await seed.port
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  t.after(() => socket.destroy())
  const wire = pwp()
  let handshake = false
  wire.on('handshake', () => { handshake = true })
  socket.pipe(wire).pipe(socket)
  wire.handshake(torrent.infoHash, PEER_ID)
  await new Promise((resolve) => socket.once('close', resolve))
  assert.strictEqual(handshake, false)

  const bad = await run(['seed', 'x.torrent', 'x', '--encryption', 'rc4'])
  assert.strictEqual(bad.code, 2)
  assert.match(bad.stderr, /--encryption must be off, prefer or require/)
})

test('fetch a magnet link --encryption require from a libtorrent seed with encryption forced: the metadata and the files over RC4', async (t) => {
  const dir = tmpdir(t)
  const data = payload(600007, 206)
  fs.mkdirSync(path.join(dir, 'src'))
  fs.writeFileSync(path.join(dir, 'src', 'sealed.bin'), data)
  const meta = createTorrent(path.join(dir, 'src', 'sealed.bin'), path.join(dir, 'sealed.torrent'), { pieceLength: 32768 })
  const seed = startPeer(t, ['seed', path.join(dir, 'sealed.torrent'), path.join(dir, 'src')], { encryption: 'forced' })
  const { port } = await seed.waitFor('listening')
  await seed.waitFor('seeding')

  const r = await run(['fetch', `magnet:?xt=urn:btih:${meta.info_hash}`, '--peer', `127.0.0.1:${port}`, '--out', path.join(dir, 'out'),
    '--encryption', 'require'], { timeout: 60000 })
  assert.strictEqual(r.code, 0, r.stdout + r.stderr + seed.output())
  assert.match(r.stdout, /metadata: \d+ bytes from 127\.0\.0\.1:\d+, SHA-1 matches the info hash/)
  assert.match(r.stdout, /connected to 127\.0\.0\.1:\d+ \(-LT20[^)]*\), encrypted \(MSE, RC4\)\n/)
  assert.strictEqual(sha1(fs.readFileSync(path.join(dir, 'out', 'sealed.bin'))), sha1(data))
})
