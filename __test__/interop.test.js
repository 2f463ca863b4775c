'use strict'

// peer-wire-native against a real client: libtorrent-rasterbar, driven by
// libtorrent_peer.py, on 127.0.0.1 only (no DHT, LSD, UPnP, NAT-PMP, uTP or
// trackers). Torrents are made by libtorrent's create_torrent (v1+v2 hybrid,
// as libtorrent 2.0 writes them by default).

const test = require('node:test')
const assert = require('node:assert')
const fs = require('fs')
const net = require('net')
const path = require('path')
const bencode = require('bencode')
const pwp = require('..')
const { requireLibtorrent, createTorrent, payloadTorrent, startPeer, payload, sha1, within, startSeed } = require('./libtorrent')
const { tmpdir: tmp } = require('./tmpdir')

const BLOCK = 16384
const PIECE = 32768
const OUR_UT_METADATA = 3 // the id we ask libtorrent to use for ut_metadata messages to us
const PEER_ID = Buffer.from('-PW0100-interop00001')

const tmpdir = (t) => tmp(t, 'pwn-interop-')

// The first 68 bytes a socket receives, parsed by hand: the peer's handshake
// as it was on the wire, to check what the wire read from it.
function rawHandshake (socket) {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0)
    socket.on('data', function ondata (chunk) {
      got = Buffer.concat([got, chunk])
      if (got.length < 68) return
      socket.removeListener('data', ondata)
      resolve({ pstr: got.toString('latin1', 1, 20), reserved: got.subarray(20, 28), infoHash: got.subarray(28, 48) })
    })
  })
}

// Decodes a bencoded extension message: the dictionary and the bytes after it.
function decodeExtended (buf) {
  const dict = bencode.decode(buf)
  return { dict, rest: buf.subarray(bencode.decode.position) }
}

test('libtorrent is installed for the interop tests', () => {
  assert.match(requireLibtorrent(), /^2\./)
})

test('downloads a multi-piece payload from a libtorrent seed; handshake bits and extended messages arrive', async (t) => {
  const dir = tmpdir(t)
  const data = payload(2000001, 1) // 62 pieces of 32 KiB, a short last piece ending in a short block
  fs.writeFileSync(path.join(dir, 'payload.bin'), data)
  const meta = createTorrent(path.join(dir, 'payload.bin'), path.join(dir, 'payload.torrent'), { pieceLength: PIECE })
  assert.strictEqual(meta.num_pieces, Math.ceil(data.length / PIECE))

  const { port } = await startSeed(t, path.join(dir, 'payload.torrent'), dir)

  const socket = net.connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  const raw = rawHandshake(socket)
  const wire = pwp()
  socket.pipe(wire).pipe(socket)

  const events = []
  const extended = []
  let handshake = null
  let metadata = null
  let gotMetadata
  const metadataArrived = new Promise((resolve) => { gotMetadata = resolve })
  wire.on('handshake', (infoHash, peerId, extensions) => {
    handshake = { infoHash: Buffer.from(infoHash), peerId: Buffer.from(peerId), extensions }
  })
  wire.on('extended', (id, body) => {
    const message = decodeExtended(Buffer.from(body))
    extended.push({ id, ...message })
    if (id === 0 && message.dict.m && message.dict.m.ut_metadata) {
      // ask libtorrent for the torrent's metadata, with the id it chose
      wire.extended(message.dict.m.ut_metadata, { msg_type: 0, piece: 0 })
    }
    if (id === OUR_UT_METADATA) {
      metadata = message
      gotMetadata()
    }
  })
  wire.on('bitfield', () => events.push('bitfield'))
  wire.on('unchoke', () => events.push('unchoke'))
  wire.on('close', () => events.push('close'))

  const received = Buffer.alloc(data.length)
  let requested = false
  const blocks = new Promise((resolve, reject) => {
    wire.on('unchoke', () => {
      if (requested) return // libtorrent may unchoke more than once
      requested = true
      let pending = 0
      for (let offset = 0; offset < data.length; offset += BLOCK) {
        const index = Math.floor(offset / PIECE)
        const length = Math.min(BLOCK, data.length - offset)
        pending++
        wire.request(index, offset % PIECE, length, (err, block) => {
          if (err) return reject(new Error(`request ${index}/${offset % PIECE} failed: ${err.message}`))
          assert.strictEqual(block.length, length)
          Buffer.from(block).copy(received, offset)
          if (--pending === 0) resolve()
        })
      }
    })
  })

  wire.handshake(meta.info_hash, PEER_ID)
  wire.extended(0, { m: { ut_metadata: OUR_UT_METADATA }, v: 'peer-wire-native interop test' })
  wire.interested()

  await within(blocks, 20000, () => `not every block arrived from libtorrent; wire events: ${events.join(', ')}`)
  await within(metadataArrived, 10000, 'no ut_metadata answer from libtorrent')

  // the handshake: what the wire reported is what was on the wire
  const bytes = await raw
  assert.strictEqual(bytes.pstr, 'BitTorrent protocol')
  assert.ok(handshake, 'no handshake event')
  assert.strictEqual(handshake.infoHash.toString('hex'), meta.info_hash)
  assert.ok(bytes.infoHash.equals(handshake.infoHash))
  assert.match(handshake.peerId.toString('latin1'), /^-LT20/)
  assert.deepStrictEqual(handshake.extensions, { dht: true, extended: true })
  assert.deepStrictEqual(wire.peerExtensions, handshake.extensions)
  assert.strictEqual(bytes.reserved[5] & 0x10, 0x10, 'libtorrent sets the extension protocol bit')
  // libtorrent 2.0 sets the DHT bit even with its DHT off (it is compiled in)
  assert.strictEqual(bytes.reserved[7] & 0x01, 0x01)
  // and the fast extension bit, which the wire does not report: reading it must not disturb the rest
  assert.strictEqual(bytes.reserved[7] & 0x04, 0x04)

  // the extended handshake: id 0, a bencoded dictionary with libtorrent's extensions
  const hello = extended.find((e) => e.id === 0)
  assert.ok(hello, 'no extended handshake from libtorrent')
  assert.strictEqual(hello.rest.length, 0)
  assert.match(hello.dict.v.toString(), /^libtorrent\/2\./)
  for (const name of ['ut_metadata', 'ut_pex', 'upload_only', 'lt_donthave']) {
    assert.ok(Number.isInteger(hello.dict.m[name]) && hello.dict.m[name] > 0, `m.${name}`)
  }
  assert.strictEqual(hello.dict.reqq, 2000)
  assert.strictEqual(extended.indexOf(hello), 0, 'the extended handshake comes first')

  // an extended message other than the handshake: ut_metadata's answer, with
  // the info dictionary whose SHA-1 is the info hash
  assert.strictEqual(metadata.dict.msg_type, 1)
  assert.strictEqual(metadata.dict.piece, 0)
  assert.strictEqual(metadata.dict.total_size, metadata.rest.length)
  assert.strictEqual(metadata.dict.total_size, hello.dict.metadata_size)
  assert.strictEqual(sha1(metadata.rest), meta.info_hash)

  // every piece verified against libtorrent's hashes, and the whole payload
  for (let i = 0; i < meta.num_pieces; i++) {
    assert.strictEqual(sha1(received.subarray(i * PIECE, (i + 1) * PIECE)), meta.pieces[i], `piece ${i}`)
  }
  assert.ok(received.equals(data))
  assert.strictEqual(wire.downloaded, data.length)
  // the bitfield's bits, as 0.7.1 keeps them: one per bit of its bytes
  assert.strictEqual(wire.peerPieces.length, 8 * Math.ceil(meta.num_pieces / 8))
  for (let i = 0; i < wire.peerPieces.length; i++) assert.strictEqual(wire.peerPieces[i], i < meta.num_pieces, `bit ${i}`)
  assert.ok(events.indexOf('bitfield') < events.indexOf('unchoke'))
  assert.strictEqual(wire.protocolError, null)

  socket.end()
  wire.end()
})

