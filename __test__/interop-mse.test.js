'use strict'

// Encryption (MSE/PE) against other implementations, over loopback TCP:
// libtorrent-rasterbar with encryption forced (RC4 only, both ways) and
// with its defaults, and bittorrent-protocol 5.0.9's own MSE, both roles.

const test = require('node:test')
const assert = require('node:assert')
const crypto = require('crypto')
const fs = require('fs')
const net = require('net')
const path = require('path')
const pwp = require('..')
const { payloadTorrent, startPeer, payload, sha1, within, startSeed, dial, wireState } = require('./libtorrent')
const { tmpdir: tmp } = require('./tmpdir')

const BLOCK = 16384
const PIECE = 32768
const PEER_ID = Buffer.from('-PW0100-interopmse01')

const tmpdir = (t) => tmp(t, 'pwn-interop-mse-')

// Asks `wire` for all of `length` bytes once unchoked; resolves with them.
function downloadAll (wire, length) {
  const received = Buffer.alloc(length)
  let requested = false
  return new Promise((resolve, reject) => {
    wire.on('unchoke', () => {
      if (requested) return
      requested = true
      let pending = 0
      for (let offset = 0; offset < length; offset += BLOCK) {
        const index = Math.floor(offset / PIECE)
        const size = Math.min(BLOCK, length - offset)
        pending++
        wire.request(index, offset % PIECE, size, (err, block) => {
          if (err) return reject(new Error(`request ${index}/${offset % PIECE} failed: ${err.message}`))
          Buffer.from(block).copy(received, offset)
          if (--pending === 0) resolve(received)
        })
      }
    })
  })
}

// Serves `data` on `wire` (a bitfield of every piece, unchoke on interest).
function serve (wire, data, pieces) {
  wire.on('interested', () => wire.unchoke())
  wire.on('request', (index, offset, length, respond) => {
    const at = index * PIECE + offset
    respond(null, data.subarray(at, at + length))
  })
  return () => wire.bitfield(Buffer.alloc(Math.ceil(pieces / 8), 0xff))
}

async function makeTorrent (t, size, seed) {
  return payloadTorrent(tmpdir(t), size, seed, PIECE)
}

for (const policy of ['require', 'prefer']) {
  test(`downloads from a libtorrent seed with encryption forced (our wire: '${policy}')`, async (t) => {
    const { data, meta, torrent, source } = await makeTorrent(t, 1000003, 11)
    const { seed, port } = await startSeed(t, torrent, source, { encryption: 'forced' })

    const socket = net.connect(port, '127.0.0.1')
    t.after(() => socket.destroy())
    const wire = pwp({ encryption: policy, infoHash: meta.info_hash })
    let encryption = null
    wire.on('encryption', (e) => { encryption = e })
    socket.pipe(wire).pipe(socket)
    // queued: goes out inside the encrypted stream once MSE is done
    wire.handshake(meta.info_hash, PEER_ID)
    wire.interested()
    const handshake = new Promise((resolve) => wire.once('handshake', (ih, id) => resolve([Buffer.from(ih).toString('hex'), Buffer.from(id).toString('latin1')])))
    const received = await within(downloadAll(wire, data.length), 20000, () => `not every block arrived from libtorrent; our wire: ${wireState(wire)}\nlibtorrent printed:\n${seed.output()}`)
    const [ih, id] = await handshake
    assert.strictEqual(ih, meta.info_hash)
    assert.match(id, /^-LT20/)
    assert.strictEqual(encryption, 'rc4')
    assert.strictEqual(wire.encryption, 'rc4')
    for (let i = 0; i < meta.num_pieces; i++) {
      assert.strictEqual(sha1(received.subarray(i * PIECE, (i + 1) * PIECE)), meta.pieces[i], `piece ${i}`)
    }
    assert.strictEqual(wire.protocolError, null)
    socket.end()
    wire.end()
  })
}

test('a libtorrent seed with its default settings, dialled by a \'prefer\' wire: the MSE handshake, then what it selects', async (t) => {
  const { data, meta, torrent, source } = await makeTorrent(t, 500009, 14)
  const { seed, port } = await startSeed(t, torrent, source, { encryption: 'default' })
  const wire = pwp({ encryption: 'prefer', infoHash: meta.info_hash })
  const socket = dial(t, port, wire)
  wire.handshake(meta.info_hash, PEER_ID)
  wire.interested()
  const received = await within(downloadAll(wire, data.length), 20000, () => `not every block arrived from libtorrent; our wire: ${wireState(wire)}\nlibtorrent printed:\n${seed.output()}`)
  assert.strictEqual(sha1(received), sha1(data))
  // libtorrent selects plaintext when offered both, unless prefer_rc4
  assert.strictEqual(wire.encryption, 'plaintext')
  socket.end()
  wire.end()
})

// The README's advice: a 'prefer' connection that ends before MSE is done
// (a peer without MSE read our key as a bad handshake) is redialled in
// plaintext.
test('a libtorrent seed without MSE refuses a \'prefer\' wire; redialled in plaintext, the download completes', async (t) => {
  const { data, meta, torrent, source } = await makeTorrent(t, 300007, 15)
  const { seed, port } = await startSeed(t, torrent, source, { encryption: 'disabled' })
  const dial = (opts) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    t.after(() => socket.destroy())
    const wire = pwp(opts)
    socket.pipe(wire).pipe(socket)
    wire.handshake(meta.info_hash, PEER_ID)
    wire.interested()
    return wire
  }
  const first = dial({ encryption: 'prefer', infoHash: meta.info_hash })
  let handshaken = false
  first.on('handshake', () => { handshaken = true })
  await within(new Promise((resolve) => first.once('close', resolve)), 10000, 'libtorrent did not close the MSE connection')
  assert.strictEqual(first.encryption, null)
  assert.strictEqual(handshaken, false)
  const second = dial()
  const received = await within(downloadAll(second, data.length), 20000, () => `not every block arrived in plaintext; our wire: ${wireState(second)}\nlibtorrent printed:\n${seed.output()}`)
  assert.strictEqual(sha1(received), sha1(data))
  assert.strictEqual(second.encryption, null)
  second.end()
})

