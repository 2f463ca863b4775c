'use strict'

// A hostile or broken peer: every limit, every protocol violation, and the
// ways a wire can end. Each case is fed whole, in 1400-byte chunks and byte
// by byte (where the stream is small enough), and checks what came out (the
// error and its code, the events before the bad bytes, callbacks, 'close')
// and that the memory the process holds stayed bounded.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const v8 = require('node:v8')
const vm = require('node:vm')
const pwp = require('..')
const { handshakeBytes, u32, frame } = require('./peer.js')

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

const MiB = 1024 * 1024
const UNCHOKE = frame(1)
const have = (i) => frame(4, u32(i))
const request = (i, offset, length) => frame(6, u32(i, offset, length))

// ---------------------------------------------------------------------------
// feeding and watching a wire

const MODES = {
  whole: (bytes) => [bytes],
  'in 1400-byte chunks': (bytes) => split(bytes, 1400),
  'byte by byte': (bytes) => split(bytes, 1)
}

function split (bytes, size) {
  const out = []
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size))
  return out
}

const EVENTS = ['handshake', 'keep-alive', 'choke', 'unchoke', 'interested', 'uninterested', 'have', 'bitfield',
  'request', 'cancel', 'piece', 'port', 'extended', 'unknownmessage', 'error', 'close']

// A wire whose events are logged as short strings ('have 7', 'error
// ERR_...', 'close'). Protocol events are logged up to `keep` of them (the
// rest only counted), so that floods don't fill the log.
function watch (wire, { keep = 50, errorListener = true } = {}) {
  const log = []
  const counts = {}
  const errors = []
  for (const name of EVENTS) {
    if (name === 'error' && !errorListener) continue
    wire.on(name, (...args) => {
      counts[name] = (counts[name] || 0) + 1
      if (name === 'error') errors.push(args[0])
      if (log.length >= keep && name !== 'error' && name !== 'close') return
      const shown = args.filter((a) => typeof a === 'number' || typeof a === 'boolean')
      log.push(name === 'error' ? `error ${args[0].code}` : [name, ...shown].join(' '))
    })
  }
  wire.resume() // discard what the wire sends
  return { log, counts, errors }
}

