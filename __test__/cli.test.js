'use strict'

// The command (bin/peer-wire-native.js, its parts in cli/) as a user runs
// it: child processes on 127.0.0.1, against each other and against peers
// written here to misbehave. Against real clients: cli-clients.test.js.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('fs')
const net = require('net')
const path = require('path')
const bencode = require('bencode')
const pwp = require('..')
const { payload, sha1 } = require('./libtorrent')
const { missing, startAria2, startTransmission } = require('./clients')
const { run, startSeed, makeTorrent, fileReaches, writeFiles, sameFiles, ALBUM } = require('./command')
const { tmpdir: tmp } = require('./tmpdir')

const PEER_ID = Buffer.from('-PW0100-clitest00001')

const tmpdir = (t) => tmp(t, 'pwn-cli-')

// One clear line on stderr, no stack trace.
function assertOneLineError (result, pattern) {
  assert.notStrictEqual(result.code, 0, `expected a failure, got exit 0\n${result.stdout}`)
  const lines = result.stderr.trim().split('\n')
  assert.strictEqual(lines.length, 1, `expected one line on stderr, got:\n${result.stderr}`)
  assert.match(lines[0], /^peer-wire-native: /)
  assert.match(lines[0], pattern)
  assert.doesNotMatch(result.stderr, /\n\s+at /)
}

// A peer written for a test, serving `torrent` through peer-wire-native:
// `serve(index, offset, length, data, respond, wire)` decides each answer;
// `has(index)` which pieces it has (all by default); `unchoke: false`
// never unchokes; `bitfieldDelay` ms before its bitfield.
async function fakePeer (t, torrent, { infoHash = torrent.infoHash, serve, has = () => true, unchoke = true, bitfieldDelay = 0 } = {}) {
  const seen = { requests: [], cancels: [], connections: 0 }
  const sockets = new Set()
  const server = net.createServer((socket) => {
    seen.connections++
    sockets.add(socket)
    socket.on('error', () => {})
    const wire = pwp()
    socket.pipe(wire).pipe(socket)
    wire.on('handshake', () => {
      wire.handshake(infoHash, PEER_ID)
      const bits = Buffer.alloc(Math.ceil(torrent.pieceCount / 8))
      for (let i = 0; i < torrent.pieceCount; i++) if (has(i)) bits[i >> 3] |= 0x80 >> (i & 7)
      if (bitfieldDelay) setTimeout(() => wire.bitfield(bits), bitfieldDelay)
      else wire.bitfield(bits)
    })
    wire.on('interested', () => { if (unchoke) wire.unchoke() })
    wire.on('cancel', (index, offset, length) => seen.cancels.push([index, offset, length]))
    wire.on('request', (index, offset, length, respond) => {
      seen.requests.push([index, offset, length])
      const start = index * torrent.pieceLength + offset
      const block = Buffer.from(torrent.data.subarray(start, start + length))
      if (serve) serve(index, offset, length, block, respond, wire)
      else respond(null, block)
    })
  })
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: server.address().port, seen }
}

// The command's own rules: it uses the library as a user does (the package
// root and its package.json, nothing internal), and no command imports
// another (what two commands share lives in cli/, beside them).
test('the command uses the public API only, and no command imports another', () => {
  const root = path.join(__dirname, '..')
  const { dependencies } = require('../package.json')
  const { builtinModules } = require('module')
  const sources = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : [])
  const commands = path.join(root, 'cli', 'commands')
  for (const file of [...sources(path.join(root, 'bin')), ...sources(path.join(root, 'cli'))]) {
    const name = path.relative(root, file)
    for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/require\(\s*'([^']+)'\s*\)/g)) {
      if (!spec.startsWith('.')) {
        assert.ok(builtinModules.includes(spec) || spec in dependencies, `${name}: require('${spec}') is not a dependency`)
        continue
      }
      const target = path.resolve(path.dirname(file), spec)
      const inCli = target.startsWith(path.join(root, 'cli') + path.sep)
      assert.ok(inCli || target === root || target === path.join(root, 'package.json'),
        `${name}: require('${spec}') reaches past the public API`)
      if (path.dirname(file) === commands) {
        assert.ok(!target.startsWith(commands + path.sep), `${name}: require('${spec}') imports another command`)
      }
    }
  }
})

