'use strict'

// What peer-wire-native does beyond (or instead of) 0.7.1, as the README
// lists it: argument checks, bencoding, 'close' once. What a hostile peer
// can do is in hostile.test.js.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const { Duplex, Writable } = require('node:stream')
const pwp = require('..')
const { HASH, ID, handshakeBytes, u32, frame } = require('./peer.js')

// Everything the wire pushes, after the current tick.
function output (wire) {
  const chunks = []
  let chunk
  while ((chunk = wire.read()) !== null) chunks.push(chunk)
  return Buffer.concat(chunks)
}

describe('factory', () => {
  test('works with and without new, returns a Duplex', () => {
    const a = pwp()
    const b = new pwp() // eslint-disable-line new-cap
    for (const w of [a, b]) {
      assert.ok(w instanceof Duplex)
      assert.ok(w instanceof pwp)
      assert.equal(typeof w.handshake, 'function')
    }
  })

  test('can be inherited the 0.7.1 way', () => {
    const util = require('node:util')
    function MyWire () { pwp.call(this) }
    util.inherits(MyWire, pwp)
    MyWire.prototype.hello = function () { return this.amChoking }
    const w = new MyWire()
    assert.equal(w.hello(), true)
    w.have(1)
    assert.deepEqual(output(w), Buffer.from([0, 0, 0, 5, 4, 0, 0, 0, 1]))
  })
})

describe('argument checks', () => {
  const cases = [
    ['have(-1)', (w) => w.have(-1), RangeError],
    ['have(1.5)', (w) => w.have(1.5), RangeError],
    ['have(2^32)', (w) => w.have(2 ** 32), RangeError],
    ["have('1')", (w) => w.have('1'), TypeError],
    ['have(NaN)', (w) => w.have(NaN), RangeError],
    ['request(0, 0, 2^32)', (w) => w.request(0, 0, 2 ** 32), RangeError],
    ['request with a non-function callback', (w) => w.request(0, 0, 1, 'cb'), TypeError],
    ['cancel(0, -1, 1)', (w) => w.cancel(0, -1, 1), RangeError],
    ["piece(0, 0, 'text')", (w) => w.piece(0, 0, 'text'), TypeError],
    ['piece(0, 0, undefined)', (w) => w.piece(0, 0), TypeError],
    ['port(65536)', (w) => w.port(65536), RangeError],
    ['extended(256, buf)', (w) => w.extended(256, Buffer.alloc(1)), RangeError],
    ['extended(0, {n: 1.5})', (w) => w.extended(0, { n: 1.5 }), RangeError],
    ['extended(0, Symbol())', (w) => w.extended(0, Symbol('x')), TypeError],
    ['extended(0, [undefined])', (w) => w.extended(0, [undefined]), TypeError],
    ['bitfield(42)', (w) => w.bitfield(42), TypeError],
    ['handshake(123, id)', (w) => w.handshake(123, ID), TypeError]
  ]
  for (const [name, call, type] of cases) {
    test(`${name} throws a ${type.name} and sends nothing`, () => {
      const w = pwp()
      assert.throws(() => call(w), type)
      assert.equal(output(w).length, 0)
      assert.equal(w.requests.length, 0)
    })
  }

  test('a wrong length keeps the message of 0.7.1', () => {
    const w = pwp()
    assert.throws(() => w.handshake(Buffer.alloc(19), ID), { name: 'RangeError', message: 'infoHash and peerId MUST have length 20' })
    assert.throws(() => w.handshake('abcd', ID), { name: 'RangeError', message: 'infoHash and peerId MUST have length 20' })
    assert.throws(() => w.handshake(HASH, Buffer.alloc(21)), { name: 'RangeError', message: 'infoHash and peerId MUST have length 20' })
  })

  test('the largest values are sent unsigned', () => {
    const w = pwp()
    w.have(2 ** 32 - 1)
    w.port(65535)
    assert.deepEqual(output(w), Buffer.from([0, 0, 0, 5, 4, 255, 255, 255, 255, 0, 0, 0, 3, 9, 255, 255]))
  })
})