// Writes `bytes` as `mode` cuts them; no write may throw.
function feed (wire, bytes, mode) {
  for (const chunk of MODES[mode](bytes)) {
    assert.doesNotThrow(() => wire.write(chunk))
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

// Bytes held by the process (JS heap, and buffers outside it) after a full gc.
function held () {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

function assertBounded (before, budget, what) {
  const grown = held() - before
  assert.ok(grown < budget, `${what}: memory grew by ${(grown / MiB).toFixed(1)} MiB, budget ${(budget / MiB).toFixed(1)} MiB`)
}

// The usual start: the peer's handshake, then an unchoke, upon which this
// side asks for one block; the callback's outcome goes to the log.
function started (opts, watchOpts) {
  const wire = pwp(opts)
  const w = watch(wire, watchOpts)
  const callbacks = []
  wire.once('unchoke', () => {
    wire.request(1, 0, 16384, (err) => callbacks.push(err ? err.message : 'ok'))
  })
  return { wire, ...w, callbacks, prefix: Buffer.concat([handshakeBytes(), UNCHOKE]) }
}

// Asserts the orderly end of a protocol violation: the error with its code
// and message, the events before it, 'close' once, then the pending
// callback failed once with 'wire is closed', and nothing after.
async function assertViolation (s, code, message, before) {
  await tick()
  assert.equal(s.errors.length, 1, 'one error')
  assert.equal(s.errors[0].code, code)
  assert.ok(s.errors[0] instanceof Error)
  assert.match(s.errors[0].message, message)
  assert.deepEqual(s.log, ['handshake', 'unchoke', ...before, `error ${code}`, 'close'])
  assert.deepEqual(s.callbacks, ['wire is closed'])
  // later calls are harmless
  let late = null
  s.wire.request(2, 0, 1, (err) => { late = err.message })
  assert.equal(late, 'wire is closed')
  assert.doesNotThrow(() => { s.wire.have(1); s.wire.unchoke(); s.wire.piece(0, 0, Buffer.alloc(1)); s.wire.destroy() })
  await tick()
  assert.equal(s.counts.close, 1)
}

// ---------------------------------------------------------------------------

describe('frame limit (maxFrameLength, default 1 MiB)', () => {
  const junk = Buffer.alloc(8 * MiB, 0x61)
  for (const mode of Object.keys(MODES)) {
    test(`a 4 GiB length prefix is rejected from the prefix alone, nothing buffered (${mode})`, async () => {
      const s = started()
      // byte by byte: 64 KiB of what follows, else 8 MiB
      const tail = mode === 'byte by byte' ? junk.subarray(0, 64 * 1024) : junk
      const bytes = Buffer.concat([s.prefix, have(7), u32(0xffffffff), tail])
      const before = held()
      feed(s.wire, bytes, mode)
      await tick() // writes after the end hold an error each until then
      assertBounded(before, 2 * MiB, 'after a 4 GiB prefix and 8 MiB of body')
      await assertViolation(s, 'ERR_PEER_WIRE_FRAME_TOO_LARGE',
        /^message length 4294967295 exceeds the maximum of 1048576 bytes$/, ['have 7'])
    })
  }

  test('1 MiB exactly is accepted, one byte more is not', async () => {
    const body = Buffer.alloc(MiB - 9, 7)
    const ok = started()
    feed(ok.wire, Buffer.concat([ok.prefix, frame(7, Buffer.concat([u32(3, 0), body]))]), 'in 1400-byte chunks')
    await tick()
    assert.deepEqual(ok.log, ['handshake', 'unchoke', 'piece 3 0'])
    assert.deepEqual(ok.errors, [])

    const over = started()
    feed(over.wire, Buffer.concat([over.prefix, frame(7, Buffer.concat([u32(3, 0), body, Buffer.alloc(1)]))]), 'whole')
    await assertViolation(over, 'ERR_PEER_WIRE_FRAME_TOO_LARGE', /length 1048577 exceeds the maximum of 1048576/, [])
  })

  test('a lowered limit applies, and names its value', async () => {
    const s = started({ maxFrameLength: 16384 + 9 })
    const block = (n) => frame(7, Buffer.concat([u32(2, 0), Buffer.alloc(n)]))
    feed(s.wire, Buffer.concat([s.prefix, block(16384), block(16385)]), 'whole')
    await assertViolation(s, 'ERR_PEER_WIRE_FRAME_TOO_LARGE', /^message length 16394 exceeds the maximum of 16393 bytes$/, ['piece 2 0'])
  })

  for (const mode of ['in 1400-byte chunks', 'byte by byte']) {
    test(`a raised limit lets a 5 MB body through, trickled (${mode}), in linear memory`, async () => {
      const s = started({ maxFrameLength: 8 * MiB })
      const body = Buffer.alloc(5000000)
      for (let i = 0; i < body.length; i += 4096) body[i] = i & 0xff
      let got = null
      s.wire.on('piece', (i, offset, block) => { got = Buffer.from(block) })
      const bytes = Buffer.concat([s.prefix, frame(7, Buffer.concat([u32(9, 0), body]))])
      const before = held()
      if (mode === 'byte by byte') {
        // 5 million writes of one byte each would take too long here: the
        // first and last 100 KB go byte by byte, the middle in 1400-byte chunks
        const a = bytes.length - 100000
        feed(s.wire, bytes.subarray(0, 100000), 'byte by byte')
        feed(s.wire, bytes.subarray(100000, a), 'in 1400-byte chunks')
        feed(s.wire, bytes.subarray(a), 'byte by byte')
      } else {
        feed(s.wire, bytes, mode)
      }
      assert.ok(got && got.equals(body), 'the block arrives intact')
      got = null
      assertBounded(before, 2 * 5000000 + 2 * MiB, 'while gathering a 5 MB body')
      assert.deepEqual(s.errors, [])
      assert.deepEqual(s.log, ['handshake', 'unchoke', 'piece 9 0'])
    })
  }

  test('the option is checked', () => {
    assert.throws(() => pwp({ maxFrameLength: 0 }), RangeError)
    assert.throws(() => pwp({ maxFrameLength: 2 ** 32 }), RangeError)
    assert.throws(() => pwp({ maxFrameLength: '1' }), TypeError)
    assert.throws(() => pwp({ maxPeerRequests: -1 }), RangeError)
    assert.throws(() => pwp({ maxBlockLength: 1.5 }), /opts.maxBlockLength must be an integer/)
  })
})

describe('handshake', () => {
  const cases = [
    ['pstrlen 18', Buffer.concat([Buffer.from([18]), Buffer.from('BitTorrent protoco')]), /protocol string length is 18, expected 19/],
    ['pstrlen 0', Buffer.from([0]), /protocol string length is 0, expected 19/],
    ['pstrlen 255', Buffer.from([255]), /protocol string length is 255, expected 19/],
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\n\r\n'), /protocol string length is 71, expected 19/],
    ['a wrong protocol string', Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocoL'), Buffer.alloc(48)]), /protocol string is not "BitTorrent protocol"/]
  ]
  for (const [name, bytes, message] of cases) {
    for (const mode of Object.keys(MODES)) {
      test(`${name} (${mode})`, async () => {
        const wire = pwp()
        const s = watch(wire)
        feed(wire, Buffer.concat([bytes, handshakeBytes(), UNCHOKE]), mode)
        await tick()
        assert.deepEqual(s.log, ['error ERR_PEER_WIRE_BAD_HANDSHAKE', 'close'])
        assert.match(s.errors[0].message, message)
      })
    }
  }
})

describe('exact body lengths per message id', () => {
  // [name, id, body length (id byte included), expected text]
  const cases = [
    ['choke', 0, 2, 'exactly 1'], ['unchoke', 1, 2, 'exactly 1'], ['interested', 2, 5, 'exactly 1'],
    ['uninterested', 3, 2, 'exactly 1'], ['have', 4, 4, 'exactly 5'], ['have', 4, 6, 'exactly 5'],
    ['request', 6, 12, 'exactly 13'], ['request', 6, 14, 'exactly 13'],
    ['piece', 7, 8, 'at least 9'], ['cancel', 8, 1, 'exactly 13'], ['port', 9, 2, 'exactly 3'],
    ['port', 9, 4, 'exactly 3'], ['extended', 20, 1, 'at least 2']
  ]
  for (const [name, id, len, expected] of cases) {
    for (const mode of Object.keys(MODES)) {
      test(`${name} with a body of ${len} bytes (${mode})`, async () => {
        const s = started()
        const bad = frame(id, Buffer.alloc(len - 1))
        feed(s.wire, Buffer.concat([s.prefix, have(7), bad, have(8)]), mode)
        await assertViolation(s, 'ERR_PEER_WIRE_BAD_LENGTH',
          new RegExp(`^${name} message \\(id ${id}\\) has a body of ${len} bytes, expected ${expected}$`), ['have 7'])
      })
    }
  }

  test('unknown ids are data: an unknownmessage event, and the wire goes on', async () => {
    const s = started()
    feed(s.wire, Buffer.concat([s.prefix, frame(13, Buffer.from('abc')), have(3)]), 'byte by byte')
    await tick()
    assert.deepEqual(s.log, ['handshake', 'unchoke', 'unknownmessage', 'have 3'])
  })
})

describe('incoming requests (maxPeerRequests 2000, maxBlockLength 128 KiB)', () => {
  // A wire that unchoked the peer and answers nothing until told.
  function serving (opts) {
    const wire = pwp(opts)
    const s = watch(wire, { keep: 0 })
    const pending = []
    wire.on('request', (i, offset, length, respond) => pending.push({ i, offset, length, respond }))
    wire.unchoke()
    return { wire, ...s, pending }
  }

  for (const mode of Object.keys(MODES)) {
    test(`a flood of 3000 requests: 2000 reach the application, 1000 are dropped and counted (${mode})`, async () => {
      const s = serving()
      const flood = []
      for (let k = 0; k < 3000; k++) flood.push(request(k, 0, 16384))
      const before = held()
      feed(s.wire, Buffer.concat([handshakeBytes(), ...flood]), mode)
      assertBounded(before, 4 * MiB, 'after 3000 requests')
      assert.equal(s.counts.request, 2000)
      assert.equal(s.wire.peerRequests.length, 2000)
      assert.equal(s.wire.droppedRequests, 1000)
      assert.deepEqual(s.pending.slice(0, 2).map((r) => r.i), [0, 1])
      assert.equal(s.pending[1999].i, 1999)

      // answering frees room; the wire keeps serving
      for (const r of s.pending.splice(0, 10)) r.respond(null, Buffer.alloc(r.length))
      assert.equal(s.wire.peerRequests.length, 1990)
      assert.equal(s.wire.uploaded, 10 * 16384)
      feed(s.wire, Buffer.concat(Array.from({ length: 12 }, (_, k) => request(5000 + k, 0, 16384))), mode)
      assert.equal(s.counts.request, 2010)
      assert.equal(s.wire.droppedRequests, 1002)
      assert.deepEqual(s.errors, [])
    })
  }

  test('a cancel and a choke free room too', () => {
    const s = serving({ maxPeerRequests: 2 })
    feed(s.wire, Buffer.concat([handshakeBytes(), request(1, 0, 1), request(2, 0, 1), request(3, 0, 1)]), 'whole')
    assert.equal(s.wire.droppedRequests, 1)
    feed(s.wire, Buffer.concat([frame(8, u32(1, 0, 1)), request(4, 0, 1)]), 'whole')
    assert.deepEqual(s.pending.map((r) => r.i), [1, 2, 4])
    s.wire.choke()
    s.wire.unchoke()
    feed(s.wire, Buffer.concat([request(5, 0, 1), request(6, 0, 1), request(7, 0, 1)]), 'whole')
    assert.deepEqual(s.pending.map((r) => r.i), [1, 2, 4, 5, 6])
    assert.equal(s.wire.droppedRequests, 2)
  })

  for (const mode of Object.keys(MODES)) {
    test(`requests of length 0 or over the block limit are dropped and counted (${mode})`, () => {
      const s = serving()
      feed(s.wire, Buffer.concat([handshakeBytes(), request(1, 0, 0), request(2, 0, 131073), request(3, 0, 0xffffffff),
        request(4, 0, 131072), request(5, 0, 1)]), mode)
      assert.deepEqual(s.pending.map((r) => [r.i, r.length]), [[4, 131072], [5, 1]])
      assert.equal(s.wire.droppedRequests, 3)
    })
  }

  test('the block limit can be changed', () => {
    const s = serving({ maxBlockLength: 16384 })
    feed(s.wire, Buffer.concat([handshakeBytes(), request(1, 0, 16384), request(2, 0, 16385)]), 'whole')
    assert.deepEqual(s.pending.map((r) => r.i), [1])
    assert.equal(s.wire.droppedRequests, 1)
  })

  test('requests while choking are ignored as in 0.7.1, not counted', () => {
    const wire = pwp()
    const s = watch(wire)
    feed(wire, Buffer.concat([handshakeBytes(), request(1, 0, 1)]), 'whole')
    assert.equal(s.counts.request, undefined)
    assert.equal(wire.droppedRequests, 0)
  })
})

describe('peerPieces memory', () => {
  for (const mode of ['whole', 'in 1400-byte chunks']) {
    test(`the largest bitfield (1 MiB - 1 bytes) costs about 1 MiB (${mode})`, async () => {
      const s = started()
      const bits = Buffer.alloc(MiB - 1, 0x55)
      bits[bits.length - 1] = 0x01
      const bytes = Buffer.concat([s.prefix, frame(5, bits)])
      const before = held()
      feed(s.wire, bytes, mode)
      assertBounded(before, 3 * MiB, 'after a 1 MiB bitfield')
      const pp = s.wire.peerPieces
      assert.equal(pp.length, 8 * (MiB - 1))
      assert.equal(pp[0], false)
      assert.equal(pp[1], true)
      assert.equal(pp[8 * (MiB - 1) - 1], true)
      assert.equal(pp[8 * (MiB - 1) - 2], false)
      assert.equal(pp[8 * (MiB - 1)], undefined)
      assert.equal(pp.get(1), true)
      assert.deepEqual(s.log, ['handshake', 'unchoke', 'bitfield'])
    })
  }

  test('a million haves over the whole index range', async () => {
    const s = started(undefined, { keep: 0 })
    const parts = []
    let x = 1
    for (let k = 0; k < 1000000; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      parts.push(have(k < 10 ? 0xffffffff - k : x))
    }
    const bytes = Buffer.concat([s.prefix, ...parts])
    const before = held()
    feed(s.wire, bytes, 'in 1400-byte chunks')
    assertBounded(before, 4 * MiB, 'after a million haves')
    assert.equal(s.counts.have, 1000000)
    // indexes past the largest bitfield a frame can carry are emitted, not kept
    assert.ok(s.wire.peerPieces.length <= 8 * (MiB - 1))
  })

  test('32-bit fields arrive unsigned', () => {
    const wire = pwp({ maxPeerRequests: 10, maxBlockLength: 0xffffffff })
    const got = []
    wire.on('have', (i) => got.push(['have', i]))
    wire.on('request', (...a) => got.push(['request', ...a.slice(0, 3)]))
    wire.on('cancel', (...a) => got.push(['cancel', ...a]))
    wire.on('piece', (i, o, b) => got.push(['piece', i, o, b.length]))
    wire.unchoke()
    const top = 0xffffffff
    feed(wire, Buffer.concat([handshakeBytes(), have(top), have(0x80000000), request(top, top, top),
      frame(8, u32(top, 0x80000000, top)), frame(7, Buffer.concat([u32(top, top), Buffer.alloc(1)]))]), 'whole')
    assert.deepEqual(got, [['have', top], ['have', 0x80000000], ['request', top, top, top],
      ['cancel', top, 0x80000000, top], ['piece', top, top, 1]])
  })
})

describe('many small messages', () => {
  test('a million keep-alives arrive, in 1400-byte chunks', () => {
    const wire = pwp()
    const s = watch(wire, { keep: 0 })
    const bytes = Buffer.concat([handshakeBytes(), Buffer.alloc(4 * 1000000)])
    const before = held()
    feed(wire, bytes, 'in 1400-byte chunks')
    assertBounded(before, 2 * MiB, 'after a million keep-alives')
    assert.equal(s.counts['keep-alive'], 1000000)
  })

  test('100000 keep-alives, byte by byte', () => {
    const wire = pwp()
    const s = watch(wire, { keep: 0 })
    feed(wire, Buffer.concat([handshakeBytes(), Buffer.alloc(4 * 100000)]), 'byte by byte')
    assert.equal(s.counts['keep-alive'], 100000)
  })
})

describe('errors without and with an error listener', () => {
  for (const mode of Object.keys(MODES)) {
    test(`no error listener: nothing is thrown, the wire closes and its error is kept (${mode})`, async () => {
      const s = started(undefined, { errorListener: false })
      feed(s.wire, Buffer.concat([s.prefix, have(7), u32(0xffffffff), have(8)]), mode)
      await tick()
      assert.deepEqual(s.log, ['handshake', 'unchoke', 'have 7', 'close'])
      assert.deepEqual(s.callbacks, ['wire is closed'])
      assert.equal(s.wire.protocolError.code, 'ERR_PEER_WIRE_FRAME_TOO_LARGE')
    })
  }

  test('with a listener: one error event, before close', async () => {
    const s = started()
    feed(s.wire, Buffer.concat([s.prefix, u32(0xffffffff)]), 'whole')
    await tick()
    assert.deepEqual(s.log, ['handshake', 'unchoke', 'error ERR_PEER_WIRE_FRAME_TOO_LARGE', 'close'])
    assert.equal(s.wire.protocolError, s.errors[0])
  })

  test('the readable side ends after a violation', async () => {
    const wire = pwp()
    wire.on('error', () => {})
    let ended = false
    wire.on('end', () => { ended = true })
    wire.resume()
    wire.write(Buffer.from([0]))
    await tick()
    await tick()
    assert.ok(ended)
  })
})

describe('destroy() and close', () => {
  for (const mode of Object.keys(MODES)) {
    test(`destroy() inside a handler stops parsing at once (${mode})`, async () => {
      const s = started()
      s.wire.once('have', () => s.wire.destroy())
      feed(s.wire, Buffer.concat([s.prefix, have(1), have(2), have(3), u32(0xffffffff)]), mode)
      await tick()
      assert.deepEqual(s.log, ['handshake', 'unchoke', 'have 1', 'close'])
      assert.deepEqual(s.callbacks, ['wire is closed'])
    })
  }

  test('a listener that throws ends the wire; the exception reaches the caller', async () => {
    const s = started()
    s.wire.once('have', () => { throw new Error('bug in a listener') })
    assert.throws(() => s.wire.write(Buffer.concat([s.prefix, have(1), have(2)])), /bug in a listener/)
    await tick()
    assert.deepEqual(s.log, ['handshake', 'unchoke', 'have 1', 'close'])
    assert.deepEqual(s.callbacks, ['wire is closed'])
  })

  const endings = {
    'destroy() twice': (w) => { w.destroy(); w.destroy() },
    'destroy() then end()': (w) => { w.destroy(); w.end() },
    'end() then destroy()': (w) => { w.end(); w.destroy() },
    'end() alone': (w) => w.end(),
    'a protocol violation, then destroy()': (w) => { w.write(u32(0xffffffff)); w.destroy() },
    'destroy() inside the close listener': (w) => { w.once('close', () => w.destroy()); w.destroy() },
    'destroy(err) (as Node calls it)': (w) => w.destroy(new Error('x')),
    'a write after destroy()': (w) => { w.destroy(); w.write(have(1)) }
  }
  for (const [name, end] of Object.entries(endings)) {
    test(`'close' exactly once: ${name}`, async () => {
      const s = started()
      feed(s.wire, s.prefix, 'whole')
      assert.doesNotThrow(() => end(s.wire))
      await new Promise((resolve) => setTimeout(resolve, 10))
      assert.equal(s.counts.close, 1)
      assert.deepEqual(s.callbacks, ['wire is closed'])
      const after = []
      s.wire.request(1, 0, 1, (err) => after.push(err.message))
      assert.deepEqual(after, ['wire is closed'])
    })
  }
})

describe('random garbage', () => {
  // xorshift32, seeded
  function rng (seed) {
    let x = seed >>> 0 || 1
    return () => {
      x ^= x << 13; x >>>= 0
      x ^= x >>> 17
      x ^= x << 5; x >>>= 0
      return x / 4294967296
    }
  }

  test('300 random streams after a handshake, randomly chunked: never a throw, at most one error, close once', async () => {
    const before = held()
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed)
      const wire = pwp()
      const s = watch(wire, { keep: 0 })
      // biased so that plausible frames appear: small lengths, known ids
      const parts = [handshakeBytes()]
      const n = 1 + Math.floor(r() * 40)
      for (let k = 0; k < n; k++) {
        if (r() < 0.7) {
          const id = r() < 0.8 ? Math.floor(r() * 10) : Math.floor(r() * 256)
          const len = Math.floor(r() * (r() < 0.9 ? 20 : 3000))
          const body = Buffer.alloc(len)
          for (let j = 0; j < len; j++) body[j] = r() * 256
          parts.push(frame(id, body))
        } else {
          const junk = Buffer.alloc(Math.floor(r() * 16))
          for (let j = 0; j < junk.length; j++) junk[j] = r() * 256
          parts.push(junk)
        }
      }
      const bytes = Buffer.concat(parts)
      for (let at = 0; at < bytes.length;) {
        const size = 1 + Math.floor(r() * (r() < 0.5 ? 8 : 2000))
        const chunk = bytes.subarray(at, at + size)
        assert.doesNotThrow(() => wire.write(chunk), `seed ${seed}`)
        at += size
      }
      if (r() < 0.5) wire.end()
      await tick()
      assert.ok((s.counts.error || 0) <= 1, `seed ${seed}: at most one error`)
      assert.ok((s.counts.close || 0) <= 1, `seed ${seed}: close at most once`)
      if (s.errors.length) {
        assert.match(s.errors[0].code, /^ERR_PEER_WIRE_/)
        assert.equal(s.counts.close, 1, `seed ${seed}: an error closes the wire`)
      }
      wire.destroy()
    }
    assertBounded(before, 8 * MiB, 'after 300 random streams')
  })
})

describe('over TCP', () => {
  test('a peer announcing 4 GiB then streaming 64 MiB is cut off; the server stays small', { timeout: 20000 }, async () => {
    const codes = []
    const server = net.createServer((socket) => {
      const wire = pwp()
      socket.pipe(wire).pipe(socket)
      wire.on('error', (err) => codes.push(err.code))
      wire.on('close', () => socket.destroy())
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const rssBefore = process.memoryUsage().rss
    const client = net.connect(server.address().port, '127.0.0.1')
    client.on('error', () => {})
    const closed = new Promise((resolve) => client.on('close', resolve))
    // never ends by itself: only the server closing the connection ends it
    client.write(Buffer.concat([handshakeBytes(), u32(0xffffffff)]))
    const block = Buffer.alloc(MiB, 0x61)
    let sent = 0
    const pump = () => {
      while (sent < 64 && !client.destroyed) {
        sent++
        if (!client.write(block)) return client.once('drain', pump)
      }
    }
    pump()
    await closed
    server.close()
    assert.deepEqual(codes, ['ERR_PEER_WIRE_FRAME_TOO_LARGE'])
    const grown = process.memoryUsage().rss - rssBefore
    assert.ok(grown < 64 * MiB, `rss grew by ${(grown / MiB).toFixed(1)} MiB`)
  })
})