test('demo: seeds a generated payload and downloads it over TCP, verified', async () => {
  const r = await run(['demo'], { timeout: 30000 })
  assert.strictEqual(r.code, 0, r.stderr)
  assert.match(r.stdout, /payload: 64\.0 MiB \(seed 1\), 256 pieces of 256 KiB, info hash [0-9a-f]{40}/)
  assert.match(r.stdout, /seeding on 127\.0\.0\.1:\d+; downloading with a second wire over TCP/)
  assert.match(r.stdout, /downloaded 64\.0 MiB in [0-9.]+ s: [0-9.]+ MiB\/s/)
  assert.match(r.stdout, /verified: all 256 pieces passed SHA-1, payload SHA-1 [0-9a-f]{40} matches/)
  assert.strictEqual(r.stderr, '') // the progress bar is drawn only on a terminal
})

test('fetch: a multi-file torrent from `seed`, both commands, into --out', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('album', ALBUM)
  fs.writeFileSync(path.join(dir, 'album.torrent'), torrent.file)
  writeFiles(path.join(dir, 'data', 'album'), ALBUM)

  // seed given the torrent's folder itself
  const seed = startSeed(t, [path.join(dir, 'album.torrent'), path.join(dir, 'data', 'album')])
  const port = await seed.port
  const r = await run(['fetch', path.join(dir, 'album.torrent'), '--peer', `127.0.0.1:${port}`, '--out', path.join(dir, 'out')])
  assert.strictEqual(r.code, 0, r.stderr)
  assert.match(r.stdout, /album: 0\.8 MiB, 5 files, 27 pieces of 32 KiB/)
  assert.match(r.stdout, /connected to 127\.0\.0\.1:\d+ \(-PW0100-\)/)
  assert.match(r.stdout, /all 27 pieces passed SHA-1/)
  sameFiles(path.join(dir, 'out', 'album'), ALBUM)
  assert.match(seed.output(), /checked: all 27 pieces passed SHA-1/)

  // the fetched copy seeds too (given the folder holding it, as --out was)
  const again = startSeed(t, [path.join(dir, 'album.torrent'), path.join(dir, 'out')])
  const r2 = await run(['fetch', path.join(dir, 'album.torrent'), '--peer', `127.0.0.1:${await again.port}`, '--out', path.join(dir, 'out2')])
  assert.strictEqual(r2.code, 0, r2.stderr)
  sameFiles(path.join(dir, 'out2', 'album'), ALBUM)
})

test('fetch: a single-file torrent from `seed` given the file under another name', async (t) => {
  const dir = tmpdir(t)
  const data = payload(777777, 21)
  const torrent = makeTorrent('single.bin', [{ data }], 65536)
  fs.writeFileSync(path.join(dir, 'single.torrent'), torrent.file)
  fs.writeFileSync(path.join(dir, 'renamed.bin'), data)
  const seed = startSeed(t, [path.join(dir, 'single.torrent'), path.join(dir, 'renamed.bin')])
  const r = await run(['fetch', path.join(dir, 'single.torrent'), '--peer', `127.0.0.1:${await seed.port}`, '--out', path.join(dir, 'out')])
  assert.strictEqual(r.code, 0, r.stderr)
  assert.match(r.stdout, /all 12 pieces passed SHA-1/)
  assert.ok(fs.readFileSync(path.join(dir, 'out', 'single.bin')).equals(data))
})

test('fetch: asks again for what a choke dropped and for a request that timed out', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('flaky.bin', [{ data: payload(1000000, 31) }], 32768)
  fs.writeFileSync(path.join(dir, 'flaky.torrent'), torrent.file)
  let answered = 0
  let ignored = null
  let choked = false
  const peer = await fakePeer(t, torrent, {
    serve (index, offset, length, block, respond, wire) {
      if (++answered === 5 && !choked) { // choke early on (the requests after it are dropped), unchoke a moment later
        choked = true
        wire.choke()
        setTimeout(() => wire.unchoke(), 100)
        return
      }
      if (index === 20 && offset === 0 && !ignored) { // asked after the unchoke, never answered: must time out
        ignored = [index, offset, length]
        return
      }
      respond(null, block)
    }
  })
  const r = await run(['fetch', path.join(dir, 'flaky.torrent'), '--peer', `127.0.0.1:${peer.port}`,
    '--out', dir, '--timeout', '1'])
  assert.strictEqual(r.code, 0, r.stderr)
  assert.ok(fs.readFileSync(path.join(dir, 'flaky.bin')).equals(torrent.data))
  assert.ok(choked)
  const asked = (b) => peer.seen.requests.filter((x) => x.join() === b.join()).length
  assert.strictEqual(asked(ignored), 2, 'the timed-out request was asked again')
  // blocks pending at the choke were asked again after the unchoke
  const counts = new Map()
  for (const req of peer.seen.requests) counts.set(req.join(), (counts.get(req.join()) || 0) + 1)
  assert.ok([...counts.values()].filter((n) => n > 1).length > 1)
})

