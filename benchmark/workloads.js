'use strict'

// The workloads of the benchmark. Each takes an implementation (see impls.js)
// and returns the milliseconds it took; each checks that everything arrived.

const net = require('node:net')
const { once } = require('node:events')
const { Duplex } = require('node:stream')

const BLOCK = 16384
const PIECE_BLOCKS = 16 // 256 KiB pieces
const HASH = Buffer.alloc(20, 0x11)
const ID_A = Buffer.from('-PW0001-aaaaaaaaaaaa')
const ID_B = Buffer.from('-PW0001-bbbbbbbbbbbb')

const now = () => process.hrtime.bigint()
const since = (t0) => Number(now() - t0) / 1e6
const tick = () => new Promise((resolve) => setImmediate(resolve))

// A loopback TCP connection: [client socket, server-side socket], as the
// program made them: Nagle's algorithm on (Node's default) unless `noDelay`.
async function connection ({ noDelay = false } = {}) {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = net.connect(server.address().port, '127.0.0.1')
  const [[accepted]] = await Promise.all([once(server, 'connection'), once(client, 'connect')])
  server.close()
  if (noDelay) {
    client.setNoDelay(true)
    accepted.setNoDelay(true)
  }
  return [client, accepted]
}

// Bulk transfer: the leecher keeps 32 requests of 16 KiB outstanding until
// `total` bytes have arrived; the seeder answers from `data` (a preallocated
// buffer, a multiple of 16 KiB); every block is compared with what was sent.
// `encrypted`: both wires require RC4 (MSE/PE), the leecher dials; the time
// includes the MSE handshake.
async function bulk (impl, { total, data, tcp, noDelay, encrypted = false }) {
  const seeder = encrypted ? impl.encrypted.create('responder', HASH) : impl.create()
  const leecher = encrypted ? impl.encrypted.create('initiator', HASH) : impl.create()
  let sockets = []
  if (tcp) {
    sockets = await connection({ noDelay })
    const [client, accepted] = sockets
    accepted.pipe(seeder).pipe(accepted)
    client.pipe(leecher).pipe(client)
  } else {
    leecher.pipe(seeder).pipe(leecher)
  }
  const blocks = total / BLOCK
  const dataBlocks = data.length / BLOCK
  seeder.on('interested', () => seeder.unchoke())
  seeder.on('request', (i, offset, length, respond) => {
    const at = ((i * PIECE_BLOCKS + offset / BLOCK) % dataBlocks) * BLOCK
    respond(null, data.subarray(at, at + length))
  })
  const done = new Promise((resolve, reject) => {
    let next = 0
    let received = 0
    const ask = () => {
      const b = next++
      leecher.request(Math.floor(b / PIECE_BLOCKS), (b % PIECE_BLOCKS) * BLOCK, BLOCK, (err, block) => {
        if (err) return reject(err)
        const at = (b % dataBlocks) * BLOCK
        if (!impl.bytes(block).equals(data.subarray(at, at + BLOCK))) return reject(new Error(`block ${b} differs`))
        if (++received === blocks) return resolve()
        if (next < blocks) ask()
      })
    }
    leecher.once('unchoke', () => {
      const window = Math.min(32, blocks)
      for (let k = 0; k < window; k++) ask()
    })
  })
  await tick()
  const t0 = now()
  if (encrypted) {
    seeder.once('handshake', () => seeder.handshake(HASH, ID_A))
    impl.encrypted.start(leecher, HASH, () => {
      leecher.handshake(HASH, ID_B)
      leecher.interested()
    })
  } else {
    seeder.handshake(HASH, ID_A)
    leecher.handshake(HASH, ID_B)
    leecher.interested()
  }
  await done
  const ms = since(t0)
  leecher.destroy()
  seeder.destroy()
  for (const s of sockets) s.destroy()
  return ms
}