describe('bitfield', () => {
  test('a Buffer, a Uint8Array and {buffer} send the same bytes', () => {
    for (const arg of [Buffer.from([0xf0, 0x01]), new Uint8Array([0xf0, 0x01]), { buffer: Buffer.from([0xf0, 0x01]) }]) {
      const w = pwp()
      w.bitfield(arg)
      assert.deepEqual(output(w), Buffer.from([0, 0, 0, 3, 5, 0xf0, 0x01]))
    }
  })

  test('a pooled Buffer sends its own bytes, not its ArrayBuffer', () => {
    const pooled = Buffer.from([0xaa]) // lives inside Node's 8 KiB pool
    assert.ok(pooled.buffer.byteLength > 1)
    const a = pwp()
    const b = pwp()
    a.handshake(HASH, ID)
    a.bitfield(pooled)
    a.have(9)
    const seen = []
    b.on('bitfield', (bits) => seen.push(['bitfield', bits.toString('hex')]))
    b.on('have', (i) => seen.push(['have', i]))
    b.write(output(a))
    assert.deepEqual(seen, [['bitfield', 'aa'], ['have', 9]])
    assert.deepEqual(b.peerPieces.slice(0, 8), [true, false, true, false, true, false, true, false])
    assert.equal(b.peerPieces[9], true)
  })
})

describe('extended(id, object) bencoding', () => {
  function payload (obj) {
    const w = pwp()
    w.extended(3, obj)
    const out = output(w)
    assert.equal(out.readUInt32BE(0), out.length - 4)
    assert.equal(out[4], 20)
    assert.equal(out[5], 3)
    return out.subarray(6).toString('latin1')
  }

  test('dictionary keys are sorted', () => {
    assert.equal(payload({ z: 1, a: 'x', m: [1, Buffer.from('ab')] }), 'd1:a1:x1:mli1e2:abe1:zi1ee')
    assert.equal(payload({ m: { ut_pex: 2, ut_metadata: 1 }, v: 'pwn' }), 'd1:md11:ut_metadatai1e6:ut_pexi2ee1:v3:pwne')
  })

  test('keys are sorted as raw UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF21 is EF BC A1 in UTF-8; U+1F600 is F0 9F 98 80 (but D83D DE00 in UTF-16).
    const encoded = Buffer.from(payload({ '\u{1F600}': 1, \uFF21: 2 }), 'latin1')
    const expected = Buffer.concat([Buffer.from('d3:'), Buffer.from('\uFF21'), Buffer.from('i2e4:'), Buffer.from('\u{1F600}'), Buffer.from('i1ee')])
    assert.deepEqual(encoded, expected)
  })

  test('integers, booleans, strings, bytes, and left-out empty values', () => {
    assert.equal(payload({ n: -42, t: true, f: false, s: 'é', u: undefined, z: null }), 'd1:fi0e1:ni-42e1:s2:\xc3\xa91:ti1ee')
    assert.equal(payload([new Uint8Array([0x61, 0x62]), 0]), 'l2:abi0ee')
    assert.equal(payload('spam'), '4:spam')
    assert.equal(payload(7), 'i7e')
  })
})

describe('close', () => {
  test('is emitted once, synchronously in destroy(), also when piped and ended', async () => {
    const a = pwp()
    const b = pwp()
    a.pipe(b).pipe(a)
    let closes = 0
    a.on('close', () => closes++)
    a.destroy()
    assert.equal(closes, 1)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(closes, 1)
  })
})