test('fetch: a piece that is corrupt once is downloaded again', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('once.bin', [{ data: payload(400000, 41) }], 32768)
  fs.writeFileSync(path.join(dir, 'once.torrent'), torrent.file)
  let corrupted = false
  const peer = await fakePeer(t, torrent, {
    serve (index, offset, length, block, respond) {
      if (index === 5 && !corrupted) {
        corrupted = true
        block[100] ^= 0xff
      }
      respond(null, block)
    }
  })
  const r = await run(['fetch', path.join(dir, 'once.torrent'), '--peer', `127.0.0.1:${peer.port}`, '--out', dir])
  assert.strictEqual(r.code, 0, r.stderr)
  assert.match(r.stdout, /\(1 corrupt piece downloaded again\)/)
  assert.ok(fs.readFileSync(path.join(dir, 'once.bin')).equals(torrent.data))
})

test('fetch fails clearly: a piece that is always corrupt', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('bad.bin', [{ data: payload(400000, 51) }], 32768)
  fs.writeFileSync(path.join(dir, 'bad.torrent'), torrent.file)
  const peer = await fakePeer(t, torrent, {
    serve (index, offset, length, block, respond) {
      if (index === 2) block[0] ^= 1
      respond(null, block)
    }
  })
  const r = await run(['fetch', path.join(dir, 'bad.torrent'), '--peer', `127.0.0.1:${peer.port}`, '--out', dir])
  assertOneLineError(r, /piece 2 failed its SHA-1 check 3 times: peer 127\.0\.0\.1:\d+ sends corrupt data/)
  const askedPiece2 = peer.seen.requests.filter(([i, o]) => i === 2 && o === 0).length
  assert.strictEqual(askedPiece2, 3, 'downloaded three times before giving up')
})

test('fetch fails clearly: a peer that stops answering requests', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('mute.bin', [{ data: payload(200000, 91) }])
  fs.writeFileSync(path.join(dir, 'mute.torrent'), torrent.file)
  const peer = await fakePeer(t, torrent, { serve () {} }) // unchokes, never answers
  const r = await run(['fetch', path.join(dir, 'mute.torrent'), '--peer', `127.0.0.1:${peer.port}`, '--out', dir, '--timeout', '1'])
  assertOneLineError(r, /peer 127\.0\.0\.1:\d+ stopped answering: 3 requests in a row timed out after 1 s/)
  assert.ok(peer.seen.requests.length > 0)
})

test('fetch fails clearly: nobody listens at the peer address', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('x.bin', [{ data: payload(1000, 61) }])
  fs.writeFileSync(path.join(dir, 'x.torrent'), torrent.file)
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  await new Promise((resolve) => server.close(resolve)) // a port nobody listens on
  const r = await run(['fetch', path.join(dir, 'x.torrent'), '--peer', `127.0.0.1:${port}`, '--out', dir])
  assertOneLineError(r, new RegExp(`cannot connect to peer 127\\.0\\.0\\.1:${port}: connection refused`))
})

test('fetch fails clearly: the peer answers with another info hash', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('x.bin', [{ data: payload(100000, 71) }])
  fs.writeFileSync(path.join(dir, 'x.torrent'), torrent.file)
  const other = Buffer.alloc(20, 0xee)
  const peer = await fakePeer(t, torrent, { infoHash: other })
  const r = await run(['fetch', path.join(dir, 'x.torrent'), '--peer', `127.0.0.1:${peer.port}`, '--out', dir])
  assertOneLineError(r, new RegExp(`wrong info hash: peer 127\\.0\\.0\\.1:\\d+ answered with ${other.toString('hex')}, ` +
    `the torrent's is ${torrent.infoHash.toString('hex')}`))
  assert.deepStrictEqual(peer.seen.requests, [])

  // a peer that does not have the torrent hangs up instead, as libtorrent does
  const server = net.createServer((socket) => socket.once('data', () => socket.destroy()))
  t.after(() => server.close())
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const r2 = await run(['fetch', path.join(dir, 'x.torrent'), '--peer', `127.0.0.1:${server.address().port}`, '--out', dir])
  assertOneLineError(r2, /peer 127\.0\.0\.1:\d+ closed the connection before its handshake \(does it have this torrent\?\)/)
})

