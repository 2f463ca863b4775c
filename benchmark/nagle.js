'use strict'

// Nagle's algorithm and a consumer that never calls setNoDelay (as
// peer-wire-swarm, under torrent-stream and peerflix): a leecher downloads
// a payload in 16 KiB pieces, one block per piece, keeping a few requests
// outstanding, from a seeder, over loopback TCP; both ends pipe the socket
// `net` made (`socket.pipe(wire).pipe(socket)`) and never touch it. Not part
// of `npm run bench`:
//
//   node benchmark/nagle.js [--runs 5] [--size 16] [--outstanding 1] [--async]
//                           [--impl label=path]... [--libtorrent]
//
// Each round runs every implementation once, the order rotating; it prints
// every time and the medians. Implementations (default): this checkout as
// it is, and this checkout with `{ noDelay: false }` (Nagle kept, the old
// behaviour); add e.g. `--impl before=/work/before` for another checkout.
// `--async` makes the seeder answer each request on the next turn of the
// event loop (as one answering from disk does), outside the batch of the
// chunk that carried the request. `--libtorrent` downloads from a libtorrent
// seed (Debian's python3-libtorrent, 127.0.0.1 only) instead of a seeder
// wire.

const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')

const BLOCK = 16384

function parseArgs (argv) {
  const args = { runs: 5, size: 16, outstanding: 1, async: false, impls: [], libtorrent: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--runs') args.runs = Number(argv[++i])
    else if (a === '--size') args.size = Number(argv[++i])
    else if (a === '--outstanding') args.outstanding = Number(argv[++i])
    else if (a === '--async') args.async = true
    else if (a === '--libtorrent') args.libtorrent = true
    else if (a === '--impl') {
      const [label, file] = argv[++i].split('=')
      args.impls.push({ label, pwp: require(path.resolve(file)), opts: undefined })
    } else throw new Error(`unknown argument ${a}`)
  }
  if (args.impls.length === 0) {
    const pwp = require('..')
    args.impls.push({ label: 'noDelay: false (Nagle kept)', pwp, opts: { noDelay: false } })
    args.impls.push({ label: 'default', pwp, opts: undefined })
  }
  return args
}

function seeder (impl, data, infoHash, answerLater) {
  const pieces = data.length / BLOCK
  const all = Buffer.alloc(Math.ceil(pieces / 8), 0xff)
  return net.createServer(function (socket) {
    const wire = impl.pwp(impl.opts)
    socket.pipe(wire).pipe(socket)
    socket.on('error', () => {})
    wire.on('handshake', function () {
      wire.handshake(infoHash, Buffer.from('-PW0001-nagleseeder0'))
      wire.bitfield({ buffer: all }) // as 0.7.1 wants it (it sends `.buffer`)
    })
    wire.on('interested', () => wire.unchoke())
    wire.on('request', function (i, offset, length, respond) {
      const block = data.subarray(i * BLOCK + offset, i * BLOCK + offset + length)
      if (answerLater) setImmediate(respond, null, block)
      else respond(null, block)
    })
  })
}

// Resolves with the seconds from the connection to the last block.
function leech (impl, port, data, infoHash, outstanding) {
  return new Promise(function (resolve, reject) {
    const pieces = data.length / BLOCK
    const socket = net.connect(port, '127.0.0.1')
    const wire = impl.pwp(impl.opts)
    socket.pipe(wire).pipe(socket)
    let start = 0
    let next = 0
    let received = 0
    const timer = setTimeout(() => reject(new Error(`stalled after ${received} pieces`)), 60000)
    socket.on('error', reject)
    socket.on('connect', function () {
      start = process.hrtime.bigint()
      wire.handshake(infoHash, Buffer.from('-PW0001-nagleleecher'))
    })
    wire.on('handshake', () => wire.interested())
    wire.on('unchoke', fill)
    function fill () {
      while (next < pieces && wire.requests.length < outstanding && !wire.peerChoking) {
        const i = next++
        wire.request(i, 0, BLOCK, function (err, block) {
          if (err) return reject(err)
          if (!block.equals(data.subarray(i * BLOCK, (i + 1) * BLOCK))) return reject(new Error(`piece ${i} differs`))
          if (++received === pieces) {
            const s = Number(process.hrtime.bigint() - start) / 1e9
            clearTimeout(timer)
            wire.destroy()
            socket.destroy()
            return resolve(s)
          }
          fill()
        })
      }
    }
  })
}

function median (xs) {
  const s = xs.slice().sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function libtorrentSeed (data) {
  const { createTorrent, startPeer } = require('../__test__/libtorrent.js')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwn-nagle-'))
  const cleanups = []
  const t = { after: (fn) => cleanups.push(fn) }
  fs.writeFileSync(path.join(dir, 'payload.bin'), data)
  const meta = createTorrent(path.join(dir, 'payload.bin'), path.join(dir, 'payload.torrent'), { pieceLength: BLOCK })
  const seed = startPeer(t, ['seed', path.join(dir, 'payload.torrent'), dir], { deadline: 3600 })
  const { port } = await seed.waitFor('listening')
  await seed.waitFor('seeding')
  return {
    port,
    infoHash: Buffer.from(meta.info_hash, 'hex'),
    close () {
      for (const fn of cleanups) fn()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  const data = require('crypto').randomBytes(args.size * 1024 * 1024)
  const infoHash = Buffer.alloc(20, 7)
  let lt = null
  if (args.libtorrent) lt = await libtorrentSeed(data)
  const times = args.impls.map(() => [])
  console.log(`${args.size} MiB in ${BLOCK / 1024} KiB pieces over loopback TCP, ${args.outstanding} request(s) outstanding, ` +
    `seed: ${lt ? 'libtorrent' : args.async ? 'wire answering on the next turn (setImmediate)' : 'wire answering at once'}; ` +
    `no socket has setNoDelay called by the program; ${args.runs} rounds`)
  for (let r = 0; r < args.runs; r++) {
    for (let k = 0; k < args.impls.length; k++) {
      const j = (k + r) % args.impls.length
      const impl = args.impls[j]
      let s
      if (lt) {
        s = await leech(impl, lt.port, data, lt.infoHash, args.outstanding)
      } else {
        const server = seeder(impl, data, infoHash, args.async)
        await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
        s = await leech(impl, server.address().port, data, infoHash, args.outstanding)
        server.close()
      }
      times[j].push(s)
      console.log(`round ${r + 1}: ${impl.label}: ${s.toFixed(3)} s`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  for (let j = 0; j < args.impls.length; j++) {
    const t = times[j]
    console.log(`${args.impls[j].label}: median ${median(t).toFixed(3)} s, min ${Math.min(...t).toFixed(3)}, max ${Math.max(...t).toFixed(3)} (${t.map((x) => x.toFixed(2)).join(', ')})`)
  }
  if (lt) lt.close()
  // The servers' sockets may linger; the measurements are done.
  process.exit(0)
}

main().catch(function (err) {
  console.error(err)
  process.exit(1)
})