describe('request errors', () => {
  test('are Errors with the messages of 0.7.1, without a stack trace; Error.stackTraceLimit is left as it was', async () => {
    const limit = Error.stackTraceLimit
    const errors = []
    const collect = (err) => errors.push(err)
    const w = pwp()
    w.request(0, 0, 1, collect) // the peer chokes us
    w.write(Buffer.concat([handshakeBytes(), Buffer.from([0, 0, 0, 1, 1])])) // unchoke
    w.request(1, 0, 1, collect)
    w.cancel(1, 0, 1)
    w.setTimeout(1)
    w.request(2, 0, 1, collect)
    await new Promise((resolve) => w.once('timeout', resolve))
    w.request(3, 0, 1, collect)
    w.destroy()
    await new Promise((resolve) => setImmediate(resolve))
    w.request(4, 0, 1, collect)
    assert.deepEqual(errors.map((e) => e.message),
      ['peer is choking', 'request was cancelled', 'request has timed out', 'wire is closed', 'wire is closed'])
    for (const err of errors) {
      assert.ok(err instanceof Error)
      assert.ok(require('node:util').types.isNativeError(err))
      assert.equal(err.stack, `Error: ${err.message}`)
    }
    assert.equal(Error.stackTraceLimit, limit)
  })
})

describe('input', () => {
  test('a write larger than one decode slice (64 MiB) delivers every block intact', () => {
    const count = 4200 // 4200 blocks of 16 KiB: about 69 MiB in one write
    const sender = pwp()
    sender.handshake(HASH, ID)
    const block = Buffer.alloc(16384)
    for (let i = 0; i < count; i++) {
      block.fill(i & 0xff)
      block.writeUInt32BE(i, 0)
      sender.piece(i, 0, Buffer.from(block))
    }
    const bytes = output(sender)
    assert.ok(bytes.length > 64 * 1024 * 1024)
    const receiver = pwp()
    let seen = 0
    receiver.on('piece', (index, offset, data) => {
      assert.equal(index, seen)
      assert.equal(data.length, 16384)
      assert.equal(data.readUInt32BE(0), index)
      assert.equal(data[16383], index & 0xff)
      seen++
    })
    receiver.write(bytes)
    assert.equal(seen, count)
    assert.equal(receiver.downloaded, count * 16384)
  })

  // The memory a wire holds: between frames its decoder is a number, and
  // native memory is taken only while a frame is cut across writes (or
  // for a violation).
  test('writes that end between messages take no native receiver; one that cuts a message does until the message is whole, and decoding goes on', () => {
    const sender = pwp()
    sender.handshake(HASH, ID)
    sender.bitfield(Buffer.from([0xff, 0x80]))
    sender.have(3)
    sender.extended(0, { m: { ut_pex: 1 } })
    const first = output(sender)
    sender.have(12)
    sender.interested()
    const second = output(sender)
    const receiver = pwp()
    const got = []
    for (const event of ['handshake', 'bitfield', 'have', 'extended', 'interested']) {
      receiver.on(event, (a) => got.push(event === 'have' ? a : event))
    }
    receiver.write(first.subarray(0, 68)) // the handshake
    receiver.write(first.subarray(68))
    assert.equal(receiver._receiver.native, null)
    assert.deepEqual(got, ['handshake', 'bitfield', 3, 'extended'])
    receiver.write(second.subarray(0, 6)) // inside the have
    assert.notEqual(receiver._receiver.native, null)
    receiver.write(second.subarray(6))
    assert.equal(receiver._receiver.native, null)
    assert.deepEqual(got, ['handshake', 'bitfield', 3, 'extended', 12, 'interested'])
    assert.equal(receiver.peerPieces[12], true)
    assert.equal(receiver.peerExtensions.extended, true)
  })
})