test('fetch refuses file names that leave the output folder', async (t) => {
  const dir = tmpdir(t)
  for (const bad of [['..', 'evil.txt'], ['sub', '..', '..', 'evil.txt'], ['/etc', 'evil.txt']]) {
    const torrent = makeTorrent('album', [{ path: ['ok.txt'], data: Buffer.from('ok') }, { path: bad, data: Buffer.from('evil') }])
    fs.writeFileSync(path.join(dir, 'evil.torrent'), torrent.file)
    const r = await run(['fetch', path.join(dir, 'evil.torrent'), '--peer', '127.0.0.1:1', '--out', path.join(dir, 'out')])
    assertOneLineError(r, /unsafe file name in the torrent/)
  }
  assert.ok(!fs.existsSync(path.join(dir, 'evil.txt')))
  assert.ok(!fs.existsSync(path.join(dir, 'out')), 'nothing written')
})

test('seed fails clearly on data that does not match the torrent; usage errors exit 2', async (t) => {
  const dir = tmpdir(t)
  const data = payload(100000, 81)
  const torrent = makeTorrent('d.bin', [{ data }])
  fs.writeFileSync(path.join(dir, 'd.torrent'), torrent.file)
  data[70000] ^= 1
  fs.writeFileSync(path.join(dir, 'd.bin'), data)
  assertOneLineError(await run(['seed', path.join(dir, 'd.torrent'), dir, '--port', '0']),
    /the data does not match the torrent: piece 2 fails its SHA-1 check/)
  assertOneLineError(await run(['seed', path.join(dir, 'd.torrent'), path.join(dir, 'missing'), '--port', '0']),
    /missing: no such file or folder/)
  assertOneLineError(await run(['fetch', path.join(dir, 'nope.torrent'), '--peer', '127.0.0.1:1']),
    /cannot read .*nope\.torrent: no such file/)
  assertOneLineError(await run(['fetch', path.join(dir, 'd.bin'), '--peer', '127.0.0.1:1']),
    /not a valid \.torrent file/)

  const usage = await run(['fetch', path.join(dir, 'd.torrent')])
  assert.strictEqual(usage.code, 2)
  assert.match(usage.stderr, /^peer-wire-native: fetch needs --peer HOST:PORT\nusage:/)
  const badPeer = await run(['seed', path.join(dir, 'd.torrent'), dir, '--peer', 'nowhere'])
  assert.strictEqual(badPeer.code, 2)
  assert.match(badPeer.stderr, /^peer-wire-native: --peer must be HOST:PORT, got "nowhere"\nusage:/)
  assert.strictEqual((await run([])).code, 2)
  assert.strictEqual((await run(['frobnicate'])).code, 2)
})