// The floor of bulk in memory: what Node's streams alone cost with the
// bulk transfer's pattern and no protocol. Two bare stream.Duplex piped
// both ways; the leecher keeps 32 requests outstanding, writing those of
// a tick as one chunk of 17 bytes each (as a wire batches them); the
// seeder pushes, per request, a 13-byte header and the block, two chunks,
// at once (0.7.1's pattern, kept by every wire here); the leecher compares
// every block with what was sent, as `bulk` does. Nothing is parsed: the
// header chunks are recognised by their length.
async function bulkFloor ({ total, data }) {
  const FRAME = 17
  const blocks = total / BLOCK
  const dataBlocks = data.length / BLOCK
  const header = Buffer.alloc(13)
  const wanted = [] // the blocks asked for, in order
  let next = 0
  let received = 0
  let queued = 0
  let finish
  const done = new Promise((resolve) => { finish = resolve })
  const bare = (onchunk) => new Duplex({ read () {}, write (chunk, encoding, cb) { onchunk(chunk); cb() } })
  const seeder = bare((chunk) => {
    for (let at = 0; at < chunk.length; at += FRAME) {
      const from = (chunk.readUInt32BE(at) % dataBlocks) * BLOCK
      seeder.push(Buffer.from(header))
      seeder.push(data.subarray(from, from + BLOCK))
    }
  })
  const leecher = bare((chunk) => {
    if (chunk.length === header.length) return
    const at = (wanted.shift() % dataBlocks) * BLOCK
    if (!chunk.equals(data.subarray(at, at + BLOCK))) throw new Error('a block differs')
    if (++received === blocks) return finish()
    if (next < blocks) ask()
  })
  const flush = () => {
    const out = Buffer.alloc(FRAME * queued)
    for (let k = 0; k < queued; k++) out.writeUInt32BE(wanted[wanted.length - queued + k], FRAME * k)
    queued = 0
    leecher.push(out)
  }
  const ask = () => {
    wanted.push(next++)
    if (queued++ === 0) process.nextTick(flush)
  }
  leecher.pipe(seeder).pipe(leecher)
  await tick()
  const t0 = now()
  for (let k = 0; k < Math.min(32, blocks); k++) ask()
  await done
  const ms = since(t0)
  leecher.destroy()
  seeder.destroy()
  return ms
}

// The raw ceiling: the bytes of the bulk transfer (16 KiB blocks with their
// 13-byte headers) over a loopback TCP connection, with no protocol, written
// 32 blocks at a time (the window the leecher keeps) in one write each
// (writes this large never wait for Nagle's algorithm).
async function ceiling ({ total }) {
  const [client, accepted] = await connection()
  const WINDOW = 32
  const chunk = Buffer.alloc(WINDOW * (BLOCK + 13), 0x61)
  const writes = total / BLOCK / WINDOW
  const expected = writes * chunk.length
  let got = 0
  const done = new Promise((resolve) => {
    client.on('data', (d) => {
      got += d.length
      if (got === expected) resolve()
    })
  })
  const t0 = now()
  for (let sent = 0; sent < writes;) {
    sent++
    if (!accepted.write(chunk)) await once(accepted, 'drain')
  }
  await done
  const ms = since(t0)
  client.destroy()
  accepted.destroy()
  return ms
}

// A stream as a peer sends it: a handshake, then `count` piece messages of
// 16 KiB (built here, so that making it runs no implementation's code).
function pieceStream (count) {
  const FRAME = 13 + BLOCK
  const out = Buffer.alloc(68 + count * FRAME)
  out[0] = 19
  out.write('BitTorrent protocol', 1, 'latin1')
  HASH.copy(out, 28)
  ID_A.copy(out, 48)
  for (let i = 0; i < count; i++) {
    const at = 68 + i * FRAME
    out.writeUInt32BE(9 + BLOCK, at)
    out[at + 4] = 7
    out.writeUInt32BE(i, at + 5)
    out.writeUInt32BE(0, at + 9)
    out.fill(i & 0xff, at + 13, at + FRAME)
  }
  return out
}