for (const [policy, encryption] of [['require', 'forced'], ['prefer', 'forced'], ['prefer', 'default']]) {
  test(`seeds to a libtorrent leecher (${encryption} encryption) that dials our '${policy}' wire, which verifies every piece`, async (t) => {
    const { data, meta, torrent, target } = await makeTorrent(t, 800001, 12)
    const wires = []
    const sockets = new Set()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      const wire = pwp({ encryption: policy, infoHashes: [crypto.randomBytes(20), meta.info_hash] })
      wires.push(wire)
      wire.on('error', () => {})
      const bitfield = serve(wire, data, meta.num_pieces)
      wire.on('handshake', (ih) => {
        wire.handshake(ih, PEER_ID)
        bitfield()
      })
      socket.pipe(wire).pipe(socket)
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => {
      for (const s of sockets) s.destroy()
      server.close()
    })
    const leech = startPeer(t, ['leech', torrent, target, `127.0.0.1:${server.address().port}`], { encryption })
    const finished = await leech.waitFor('finished', { timeout: 30000 })
    assert.strictEqual(finished.pieces, meta.num_pieces)
    assert.strictEqual(finished.hash_failures, 0)
    assert.ok(fs.readFileSync(path.join(target, 'payload.bin')).equals(data))
    const served = wires.filter((w) => w.uploaded > 0)
    assert.ok(served.length >= 1)
    for (const w of served) assert.strictEqual(w.encryption, 'rc4')
  })
}

// bittorrent-protocol 5.0.9: `new Protocol('tcpOutgoing' | 'tcpIncoming', pe)`
// with pe 1 (MSE, plaintext allowed) or 2 (RC4 only); its initiator calls
// startEncryption(infoHashHex) and must wait for 'crypto-handshake' before
// its handshake; its responder answers 'crypto-infohash' with setInfoHash.
async function btpPair (t, { btpRole, pe, policy, data }) {
  const { default: Protocol } = await import('bittorrent-protocol')
  const ih = crypto.randomBytes(20).toString('hex')
  const btpId = Buffer.from('-BT0509-interop-mse0').toString('hex')
  const pieces = Math.ceil(data.length / PIECE)
  let ours = null
  let theirs = null
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    if (btpRole === 'responder') {
      theirs = new Protocol('tcpIncoming', pe)
      theirs.on('crypto-infohash', () => theirs.setInfoHash(ih))
      socket.pipe(theirs).pipe(socket)
    } else {
      ours = pwp({ encryption: policy, infoHashes: [ih] })
      socket.pipe(ours).pipe(socket)
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const accepted = new Promise((resolve) => server.once('connection', () => setImmediate(resolve)))
  const socket = net.connect(server.address().port, '127.0.0.1')
  socket.on('error', () => {})
  t.after(() => { socket.destroy(); server.close() })
  if (btpRole === 'responder') {
    ours = pwp({ encryption: policy, infoHash: ih })
    socket.pipe(ours).pipe(socket)
    ours.handshake(ih, PEER_ID)
    ours.interested()
    await accepted
  } else {
    theirs = new Protocol('tcpOutgoing', pe)
    socket.pipe(theirs).pipe(socket)
    theirs.on('crypto-handshake', () => theirs.handshake(ih, btpId))
    theirs.startEncryption(ih)
    await accepted
    ours.on('handshake', () => { ours.handshake(ih, PEER_ID); ours.interested() })
  }
  // btp seeds to us
  theirs.on('handshake', () => {
    if (btpRole === 'responder') theirs.handshake(ih, btpId)
    theirs.bitfield(Buffer.alloc(Math.ceil(pieces / 8), 0xff))
  })
  theirs.on('interested', () => theirs.unchoke())
  theirs.on('request', (index, offset, length, respond) => {
    const at = index * PIECE + offset
    respond(null, data.subarray(at, at + length))
  })
  const received = await within(downloadAll(ours, data.length), 20000, 'not every block arrived from bittorrent-protocol')
  return { ours, theirs, received }
}

// A btp responder with pe 1 selects plaintext when it is offered (as our
// 'prefer' initiator does): the MSE handshake, then plaintext.
for (const [btpRole, pe, policy, method] of [
  ['responder', 2, 'require', 'rc4'],
  ['responder', 2, 'prefer', 'rc4'],
  ['responder', 1, 'prefer', 'plaintext'],
  ['initiator', 2, 'require', 'rc4'],
  ['initiator', 1, 'prefer', 'rc4'],
  ['initiator', 1, 'require', 'rc4']
]) {
  test(`bittorrent-protocol 5.0.9's MSE as the ${btpRole} (pe ${pe}), our wire '${policy}': ${method}, SHA-1 checked`, async (t) => {
    const data = payload(300007, 13)
    const { ours, theirs, received } = await btpPair(t, { btpRole, pe, policy, data })
    assert.strictEqual(sha1(received), sha1(data))
    assert.strictEqual(ours.encryption, method)
    assert.strictEqual(theirs._encryptionMethod, method === 'rc4' ? 2 : 1)
    ours.destroy()
    theirs.destroy()
  })
}