test('seed --peer: dials each peer, handshakes first, serves it as one that connected', { timeout: 30000 }, async (t) => {
  const dir = tmpdir(t)
  const data = payload(100001, 141)
  const torrent = makeTorrent('dial.bin', [{ data }])
  fs.writeFileSync(path.join(dir, 'dial.torrent'), torrent.file)
  fs.writeFileSync(path.join(dir, 'dial.bin'), data)
  let socket = null
  let answer
  const got = new Promise((resolve, reject) => { answer = { resolve, reject } })
  const server = net.createServer((s) => {
    socket = s
    s.on('error', () => {})
    const wire = pwp()
    s.pipe(wire).pipe(s)
    wire.on('handshake', (infoHash) => {
      if (!Buffer.from(infoHash).equals(torrent.infoHash)) return answer.reject(new Error('wrong info hash'))
      wire.handshake(torrent.infoHash, PEER_ID)
    })
    wire.on('bitfield', () => {
      for (let i = 0; i < torrent.pieceCount; i++) if (!wire.peerPieces[i]) answer.reject(new Error(`piece ${i} missing from the bitfield`))
      wire.interested()
    })
    wire.on('unchoke', () => {
      wire.request(1, 16384, 16384, (err, block) => err ? answer.reject(err) : answer.resolve(Buffer.from(block)))
    })
  })
  t.after(() => {
    if (socket) socket.destroy()
    server.close()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const other = await fakePeer(t, torrent, { infoHash: Buffer.alloc(20, 7) })
  const hangUp = net.createServer((s) => s.destroy())
  t.after(() => hangUp.close())
  await new Promise((resolve) => hangUp.listen(0, '127.0.0.1', resolve))
  const seed = startSeed(t, [path.join(dir, 'dial.torrent'), path.join(dir, 'dial.bin'),
    '--peer', '127.0.0.1:1', '--peer', `127.0.0.1:${other.port}`, '--peer', `127.0.0.1:${hangUp.address().port}`,
    '--peer', `127.0.0.1:${server.address().port}`])
  const port = await seed.port
  const block = await got
  assert.ok(block.equals(data.subarray(torrent.pieceLength + 16384, torrent.pieceLength + 32768)))
  const output = seed.output()
  assert.match(output, /cannot connect to peer 127\.0\.0\.1:1: connection refused/)
  assert.match(output, new RegExp(`connected to peer 127\\.0\\.0\\.1:${server.address().port} \\(-PW0100-\\)`))
  assert.match(output, new RegExp(`wrong info hash: peer 127\\.0\\.0\\.1:${other.port} answered with ${'07'.repeat(20)}`))
  assert.match(output, new RegExp(`peer 127\\.0\\.0\\.1:${hangUp.address().port} closed the connection before its handshake`))
  // still listening: a fetch of everything works
  const r = await run(['fetch', path.join(dir, 'dial.torrent'), '--peer', `127.0.0.1:${port}`, '--out', path.join(dir, 'out')])
  assert.strictEqual(r.code, 0, r.stderr + output)
  assert.ok(fs.readFileSync(path.join(dir, 'out', 'dial.bin')).equals(data))
})

// Transmission and aria2 never dial a given peer, but a leecher accepts a
// connection: `seed --peer` dials it and serves it as one that connected.
for (const client of ['Transmission', 'aria2']) {
  test(`seed --peer dials ${client === 'aria2' ? 'an' : 'a'} ${client} leecher (it never dials a given peer): it downloads everything`, { timeout: 90000 }, async (t) => {
    const command = client === 'aria2' ? 'aria2c' : 'transmission-cli'
    const why = missing(command)
    if (why) return t.skip(why)
    const dir = tmpdir(t)
    const data = payload(600001, 131)
    const torrent = makeTorrent('leech.bin', [{ data }])
    fs.writeFileSync(path.join(dir, 'leech.torrent'), torrent.file)
    fs.mkdirSync(path.join(dir, 'src'))
    fs.writeFileSync(path.join(dir, 'src', 'leech.bin'), data)
    fs.mkdirSync(path.join(dir, 'dst'))
    const leecher = client === 'aria2'
      ? await startAria2(t, path.join(dir, 'leech.torrent'), path.join(dir, 'dst'), { leech: true })
      : await startTransmission(t, path.join(dir, 'leech.torrent'), path.join(dir, 'dst'), path.join(dir, 'tr-config'), { leech: true })

    const seed = startSeed(t, [path.join(dir, 'leech.torrent'), path.join(dir, 'src'), '--peer', `127.0.0.1:${leecher.port}`])
    await seed.port
    // Transmission unchokes and requests some seconds after connecting (~14 s here)
    const output = () => seed.output() + leecher.output()
    const ms = await fileReaches(path.join(dir, 'dst', 'leech.bin'), sha1(data), { timeout: 45000, output })
    t.diagnostic(`${leecher.version}: the file had the payload's SHA-1 ${ms} ms after seed started`)
    assert.match(seed.output(), new RegExp(`dialling 127\\.0\\.0\\.1:${leecher.port}`))
    assert.match(seed.output(), client === 'aria2'
      ? new RegExp(`connected to peer 127\\.0\\.0\\.1:${leecher.port} \\(A2-1-36-`)
      : new RegExp(`connected to peer 127\\.0\\.0\\.1:${leecher.port} \\(-TR3000-\\)`))
  })
}

test('fetch from several peers: one that never answers and one that chokes forever do not stop it; the endgame cancels duplicates', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('many.bin', [{ data: payload(2000000, 131) }], 65536)
  fs.writeFileSync(path.join(dir, 'many.torrent'), torrent.file)
  const mute = await fakePeer(t, torrent, { serve () {} }) // unchokes, never answers
  const choker = await fakePeer(t, torrent, { unchoke: false })
  const good = await fakePeer(t, torrent, {
    serve (index, offset, length, block, respond) { setTimeout(() => respond(null, block), 5) } // a little slower than instant
  })
  const r = await run(['fetch', path.join(dir, 'many.torrent'), '--out', dir, '--timeout', '2',
    '--peer', `127.0.0.1:${mute.port}`, '--peer', `127.0.0.1:${choker.port}`, '--peer', `127.0.0.1:${good.port}`])
  assert.strictEqual(r.code, 0, r.stderr + r.stdout)
  assert.ok(fs.readFileSync(path.join(dir, 'many.bin')).equals(torrent.data))
  assert.match(r.stdout, /from 3 peers; all 31 pieces passed SHA-1/)
  assert.ok(mute.seen.requests.length > 0, 'the mute peer was asked for blocks')
  assert.strictEqual(choker.seen.requests.length, 0, 'nothing is asked of a choking peer')
  // every block the mute peer was asked for came from the good peer, and
  // the mute peer's requests were cancelled (endgame) or dropped with it
  const fromGood = new Set(good.seen.requests.map((x) => x.join()))
  for (const req of mute.seen.requests) assert.ok(fromGood.has(req.join()), `block ${req} was asked elsewhere`)
  assert.ok(mute.seen.cancels.length > 0 || /dropped: peer 127\.0\.0\.1:\d+ stopped answering/.test(r.stdout), r.stdout)
})

test('fetch from several peers: rarest pieces first', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('rare.bin', [{ data: payload(1000000, 141) }], 32768)
  fs.writeFileSync(path.join(dir, 'rare.torrent'), torrent.file)
  const common = (i) => i < 16 // pieces both peers have; 16 to 30 only `full` has
  const partial = await fakePeer(t, torrent, { has: common })
  const full = await fakePeer(t, torrent, { bitfieldDelay: 300 }) // its pieces are known once partial's are
  const r = await run(['fetch', path.join(dir, 'rare.torrent'), '--out', dir,
    '--peer', `127.0.0.1:${partial.port}`, '--peer', `127.0.0.1:${full.port}`])
  assert.strictEqual(r.code, 0, r.stderr + r.stdout)
  assert.ok(fs.readFileSync(path.join(dir, 'rare.bin')).equals(torrent.data))
  assert.ok(partial.seen.requests.every(([i]) => common(i)), 'only pieces it has are asked of a peer')
  const first = full.seen.requests[0]
  assert.ok(first && !common(first[0]), `the first piece asked of the full peer is one only it has (got ${first})`)
})

