'use strict'

// wire.use() against a real client: the ut_metadata modules from npm (5.0.1,
// an ES module, and 3.5.2, CommonJS), unmodified, on our wire, with
// libtorrent-rasterbar (libtorrent_peer.py, 127.0.0.1 only) at the other end.
// Only the info hash is known on the side that fetches the metadata.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('fs')
const net = require('net')
const path = require('path')
const pwp = require('..')
const { requireLibtorrent, createTorrent, payloadTorrent, startPeer, payload, sha1, within, startSeed, dial } = require('./libtorrent')
const { tmpdir: tmp } = require('./tmpdir')

const PIECE = 32768

const tmpdir = (t) => tmp(t, 'pwn-interop-ext-')

const modules = {
  'ut_metadata 5.0.1 (ES module)': async () => (await import('ut_metadata_v5')).default,
  'ut_metadata 3.5.2 (CommonJS)': async () => require('ut_metadata')
}

test('libtorrent is installed for the extension interop tests', () => {
  assert.match(requireLibtorrent(), /^2\./)
})

let n = 0
for (const [name, load] of Object.entries(modules)) {
  test(`${name} fetches the info dictionary from a libtorrent seed, given only the info hash`, async (t) => {
    const utMetadata = await load()
    const dir = tmpdir(t)
    const data = payload(300001, 3)
    fs.writeFileSync(path.join(dir, 'payload.bin'), data)
    // a hybrid torrent (libtorrent's default): an info dictionary of some size
    const meta = createTorrent(path.join(dir, 'payload.bin'), path.join(dir, 'payload.torrent'), { pieceLength: PIECE })
    const { port } = await startSeed(t, path.join(dir, 'payload.torrent'), dir)

    const wire = pwp()
    const socket = dial(t, port, wire)
    wire.use(utMetadata())
    wire.ut_metadata.fetch()
    const metadata = new Promise((resolve, reject) => {
      wire.ut_metadata.on('metadata', resolve)
      wire.ut_metadata.on('warning', reject)
    })
    wire.handshake(meta.info_hash, Buffer.from(`-PW0100-metadata${String(n++).padStart(4, '0')}`))

    const torrent = await within(metadata, 15000, 'no metadata from libtorrent')
    const info = Buffer.from(wire.ut_metadata.metadata)
    assert.strictEqual(sha1(info), meta.info_hash, 'the SHA-1 of the info dictionary is the info hash')
    assert.ok(Buffer.from(torrent).includes(info), "'metadata' is a torrent holding that info dictionary")
    assert.strictEqual(wire.peerExtendedHandshake.metadata_size, info.length)
    assert.match(wire.peerExtendedHandshake.v.toString(), /^libtorrent\/2\./)
    assert.ok(wire.peerExtendedMapping.ut_metadata > 0)
    assert.strictEqual(wire.protocolError, null)
    socket.end()
  })

  test(`${name} serves the metadata to a libtorrent leecher that has only a magnet link; it downloads the torrent`, async (t) => {
    const utMetadata = await load()
    const { data, meta, torrent: torrentFile, target } = payloadTorrent(tmpdir(t), 400000, 4, PIECE)
    const pieceCount = Math.ceil(data.length / PIECE)
    // the info dictionary, as bytes, from the .torrent libtorrent wrote (ut_metadata takes a whole torrent too)
    const torrent = fs.readFileSync(torrentFile)

    const seen = { requests: 0, wires: 0, extendedHandshake: null }
    const sockets = new Set()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      seen.wires++
      socket.on('error', () => {})
      const wire = pwp()
      socket.pipe(wire).pipe(socket)
      wire.use(utMetadata(torrent))
      wire.on('handshake', (infoHash) => {
        wire.handshake(infoHash, Buffer.from('-PW0100-magnetseed01'))
        const bits = Buffer.alloc(Math.ceil(pieceCount / 8))
        for (let i = 0; i < pieceCount; i++) bits[i >> 3] |= 0x80 >> (i & 7)
        wire.bitfield(bits)
      })
      wire.on('extended', (id) => { if (id === 0) seen.extendedHandshake = wire.peerExtendedHandshake })
      wire.on('interested', () => wire.unchoke())
      wire.on('request', (index, offset, length, respond) => {
        seen.requests++
        const start = index * PIECE + offset
        respond(null, data.subarray(start, start + length))
      })
    })
    t.after(() => {
      for (const s of sockets) s.destroy()
      server.close()
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))

    const leech = startPeer(t, ['magnet', meta.info_hash, target, `127.0.0.1:${server.address().port}`])
    const fatal = ['error', 'banned', 'hash_failed']
    const got = await leech.waitFor('metadata', { timeout: 20000, fatal })
    assert.strictEqual(got.info_hash, meta.info_hash)
    assert.strictEqual(got.num_pieces, pieceCount)
    const finished = await leech.waitFor('finished', { timeout: 30000, fatal })
    assert.strictEqual(finished.pieces, pieceCount)
    assert.strictEqual(finished.hash_failures, 0)
    assert.ok(fs.readFileSync(path.join(target, 'payload.bin')).equals(data))
    assert.ok(seen.requests >= Math.ceil(data.length / 16384))
    assert.ok(seen.extendedHandshake && seen.extendedHandshake.m.ut_metadata > 0, "libtorrent's extended handshake names ut_metadata")
  })
}