describe('output: small messages coalesced per event-loop turn, blocks by reference', () => {
  test('small messages go out together, in order, with a block between them', async () => {
    const w = pwp()
    const chunks = []
    w.on('data', (c) => chunks.push(c))
    await new Promise((resolve) => setImmediate(resolve)) // flowing
    const block = Buffer.from('abc')
    w.have(1)
    w.unchoke()
    w.piece(2, 0, block) // flushes what is queued, then the header and the block
    w.have(3)
    w.interested()
    assert.equal(chunks.length, 2, 'the queue and the piece header, then the block, at once')
    assert.equal(chunks[1], block, 'the block is pushed as the caller gave it')
    await new Promise((resolve) => process.nextTick(resolve))
    assert.equal(chunks.length, 3, 'the rest as one chunk, when the flowing reader asks for more')
    assert.deepEqual(Buffer.concat(chunks), Buffer.concat([
      Buffer.from([0, 0, 0, 5, 4, 0, 0, 0, 1]), Buffer.from([0, 0, 0, 1, 1]),
      Buffer.from([0, 0, 0, 12, 7, 0, 0, 0, 2, 0, 0, 0, 0]), block,
      Buffer.from([0, 0, 0, 5, 4, 0, 0, 0, 3]), Buffer.from([0, 0, 0, 1, 2])
    ]))
  })

  test('what is queued over one turn of the event loop goes out as one chunk, not one per tick', async () => {
    // Node runs the ticks of each I/O callback (a socket read) before the
    // next callback of the same turn: three ticks stand for three reads,
    // each answered with a request, as a leecher does.
    const w = pwp()
    const chunks = []
    w.on('data', (c) => chunks.push(c))
    await new Promise((resolve) => setImmediate(resolve)) // flowing
    await new Promise((resolve) => process.nextTick(() => {
      w.have(1)
      process.nextTick(() => {
        w.have(2)
        process.nextTick(() => { w.have(3); resolve() })
      })
    }))
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(chunks, [Buffer.from([0, 0, 0, 5, 4, 0, 0, 0, 1, 0, 0, 0, 5, 4, 0, 0, 0, 2, 0, 0, 0, 5, 4, 0, 0, 0, 3])])
  })

  test('a wire holds its queue only until the flush (a grown one until a flush that uses little of it): an idle wire keeps none', async () => {
    const turn = () => new Promise((resolve) => setImmediate(resolve))
    const wire = pwp()
    wire.handshake(HASH, ID)
    wire.have(1)
    assert.notEqual(wire._sender.ops, null)
    await turn()
    assert.equal(wire._sender.ops, null)
    for (let i = 0; i < 100; i++) wire.have(i) // more than the first array holds
    await turn()
    wire.have(7)
    await turn()
    assert.equal(wire._sender.ops, null)
    const peer = pwp()
    const haves = []
    peer.on('have', (i) => haves.push(i))
    peer.write(output(wire))
    assert.deepEqual(haves, [1, ...Array.from({ length: 100 }, (_, i) => i), 7])
  })

  test('a storm of calls in one turn goes out whole and in order, past the largest queue', async () => {
    const wire = pwp()
    wire.handshake(HASH, ID)
    const peer = pwp()
    const haves = []
    peer.on('have', (i) => haves.push(i))
    // A reader that sends on the wire from inside each push (as a piped
    // peer's handlers do): what it queues goes after what was pushed.
    let echoes = 0
    let storming = false
    wire.on('data', (chunk) => {
      peer.write(chunk)
      if (storming && echoes < 3) wire.have(1000000 + echoes++)
    })
    await new Promise((resolve) => setImmediate(resolve)) // flowing, the handshake sent
    storming = true
    for (let i = 0; i < 10000; i++) wire.have(i)
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    const want = Array.from({ length: 10000 }, (_, i) => i)
    assert.deepEqual(haves.filter((i) => i < 1000000), want)
    assert.equal(echoes, 3)
    assert.equal(haves.length, 10000 + echoes)
  })

  test('read() right after a call returns its bytes', () => {
    const w = pwp()
    w.have(7)
    assert.deepEqual(w.read(), Buffer.from([0, 0, 0, 5, 4, 0, 0, 0, 7]))
  })

  test('what handlers send in answer to one chunk reaches a piped socket in one write', async () => {
    const writes = []
    const socket = new Writable({
      writev (chunks, cb) { writes.push(chunks.length); cb() },
      write (chunk, enc, cb) { writes.push(1); cb() }
    })
    const seeder = pwp()
    seeder.pipe(socket)
    seeder.on('request', (i, offset, length, respond) => respond(null, Buffer.alloc(length, i)))
    seeder.unchoke()
    await new Promise((resolve) => setImmediate(resolve))
    writes.length = 0
    const requests = []
    for (let i = 0; i < 8; i++) requests.push(Buffer.from([0, 0, 0, 13, 6, 0, 0, 0, i, 0, 0, 0, 0, 0, 0, 64, 0]))
    seeder.write(Buffer.concat([handshakeBytes(), ...requests]))
    assert.deepEqual(writes, [16], '8 headers and 8 blocks in one writev')
  })
})