test('fetch fails clearly when no peer can finish the download, naming each', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('none.bin', [{ data: payload(100000, 151) }])
  fs.writeFileSync(path.join(dir, 'none.torrent'), torrent.file)
  const ports = []
  for (let i = 0; i < 2; i++) {
    const server = net.createServer()
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    ports.push(server.address().port)
    await new Promise((resolve) => server.close(resolve))
  }
  const half = await fakePeer(t, torrent, { has: (i) => i === 0 }) // cannot finish it alone
  const r = await run(['fetch', path.join(dir, 'none.torrent'), '--out', dir, '--timeout', '1',
    ...ports.flatMap((p) => ['--peer', `127.0.0.1:${p}`]), '--peer', `127.0.0.1:${half.port}`])
  assertOneLineError(r, new RegExp('no peer can finish the download \\(3 of 4 pieces missing\\): ' +
    `cannot connect to peer 127\\.0\\.0\\.1:${ports[0]}: connection refused.*; ` +
    `cannot connect to peer 127\\.0\\.0\\.1:${ports[1]}: connection refused.*; ` +
    'peer 127\\.0\\.0\\.1:\\d+ made no progress for 6 s: the peer has none of the missing pieces'))
})

// A peer that has only the info hash's metadata to offer, sending `metadata`
// (any bytes) as a BEP 9 data message for every piece asked; it announces
// `size`.
async function metadataPeer (t, infoHash, metadata, size = metadata.length) {
  const sockets = new Set()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    const wire = pwp()
    socket.pipe(wire).pipe(socket)
    let theirs = 0
    wire.on('handshake', () => {
      wire.handshake(infoHash, PEER_ID)
      wire.extended(0, { m: { ut_metadata: 3 }, metadata_size: size })
    })
    wire.on('extended', (id, payload) => {
      if (id === 0) theirs = bencode.decode(payload).m.ut_metadata
      if (id !== 3) return
      const { piece } = bencode.decode(payload)
      const data = metadata.subarray(piece * 16384, piece * 16384 + 16384)
      wire.extended(theirs, Buffer.concat([bencode.encode({ msg_type: 1, piece, total_size: size }), data]))
    })
  })
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server.address().port
}

