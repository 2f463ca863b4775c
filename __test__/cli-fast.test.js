'use strict'

// `seed` speaks BEP 6 (fast) to a peer that asks for it: have_all as its
// first message (aria2 drops a fast peer whose first message is anything
// else), its extended handshake after it, requests answered as usual; a
// peer without fast gets the bitfield, as before.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('fs')
const net = require('net')
const path = require('path')
const pwp = require('..')
const { payload } = require('./libtorrent')
const { startSeed, makeTorrent } = require('./command')
const { tmpdir } = require('./tmpdir')

const PEER_ID = Buffer.from('-PW0100-clifast00001')

// The messages a peer gets from `seed` after the handshakes, in order, and
// the first block it asks for; with { fast } it asks for fast.
async function visit (t, fast) {
  const dir = tmpdir(t, 'pwn-cli-fast-')
  const torrent = makeTorrent('fast.bin', [{ data: payload(100003, 301) }])
  fs.writeFileSync(path.join(dir, 'fast.bin.torrent'), torrent.file)
  fs.writeFileSync(path.join(dir, 'fast.bin'), torrent.data)
  const seed = startSeed(t, [path.join(dir, 'fast.bin.torrent'), path.join(dir, 'fast.bin')])
  const port = await seed.port
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  t.after(() => socket.destroy())
  const wire = pwp()
  socket.pipe(wire).pipe(socket)
  const got = []
  for (const name of ['bitfield', 'have-all', 'have-none', 'extended', 'unchoke']) {
    wire.on(name, (id) => got.push(name === 'extended' ? `extended ${id}` : name))
  }
  wire.handshake(torrent.infoHash, PEER_ID, fast ? { fast: true } : undefined)
  wire.once('extended', () => wire.interested())
  await new Promise((resolve) => wire.once('unchoke', resolve))
  const block = await new Promise((resolve, reject) => {
    wire.request(0, 0, 16384, (err, b) => err ? reject(err) : resolve(b))
  })
  return { got, hasFast: wire.hasFast, pieces: wire.peerPieces, block, data: torrent.data }
}

test('seed to a peer that asks for fast: have_all first, then its extended handshake; blocks as usual', async (t) => {
  const { got, hasFast, pieces, block, data } = await visit(t, true)
  assert.strictEqual(hasFast, true)
  assert.deepStrictEqual(got, ['have-all', 'extended 0', 'unchoke'])
  assert.strictEqual(pieces[0], true)
  assert.ok(block.equals(data.subarray(0, 16384)))
})

test('seed to a peer without fast: the bitfield first, as before', async (t) => {
  const { got, hasFast, block, data } = await visit(t, false)
  assert.strictEqual(hasFast, false)
  assert.deepStrictEqual(got, ['bitfield', 'extended 0', 'unchoke'])
  assert.ok(block.equals(data.subarray(0, 16384)))
})