test('seeds a multi-piece payload to a libtorrent leecher, which verifies every piece', async (t) => {
  const { data, meta, torrent: torrentFile, target } = payloadTorrent(tmpdir(t), 1500000, 2, PIECE) // 46 pieces of 32 KiB
  const pieceCount = Math.ceil(data.length / PIECE)
  assert.strictEqual(meta.num_pieces, pieceCount)

  // our side: every piece we serve matches libtorrent's hash for it
  for (let i = 0; i < pieceCount; i++) {
    assert.strictEqual(sha1(data.subarray(i * PIECE, (i + 1) * PIECE)), meta.pieces[i], `piece ${i}`)
  }

  const seen = { handshake: null, extended: [], interested: 0, requests: 0, bad: [], wires: 0 }
  const sockets = new Set()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    seen.wires++
    const wire = pwp()
    socket.on('error', () => {})
    socket.pipe(wire).pipe(socket)
    wire.on('handshake', (infoHash, peerId, extensions) => {
      seen.handshake = { infoHash: Buffer.from(infoHash).toString('hex'), peerId: Buffer.from(peerId), extensions }
      wire.handshake(infoHash, PEER_ID)
      wire.extended(0, { m: {}, v: 'peer-wire-native interop test' })
      const bits = Buffer.alloc(Math.ceil(pieceCount / 8))
      for (let i = 0; i < pieceCount; i++) bits[i >> 3] |= 0x80 >> (i & 7)
      wire.bitfield(bits)
    })
    wire.on('extended', (id, body) => seen.extended.push({ id, ...decodeExtended(Buffer.from(body)) }))
    wire.on('interested', () => {
      seen.interested++
      wire.unchoke()
    })
    wire.on('request', (index, offset, length, respond) => {
      seen.requests++
      const start = index * PIECE + offset
      if (index >= pieceCount || offset + length > PIECE || start + length > data.length) {
        seen.bad.push([index, offset, length])
        return
      }
      respond(null, data.subarray(start, start + length))
    })
  })
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))

  const leech = startPeer(t, ['leech', torrentFile, target, `127.0.0.1:${server.address().port}`])
  // 'finished': libtorrent has every piece and checked each against its hash;
  // a corrupt block would show as 'hash_failed' or get us banned ('banned' is fatal)
  const finished = await leech.waitFor('finished', { timeout: 30000, fatal: ['error', 'banned', 'hash_failed'] })
  assert.strictEqual(finished.pieces, pieceCount)
  assert.strictEqual(finished.total, pieceCount)
  assert.strictEqual(finished.hash_failures, 0)
  assert.strictEqual(finished.downloaded, data.length)
  assert.ok(fs.readFileSync(path.join(target, 'payload.bin')).equals(data))

  assert.strictEqual(seen.wires, 1)
  assert.strictEqual(seen.handshake.infoHash, meta.info_hash)
  assert.match(seen.handshake.peerId.toString('latin1'), /^-LT20/)
  assert.deepStrictEqual(seen.handshake.extensions, { dht: true, extended: true })
  assert.ok(seen.interested >= 1)
  assert.ok(seen.requests >= Math.ceil(data.length / BLOCK))
  assert.deepStrictEqual(seen.bad, [])
  const hello = seen.extended.find((e) => e.id === 0)
  assert.ok(hello, 'no extended handshake from libtorrent')
  assert.match(hello.dict.v.toString(), /^libtorrent\/2\./)
  assert.ok(Number.isInteger(hello.dict.m.ut_metadata))
})