describe('the answers to a chunk of requests', () => {
  const native = require('../lib/native.js')
  const { GATHER_MAX } = require('../lib/sender.js')
  const { WATERMARK } = require('../lib/sockets.js')
  const BLOCK = 16384
  // n requests (id 6) for block 0 of pieces 0 .. n - 1
  const requests = (n) => Buffer.concat(Array.from({ length: n }, (_, i) => frame(6, u32(i, 0, BLOCK))))
  // The blocks' indexes, in the order their pieces appear in `bytes`
  // (after the seeder's unchoke), each block checked whole.
  const blocksIn = (bytes) => {
    const got = []
    for (let at = bytes.indexOf(Buffer.from([0, 0, 0x40, 9, 7])); at >= 0 && at < bytes.length; at += 13 + BLOCK) {
      const i = bytes.readUInt32BE(at + 5)
      assert.ok(bytes.subarray(at + 13, at + 13 + BLOCK).equals(Buffer.alloc(BLOCK, i & 255)), `block ${i} whole`)
      got.push(i)
    }
    return got
  }

  test('answered in their handlers, go out together after them, in order, their headers encoded in one native call per GATHER_MAX bytes', async (t) => {
    const seeder = pwp()
    seeder.on('request', (i, offset, length, respond) => respond(null, Buffer.alloc(length, i & 255)))
    seeder.unchoke()
    output(seeder)
    const chunk = Buffer.concat([handshakeBytes(), requests(32)])
    let calls = 0
    for (const name of ['encodeOps', 'encodeOpsCut']) {
      const real = native[name]
      native[name] = (...args) => { calls++; return real(...args) }
      t.after(() => { native[name] = real })
    }
    const pushed = []
    seeder.on('request', () => pushed.push(seeder.readableLength))
    seeder.write(chunk)
    // (this listener runs after the one that answers)
    const per = GATHER_MAX / BLOCK
    assert.deepEqual(pushed, pushed.map((_, k) => Math.floor((k + 1) / per) * per * (13 + BLOCK)), 'nothing pushed until GATHER_MAX bytes are queued')
    assert.equal(calls, 32 * BLOCK / GATHER_MAX, 'one native call per GATHER_MAX bytes of blocks')
    assert.deepEqual(blocksIn(output(seeder)), Array.from({ length: 32 }, (_, i) => i))
  })

  test('a reader that never reads: the wire stops handing on requests with at most WATERMARK + GATHER_MAX + a block unread, and answers the rest once read', async () => {
    const seeder = pwp()
    let answered = 0
    seeder.on('request', (i, offset, length, respond) => {
      answered++
      respond(null, Buffer.alloc(length, i & 255))
    })
    seeder.unchoke()
    output(seeder)
    seeder.write(Buffer.concat([handshakeBytes(), requests(200)]))
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(answered < 200, `stopped handing on requests (answered ${answered})`)
    assert.ok(seeder.readableLength <= WATERMARK + GATHER_MAX + 13 + BLOCK, `holds ${seeder.readableLength} bytes`)
    assert.ok(seeder.readableLength >= WATERMARK, 'stopped only once the reader was behind')
    assert.deepEqual(blocksIn(output(seeder)), Array.from({ length: 200 }, (_, i) => i))
    assert.equal(answered, 200)
  })

  for (const [encrypted, together] of [[false, true], [false, false], [true, true], [true, false]]) {
    test(`answers gathered with other messages between them go out in the order of the calls (${together ? 'a chunk of requests' : 'a request a chunk'}${encrypted ? ', encrypted' : ''})`, async () => {
      const IH = Buffer.alloc(20, 5)
      const leecher = pwp(encrypted ? { encryption: 'require', infoHash: IH } : {})
      const seeder = pwp(encrypted ? { encryption: 'require', infoHashes: [IH] } : {})
      leecher.pipe(seeder).pipe(leecher)
      const block = (i) => Buffer.alloc(i % 5 === 0 ? 3000 : BLOCK, i & 255)
      seeder.on('handshake', () => {
        seeder.handshake(IH, ID)
        seeder.unchoke()
      })
      // the calls, in the order a peer must see them
      const calls = []
      seeder.on('request', (i, offset, length, respond) => {
        if (i % 3 === 0) {
          respond(null, block(i))
          calls.push(['piece', i, block(i).length])
        } else if (i % 3 === 1) {
          respond(null, Buffer.alloc(0))
          calls.push(['piece', i, 0])
          seeder.have(i)
          calls.push(['have', i])
        } else {
          seeder.have(i)
          calls.push(['have', i])
          respond(null, block(i))
          calls.push(['piece', i, block(i).length])
          seeder.have(1000 + i)
          calls.push(['have', 1000 + i])
        }
      })
      const got = []
      leecher.on('have', (i) => got.push(['have', i]))
      leecher.on('piece', (i, offset, b) => {
        assert.ok(b.equals(Buffer.alloc(b.length, i & 255)), `block ${i} whole`)
        got.push(['piece', i, b.length])
      })
      const N = 40
      const done = new Promise((resolve) => leecher.on('piece', (i) => { if (i === N - 1) resolve() }))
      leecher.on('unchoke', () => {
        if (together) for (let i = 0; i < N; i++) leecher.request(i, 0, BLOCK)
        else leecher.request(0, 0, BLOCK)
      })
      // one at a time: the next request once this one's piece is in
      if (!together) leecher.on('piece', (i) => { if (i + 1 < N) leecher.request(i + 1, 0, BLOCK) })
      leecher.handshake(IH, ID)
      await done
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(got, calls)
    })
  }

  test('an empty block and a block sent while the wire pushes (from its reader\'s handler) keep the stream whole', async () => {
    const a = pwp()
    const b = pwp()
    a.pipe(b)
    const got = []
    b.on('piece', (i, offset, block) => {
      got.push([i, block.length])
      if (i === 0) {
        a.piece(1, 0, Buffer.alloc(0))
        a.piece(2, 0, Buffer.alloc(100, 2))
        a.have(9)
      }
    })
    b.on('have', (i) => got.push(['have', i]))
    a.handshake(HASH, ID)
    await new Promise((resolve) => setImmediate(resolve))
    a.piece(0, 0, Buffer.alloc(50, 1))
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(b.protocolError, null)
    assert.deepEqual(got, [[0, 50], [1, 0], [2, 100], ['have', 9]])
  })

  // Random calls from the 'request' handlers of one chunk (answers of any
  // size, empty ones too, other pieces, haves, small and large extended
  // messages), and after it: the same bytes as 0.7.1's, which pushes each
  // message at once.
  test('random calls from the handlers of a chunk of requests: the bytes are 0.7.1\'s for the same calls', async () => {
    const Reference = require('peer-wire-protocol')
    const { Rng } = require('./rng.js')
    const sizes = [0, 1, 100, 1024, 1025, 5000, BLOCK, BLOCK + 1, 70000]
    const bytesOf = (n, tag) => Buffer.alloc(n, tag & 255)
    for (let seed = 1; seed <= 40; seed++) {
      // one script, drawn once, played on both wires
      const rng = new Rng(seed)
      const count = rng.bool(0.3) ? 1 : 1 + rng.int(40) // one request: its answer may be the only block
      const script = []
      for (let k = 0; k <= count; k++) {
        const calls = []
        const n = rng.int(4)
        for (let j = 0; j < n; j++) {
          const r = rng.next()
          if (r < 0.3) calls.push(['have', rng.int(1000)])
          else if (r < 0.6) calls.push(['piece', rng.int(50), rng.int(8) * BLOCK, rng.pick(sizes)])
          else calls.push(['extended', 1 + rng.int(3), rng.pick(sizes)])
        }
        // where the answer goes among them (k === count: calls after the chunk)
        script.push({ calls, answerAt: rng.int(n + 1), answerSize: rng.pick(sizes) })
      }
      const play = (w, calls, tag) => {
        for (const [name, a, b, c] of calls) {
          if (name === 'have') w.have(a)
          else if (name === 'piece') w.piece(a, b, bytesOf(c, tag))
          else w.extended(a, bytesOf(b, tag))
        }
      }
      const run = (Wire) => {
        const w = Wire()
        w.on('request', (i, offset, length, respond) => {
          const { calls, answerAt, answerSize } = script[i]
          play(w, calls.slice(0, answerAt), i)
          respond(null, bytesOf(answerSize, 200 + i))
          play(w, calls.slice(answerAt), i)
        })
        w.unchoke()
        const out = []
        w.on('data', (chunk) => out.push(Buffer.from(chunk)))
        w.write(Buffer.concat([handshakeBytes(), requests(count)]))
        // once the chunk is handled: ours stops at a message while its
        // reader is behind (over 512 KiB unread), and goes on as it reads
        return new Promise((resolve) => {
          const after = () => setImmediate(() => {
            if (w.writableLength > 0) return after() // its write is held until then
            play(w, script[count].calls, 99)
            setImmediate(() => setImmediate(() => resolve(Buffer.concat(out))))
          })
          after()
        })
      }
      const [ours, theirs] = await Promise.all([run(pwp), run(Reference)])
      assert.ok(ours.equals(theirs), `seed ${seed}: ${ours.length} bytes against 0.7.1's ${theirs.length}`)
    }
  })

  test('a listener that throws ends the wire: the answers gathered before it still go, nothing after', () => {
    const seeder = pwp()
    seeder.on('request', (i, offset, length, respond) => {
      respond(null, Buffer.alloc(length, i & 255))
      if (i === 3) throw new Error('boom')
    })
    seeder.unchoke()
    output(seeder)
    assert.throws(() => seeder.write(Buffer.concat([handshakeBytes(), requests(8)])), /boom/)
    assert.deepEqual(blocksIn(output(seeder)), [0, 1, 2, 3])
  })
})