// Reassembly: the recorded stream written in the given chunks (cut once, the
// same for every implementation); time until every piece was emitted.
async function reassembly (impl, { chunks, count }) {
  const w = impl.create()
  let pieces = 0
  let bytes = 0
  const done = new Promise((resolve) => {
    w.on('piece', (i, offset, block) => {
      bytes += block.length
      if (++pieces === count) resolve()
    })
  })
  const t0 = now()
  for (let k = 0; k < chunks.length; k++) w.write(chunks[k])
  await done
  const ms = since(t0)
  if (bytes !== count * BLOCK) throw new Error(`${bytes} bytes of blocks, expected ${count * BLOCK}`)
  w.destroy()
  return ms
}

// The floors of reassembly: a bare stream.Duplex fed the same chunks that
// only counts them, and one that also copies each 16 KiB block (with its
// 13-byte header) into freshly allocated memory, as any wire that hands
// out contiguous blocks must.
async function reassemblyFloor (copy, { chunks, count }) {
  const FRAME = BLOCK + 13
  let bytes = 0
  let block = null
  let filled = 0
  const d = new Duplex({
    read () {},
    write (chunk, encoding, cb) {
      bytes += chunk.length
      if (copy) {
        for (let at = 0; at < chunk.length;) {
          if (block === null) {
            block = Buffer.allocUnsafe(FRAME)
            filled = 0
          }
          const take = Math.min(chunk.length - at, FRAME - filled)
          block.set(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take), filled)
          filled += take
          at += take
          if (filled === FRAME) block = null
        }
      }
      cb()
    }
  })
  const t0 = now()
  for (let k = 0; k < chunks.length; k++) d.write(chunks[k])
  const ms = since(t0)
  if (bytes < count * BLOCK) throw new Error('short')
  return ms
}

function cut (stream, size) {
  const out = []
  for (let at = 0; at < stream.length; at += size) out.push(stream.subarray(at, at + size))
  return out
}

// Small messages from a sender wire to a receiver wire in memory: `have`
// alone, or the mix interested/have/request/cancel/uninterested (five
// events an iteration), each request with a callback, as users make them
// (the cancel calls it back with an Error). Time from the first call until
// the receiver has emitted every event and every callback has run.
async function small (impl, { kind, messages }) {
  const sender = impl.create()
  const receiver = impl.create()
  sender.pipe(receiver).pipe(sender)
  await tick()
  sender.handshake(HASH, ID_A)
  receiver.handshake(HASH, ID_B)
  receiver.unchoke()
  if (sender.peerChoking) await once(sender, 'unchoke')
  await tick()
  let events = 0
  let cancelled = 0
  const expected = messages
  const done = new Promise((resolve) => {
    const count = () => { if (++events === expected) resolve() }
    for (const name of ['have', 'request', 'cancel', 'interested', 'uninterested']) receiver.on(name, count)
  })
  const callback = (err) => {
    if (err) cancelled++
  }
  const t0 = now()
  if (kind === 'have') {
    for (let i = 0; i < messages; i++) sender.have(i)
  } else {
    for (let i = 0; i < messages / 5; i++) {
      sender.interested()
      sender.have(i)
      sender.request(i, 0, BLOCK, callback)
      sender.cancel(i, 0, BLOCK)
      sender.uninterested()
    }
  }
  await done
  const ms = since(t0)
  if (kind !== 'have' && cancelled !== messages / 5) throw new Error(`${cancelled} requests called back cancelled, expected ${messages / 5}`)
  sender.destroy()
  receiver.destroy()
  return ms
}

module.exports = { connection, bulk, bulkFloor, ceiling, pieceStream, reassembly, reassemblyFloor, cut, small, BLOCK, HASH, ID_A, ID_B, tick }