test('fetch a magnet: metadata a peer crafted to hang a bencode decoder, or over 4 MiB, fails clearly', async (t) => {
  const infoHash = Buffer.alloc(20, 0xab).toString('hex')
  // bencode 2.0.3 and 4.0.1 loop forever on a negative string length
  const hostile = await metadataPeer(t, Buffer.from(infoHash, 'hex'), Buffer.from('d1:a-3:e'))
  const r = await run(['fetch', `magnet:?xt=urn:btih:${infoHash}`, '--peer', `127.0.0.1:${hostile}`, '--timeout', '2'])
  assertOneLineError(r, /peer 127\.0\.0\.1:\d+ cannot send the metadata: Peer sent invalid metadata/)

  const huge = await metadataPeer(t, Buffer.from(infoHash, 'hex'), Buffer.alloc(0), 4 * 1024 * 1024 + 1)
  const r2 = await run(['fetch', `magnet:?xt=urn:btih:${infoHash}`, '--peer', `127.0.0.1:${huge}`, '--timeout', '2'])
  assertOneLineError(r2, /peer 127\.0\.0\.1:\d+ cannot send the metadata: metadata_size 4194305 is over the limit of 4194304 bytes/)

  const both = await run(['fetch', `magnet:?xt=urn:btih:${infoHash}`, '--timeout', '2',
    '--peer', `127.0.0.1:${hostile}`, '--peer', `127.0.0.1:${huge}`])
  assertOneLineError(both, /no peer sent the metadata: .*invalid metadata.*; .*over the limit|no peer sent the metadata: .*over the limit.*; .*invalid metadata/)
})

test('fetch from several peers: a piece one peer sent corrupt comes from another', async (t) => {
  const dir = tmpdir(t)
  const torrent = makeTorrent('mixed.bin', [{ data: payload(1000000, 171) }], 32768)
  fs.writeFileSync(path.join(dir, 'mixed.torrent'), torrent.file)
  const corrupted = new Set()
  const liar = await fakePeer(t, torrent, {
    serve (index, offset, length, block, respond) {
      if (offset === 0) { // every piece it sends is corrupt
        corrupted.add(index)
        block[7] ^= 0xff
      }
      respond(null, block)
    }
  })
  const honest = await fakePeer(t, torrent, { bitfieldDelay: 200 }) // the liar gets pieces first
  const r = await run(['fetch', path.join(dir, 'mixed.torrent'), '--out', dir,
    '--peer', `127.0.0.1:${liar.port}`, '--peer', `127.0.0.1:${honest.port}`])
  assert.strictEqual(r.code, 0, r.stderr + r.stdout)
  assert.ok(fs.readFileSync(path.join(dir, 'mixed.bin')).equals(torrent.data))
  assert.ok(corrupted.size > 0)
  assert.match(r.stdout, /\(\d+ corrupt pieces? downloaded again\)/)
  assert.match(r.stdout, /dropped: peer 127\.0\.0\.1:\d+ sent 3 corrupt pieces/)
  // no piece was asked of the liar twice: after its corrupt copy, the honest peer sent it
  for (const index of corrupted) {
    assert.strictEqual(liar.seen.requests.filter(([i, o]) => i === index && o === 0).length, 1, `piece ${index}`)
    assert.ok(honest.seen.requests.some(([i]) => i === index), `piece ${index} came from the honest peer`)
  }
})