test('backpressure still holds, batch by batch: a slow socket pauses the wire after the batch', async () => {
  const got = []
  let pending = null
  const socket = new Writable({
    writev (chunks, cb) {
      for (const { chunk } of chunks) got.push(Buffer.from(chunk))
      pending = cb // answered later: a slow socket
    }
  })
  const seeder = pwp()
  seeder.pipe(socket)
  seeder.on('request', (i, offset, length, respond) => respond(null, Buffer.alloc(length, i)))
  seeder.unchoke()
  await new Promise((resolve) => setImmediate(resolve))
  const request = (i) => Buffer.from([0, 0, 0, 13, 6, 0, 0, 0, i, 0, 0, 0, 0, 0, 0, 64, 0])
  seeder.write(Buffer.concat([handshakeBytes(), request(1), request(2)]))
  assert.ok(seeder.isPaused(), 'paused once the batch is written: the socket is over its high-water mark')
  seeder.write(Buffer.concat([request(3), request(4)]))
  await new Promise((resolve) => setImmediate(resolve))
  while (pending) {
    const cb = pending
    pending = null
    cb()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const bytes = Buffer.concat(got)
  const blocks = []
  for (let at = bytes.indexOf(Buffer.from([0, 0, 0x40, 9, 7])); at >= 0 && at < bytes.length; at += 16384 + 13) {
    blocks.push(bytes[at + 8])
  }
  assert.deepEqual(blocks, [1, 2, 3, 4], 'every block, in order')
  assert.ok(!seeder.isPaused())
})

describe('input: blocks', () => {
  test('a block that arrives whole in one write is a view of that write', () => {
    const sender = pwp()
    sender.handshake(HASH, ID)
    sender.piece(1, 0, Buffer.alloc(1000, 9))
    const bytes = output(sender)
    const receiver = pwp()
    const blocks = []
    receiver.on('piece', (i, offset, block) => blocks.push(block))
    const head = bytes.length - 1000
    receiver.write(bytes.subarray(0, head)) // the handshake and the piece's head
    const body = Buffer.from(bytes.subarray(head))
    receiver.write(body)
    assert.equal(blocks.length, 1)
    assert.equal(blocks[0].buffer, body.buffer)
    assert.deepEqual(blocks[0], Buffer.alloc(1000, 9))
  })

  test('blocks gathered across writes arrive intact, each its own bytes', () => {
    const sender = pwp()
    sender.handshake(HASH, ID)
    for (let i = 0; i < 20; i++) sender.piece(i, 0, Buffer.alloc(16384, i))
    const bytes = output(sender)
    const receiver = pwp()
    const blocks = []
    receiver.on('piece', (i, offset, block) => blocks.push([i, block]))
    for (let at = 0; at < bytes.length; at += 1400) receiver.write(bytes.subarray(at, at + 1400))
    assert.equal(blocks.length, 20)
    for (const [i, block] of blocks) assert.deepEqual(block, Buffer.alloc(16384, i))
  })
})

describe('keep-alive', () => {
  for (const [name, impl] of [['peer-wire-native', pwp], ['peer-wire-protocol 0.7.1', require('peer-wire-protocol')]]) {
    test(`setKeepAlive(true) sends a keep-alive every 60 s until setKeepAlive(false) (${name})`, (t) => {
      t.mock.timers.enable({ apis: ['setInterval'] })
      const w = impl()
      w.setKeepAlive(true)
      t.mock.timers.tick(59999)
      assert.equal(output(w).length, 0)
      t.mock.timers.tick(1)
      assert.deepEqual(output(w), Buffer.from([0, 0, 0, 0]))
      t.mock.timers.tick(120000)
      assert.deepEqual(output(w), Buffer.alloc(8))
      w.setKeepAlive(false)
      t.mock.timers.tick(600000)
      assert.equal(output(w).length, 0)
    })
  }
})

describe('over TCP', () => {
  const net = require('node:net')

  test('a peer sending garbage ends the connection; the server process keeps running', async () => {
    let serverWire
    const closed = new Promise((resolve) => {
      const server = net.createServer((socket) => {
        serverWire = pwp()
        socket.pipe(serverWire).pipe(socket)
        serverWire.on('close', () => { server.close(); resolve() })
      })
      server.listen(0, '127.0.0.1', () => {
        const client = net.connect(server.address().port, '127.0.0.1', () => {
          client.write(Buffer.concat([handshakeBytes(), Buffer.from([0xff, 0xff, 0xff, 0xff])]))
        })
        client.resume()
        client.on('error', () => {})
      })
    })
    await closed
    assert.equal(serverWire._receiver.parsing, false)
  })

  test('two wires move blocks over loopback TCP', async () => {
    const blocks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(16384, i))
    const server = net.createServer((socket) => {
      const wire = pwp()
      socket.pipe(wire).pipe(socket)
      wire.on('handshake', () => {
        wire.handshake(HASH, ID)
        wire.unchoke()
      })
      wire.on('request', (i, offset, length, respond) => respond(null, blocks[i].subarray(offset, offset + length)))
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const socket = net.connect(server.address().port, '127.0.0.1')
    const wire = pwp()
    socket.pipe(wire).pipe(socket)
    wire.handshake(HASH.toString('hex'), '-PW0001-abcdefghijkl')
    const got = await new Promise((resolve, reject) => {
      wire.on('unchoke', () => {
        const out = []
        let left = blocks.length
        blocks.forEach((_, i) => wire.request(i, 0, 16384, (err, block) => {
          if (err) return reject(err)
          out[i] = block
          if (--left === 0) resolve(out)
        }))
      })
    })
    got.forEach((block, i) => assert.deepEqual(block, blocks[i]))
    assert.equal(wire.downloaded, 40 * 16384)
    wire.destroy()
    socket.destroy()
    server.close()
  })
})
