'use strict'

// `peer-wire-native demo`: a seeded random payload, its metainfo built in
// memory, a seeder on 127.0.0.1 and a second wire downloading it over TCP.

const crypto = require('crypto')
const { parseArgs } = require('util')
const { createTorrent, parseTorrent } = require('../torrent')
const { MemoryStorage } = require('../storage')
const { seed } = require('../seeder')
const { download } = require('../downloader')
const { integer } = require('../usage')
const { log, progress } = require('../output')
const { mib } = require('../units')

// `size` pseudo-random bytes, the same for the same seed: AES-128-CTR over
// zeros with a key derived from the seed (fast, and no dependency).
function payload (size, seed) {
  const key = crypto.createHash('sha256').update(`peer-wire-native demo ${seed}`).digest()
  const cipher = crypto.createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32))
  const out = Buffer.alloc(size)
  const chunk = 1 << 20
  for (let at = 0; at < size; at += chunk) {
    cipher.update(out.subarray(at, Math.min(size, at + chunk))).copy(out, at)
  }
  return out
}

async function demo (args) {
  const { values } = parseArgs({
    args,
    options: { size: { type: 'string' }, 'piece-length': { type: 'string' }, seed: { type: 'string' } }
  })
  const size = integer(values.size ?? 64, '--size (MiB)', 1, 4096) * 1048576
  const pieceLength = integer(values['piece-length'] ?? 256, '--piece-length (KiB)', 16, 16384) * 1024
  const seedValue = integer(values.seed ?? 1, '--seed', 0, Number.MAX_SAFE_INTEGER)

  const data = payload(size, seedValue)
  const torrent = parseTorrent(createTorrent('demo.bin', data, pieceLength))
  log(`payload: ${mib(size)} MiB (seed ${seedValue}), ${torrent.pieceCount} pieces of ${pieceLength / 1024} KiB, ` +
    `info hash ${torrent.infoHash.toString('hex')}`)

  const server = await seed({ torrent, storage: new MemoryStorage(data), host: '127.0.0.1', port: 0 })
  const { address, port } = server.address()
  log(`seeding on ${address}:${port}; downloading with a second wire over TCP`)

  const received = Buffer.alloc(size)
  const bar = progress('download', size)
  let result
  try {
    result = await download({
      torrent,
      storage: new MemoryStorage(received),
      peers: [{ host: address, port }],
      onProgress: ({ bytes }) => bar.update(bytes)
    })
  } finally {
    bar.stop()
    server.close()
  }

  const sent = crypto.createHash('sha1').update(data).digest('hex')
  const got = crypto.createHash('sha1').update(received).digest('hex')
  if (sent !== got) throw new Error(`the payload's SHA-1 is ${got}, expected ${sent}`)
  log(`downloaded ${mib(result.bytes)} MiB in ${result.seconds.toFixed(2)} s: ` +
    `${mib(result.bytes / result.seconds)} MiB/s`)
  log(`verified: all ${torrent.pieceCount} pieces passed SHA-1, payload SHA-1 ${got} matches`)
}

module.exports = { demo }
