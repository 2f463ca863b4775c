'use strict'

// BEP 6, the fast extension (lib/fast.js, and the decoder's rules in Rust):
// two of our wires exercising every message and rule, a peer's bytes built
// by hand for the hostile cases, and the ground rule: a wire that never asks
// for fast reads ids 13 to 17 as 0.7.1 does. Against libtorrent and aria2:
// interop-fast.test.js.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const Reference = require('peer-wire-protocol')
const pwp = require('..')
const { HASH, ID, u32, frame } = require('./peer.js')

const OTHER_ID = Buffer.from('-XX0001-abcdefABCDEF')

// A peer's handshake, with the reserved bits given.
function peerHandshake ({ fast = true, dht = false } = {}) {
  const reserved = Buffer.alloc(8)
  reserved[5] |= 0x10
  if (fast) reserved[7] |= 0x04
  if (dht) reserved[7] |= 0x01
  return Buffer.concat([Buffer.from('\x13BitTorrent protocol'), reserved, HASH, OTHER_ID])
}

// Everything the wire pushes, after the current tick.
function output (wire) {
  const chunks = []
  let chunk
  while ((chunk = wire.read()) !== null) chunks.push(chunk)
  return Buffer.concat(chunks)
}

const tick = () => new Promise(resolve => setImmediate(resolve))

// Two of our wires piped to each other, both asking for fast (unless told
// otherwise), handshaken.
async function pair ({ a = { fast: true }, b = { fast: true } } = {}) {
  const wa = pwp()
  const wb = pwp()
  wa.pipe(wb).pipe(wa)
  wb.once('handshake', () => wb.handshake(HASH, OTHER_ID, b))
  const done = once(wa, 'handshake')
  wa.handshake(HASH, ID, a)
  await done
  await tick()
  return [wa, wb]
}

// A wire that asked for fast, fed the peer's handshake.
function fed (handshake = peerHandshake()) {
  const wire = pwp()
  wire.handshake(HASH, ID, { fast: true })
  output(wire)
  wire.write(handshake)
  return wire
}

describe('negotiation', () => {
  test('handshake({ fast: true }) sets bit 0x04 of reserved byte 7; without it the bytes are 0.7.1\'s', () => {
    const bytes = (ext) => {
      const w = pwp()
      w.handshake(HASH, ID, ext)
      return w.read()
    }
    assert.equal(bytes({ fast: true })[20 + 7], 0x04)
    assert.equal(bytes({ fast: true, dht: true })[20 + 7], 0x05)
    for (const ext of [undefined, {}, { dht: true }, { fast: false }]) {
      const ref = new Reference()
      ref.handshake(HASH, ID, ext)
      assert.deepEqual(bytes(ext), ref.read(), JSON.stringify(ext))
    }
  })

  test('hasFast once both handshakes set the bit; the handshake event\'s extensions', async () => {
    const [a, b] = await pair()
    assert.equal(a.hasFast, true)
    assert.equal(b.hasFast, true)
    assert.deepEqual(a.peerExtensions, { dht: false, extended: true, fast: true })
    // b answered in its 'handshake' listener: the same object, fast added then.
    assert.deepEqual(b.peerExtensions, { dht: false, extended: true, fast: true })
    for (const [ea, eb] of [[{ fast: true }, {}], [{}, { fast: true }], [{}, {}]]) {
      const [x, y] = await pair({ a: ea, b: eb })
      assert.equal(x.hasFast, false)
      assert.equal(y.hasFast, false)
      // a wire that did not ask keeps 0.7.1's object, exactly
      for (const [w, asked] of [[x, ea.fast], [y, eb.fast]]) {
        if (asked) assert.equal(w.peerExtensions.fast, false)
        else assert.deepEqual(Object.keys(w.peerExtensions), ['dht', 'extended'])
      }
    }
  })

  test('the methods throw without fast; arguments are checked as the others', async () => {
    const calls = [w => w.haveAll(), w => w.haveNone(), w => w.suggest(1), w => w.reject(1, 0, 16384), w => w.allowedFast(1)]
    const [x] = await pair({ a: { fast: true }, b: {} })
    for (const w of [pwp(), x]) {
      for (const call of calls) {
        assert.throws(() => call(w), (err) => err.message === 'fast extension is disabled' && err.code === 'ERR_PEER_WIRE_FAST_DISABLED')
      }
    }
    assert.deepEqual(x.peerAllowedFastSet, [])
    const [a] = await pair()
    assert.throws(() => a.suggest(-1), RangeError)
    assert.throws(() => a.suggest('1'), TypeError)
    assert.throws(() => a.allowedFast(2 ** 32), RangeError)
    assert.throws(() => a.reject(1, 0), TypeError)
    assert.throws(() => a.reject(1, 0.5, 1), RangeError)
  })

  test('a responder deciding in its handshake listener reads the messages in the same chunk as fast', () => {
    const wire = pwp()
    const events = []
    wire.on('handshake', () => wire.handshake(HASH, ID, { fast: true }))
    for (const e of ['have-all', 'allowed-fast', 'unknownmessage']) wire.on(e, (...args) => events.push([e, ...args]))
    wire.write(Buffer.concat([peerHandshake(), frame(14), frame(17, u32(7))]))
    assert.deepEqual(events, [['have-all'], ['allowed-fast', 7]])
    assert.equal(wire.hasFast, true)
  })
})

describe('messages', () => {
  test('each message arrives as its event, in order', async () => {
    const [a, b] = await pair()
    const events = []
    for (const e of ['have-all', 'have-none', 'suggest', 'reject', 'allowed-fast', 'unknownmessage']) {
      b.on(e, (...args) => events.push([e, ...args]))
    }
    a.haveNone()
    a.suggest(4)
    a.allowedFast(9)
    a.reject(1, 16384, 16384)
    a.haveAll()
    await tick()
    assert.deepEqual(events, [['have-none'], ['suggest', 4], ['allowed-fast', 9], ['reject', 1, 16384, 16384], ['have-all']])
    assert.deepEqual(b.peerAllowedFastSet, [9])
  })

  test('have-all: every index reads true until peerPieces.length gives the count', async () => {
    const [a, b] = await pair()
    a.haveAll()
    await once(b, 'have-all')
    const pieces = b.peerPieces
    assert.equal(pieces.get(0), true)
    assert.equal(pieces.get(1e6), true)
    assert.equal(pieces[12], true)
    assert.ok(12 in pieces)
    assert.equal(pieces.length, 0)
    assert.deepEqual(Object.keys(pieces), [])
    // a have changes nothing; the program's write is kept
    a.have(3)
    await once(b, 'have')
    assert.equal(pieces.length, 0)
    pieces[5] = false
    assert.equal(pieces.get(5), false)
    assert.equal(pieces.get(6), true)
    // the count: indexes below it become true, as a bitfield's
    pieces.length = 10
    assert.deepEqual(Object.keys(pieces), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    assert.equal(pieces.get(10), false)
    assert.equal(pieces[10], undefined)
    assert.equal(pieces.length, 10)
    // have-none: nothing had
    a.haveNone()
    await once(b, 'have-none')
    assert.equal(pieces.get(3), false)
    assert.equal(pieces.length, 0)
    // a bitfield after a have-all is the truth
    a.haveAll()
    await once(b, 'have-all')
    a.bitfield(Buffer.from([0x80]))
    await once(b, 'bitfield')
    assert.equal(pieces.get(0), true)
    assert.equal(pieces.get(1), false)
    assert.equal(pieces.get(100), false)
  })

  test('a flood of allowed-fast: peerAllowedFastSet keeps the last 100, no duplicates', async () => {
    const wire = fed()
    let events = 0
    wire.on('allowed-fast', () => events++)
    const frames = []
    for (let i = 0; i < 1000; i++) frames.push(frame(17, u32(i)), frame(17, u32(i)))
    wire.write(Buffer.concat(frames))
    assert.equal(events, 2000)
    assert.deepEqual(wire.peerAllowedFastSet, Array.from({ length: 100 }, (_, i) => 900 + i))
  })
})

describe('bittorrent-protocol 5.0.9', () => {
  // Its messages, the extended ones (which it sends by itself) left out.
  function withoutExtended (bytes) {
    const out = [bytes.subarray(0, 68)]
    for (let at = 68; at < bytes.length;) {
      const end = at + 4 + bytes.readUInt32BE(at)
      if (bytes[at + 4] !== 20) out.push(bytes.subarray(at, end))
      at = end
    }
    return Buffer.concat(out)
  }

  test('the handshake and every fast message, byte for byte', async () => {
    const { default: Protocol } = await import('bittorrent-protocol')
    const calls = (w) => {
      w.haveNone()
      w.suggest(4)
      w.allowedFast(9)
      w.reject(1, 16384, 16384)
      w.haveAll()
    }
    const btp = new Protocol()
    const chunks = []
    btp.on('data', (chunk) => chunks.push(Buffer.from(chunk)))
    btp.handshake(HASH, ID, { fast: true, dht: true })
    btp.write(peerHandshake())
    await tick()
    assert.equal(btp.hasFast, true)
    calls(btp)
    await tick()
    const ours = pwp()
    ours.handshake(HASH, ID, { fast: true, dht: true })
    ours.write(peerHandshake())
    calls(ours)
    assert.deepEqual(output(ours).toString('hex'), withoutExtended(Buffer.concat(chunks)).toString('hex'))
    btp.destroy()
  })
})

describe('rules', () => {
  test('a choke from the peer no longer fails our requests; a reject fails the match', async () => {
    const [a, b] = await pair()
    b.unchoke()
    await once(a, 'unchoke')
    const results = []
    a.request(0, 0, 16384, (err) => results.push(['0', err && err.message]))
    a.request(1, 0, 16384, (err) => results.push(['1', err && err.message]))
    await once(b, 'request')
    b.reject(1, 0, 16384) // ours, by hand: removes the peer's pending request
    assert.equal(b.peerRequests.length, 1)
    await once(a, 'reject')
    assert.deepEqual(results, [['1', 'request was rejected']])
    // our choke sends reject for the pending request (piece 0 not allowed fast)
    const rejects = []
    a.on('reject', (...args) => rejects.push(args))
    b.choke()
    assert.equal(b.peerRequests.length, 0)
    await once(a, 'choke')
    await tick()
    assert.deepEqual(rejects, [[0, 0, 16384]])
    assert.deepEqual(results, [['1', 'request was rejected'], ['0', 'request was rejected']])
    assert.equal(a.requests.length, 0)
  })

  test('allowed fast: requested and served while choked; other requests rejected', async () => {
    const [a, b] = await pair()
    const served = []
    b.on('request', (i, offset, length, respond) => { served.push(i); respond(null, Buffer.alloc(length, i)) })
    b.allowedFast(2)
    await once(a, 'allowed-fast')
    assert.deepEqual(a.peerAllowedFastSet, [2])
    assert.equal(a.peerChoking, true)
    const got = []
    a.request(3, 0, 16, (err) => got.push(['3', err && err.message])) // not allowed: fails at once
    a.request(2, 0, 16, (err, block) => got.push(['2', err, block[0]]))
    assert.deepEqual(got, [['3', 'peer is choking']])
    await once(a, 'piece')
    assert.deepEqual(got, [['3', 'peer is choking'], ['2', null, 2]])
    // a request for a piece we did not allow, sent while we choke, is rejected
    const rejected = []
    a.on('reject', (...args) => rejected.push(args))
    a._sender.queue(6, 5, 0, 16) // a raw request, as a peer ignoring the choke would send
    await once(a, 'reject')
    assert.deepEqual(rejected, [[5, 0, 16]])
    assert.deepEqual(served, [2])
  })

  test('our choke keeps the peer\'s allowed-fast requests; respond(err) and requests over the limits are rejected', async () => {
    const [a, b] = await pair()
    b.maxPeerRequests = 3
    b.allowedFast(7)
    b.unchoke()
    await once(a, 'unchoke')
    const responders = []
    b.on('request', (i, offset, length, respond) => responders.push([i, respond]))
    const results = []
    for (const i of [7, 8, 9, 10]) a.request(i, 0, 16, (err) => results.push([i, err && err.message]))
    await tick()
    assert.deepEqual(responders.map(r => r[0]), [7, 8, 9])
    assert.equal(b.droppedRequests, 1)
    await tick()
    assert.deepEqual(results, [[10, 'request was rejected']])
    b.choke()
    assert.deepEqual(b.peerRequests.map(r => r.piece), [7])
    await tick()
    assert.deepEqual(results.map(r => r[0]), [10, 8, 9])
    responders[0][1](new Error('no such piece'))
    await tick()
    assert.deepEqual(results[3], [7, 'request was rejected'])
    // a late answer to a request our choke rejected sends nothing
    responders[1][1](null, Buffer.alloc(16))
    await tick()
    assert.equal(a.downloaded, 0)
  })
})

describe('timers and destroy', () => {
  test('requests allowed fast while choked still time out, one after the other', async () => {
    const [a, b] = await pair()
    let answered = false
    b.on('request', (i, offset, length, respond) => {
      if (!answered) respond(null, Buffer.alloc(length))
      answered = true
    })
    b.allowedFast(2)
    await once(a, 'allowed-fast')
    a.setTimeout(100)
    const results = []
    const done = new Promise((resolve) => {
      a.request(2, 0, 16, (err) => results.push(err && err.message))
      a.request(2, 16, 16, (err) => { results.push(err && err.message); resolve() })
    })
    await done
    assert.deepEqual(results, [null, 'request has timed out'])
  })

  test('destroy() in a fast event: nothing follows', () => {
    for (const name of ['have-all', 'suggest', 'reject', 'allowed-fast']) {
      const wire = fed()
      const seen = []
      for (const e of ['have-all', 'suggest', 'reject', 'allowed-fast', 'have']) wire.on(e, () => seen.push(e))
      wire.once(name, () => wire.destroy())
      wire.write(Buffer.concat([frame(14), frame(13, u32(1)), frame(16, u32(1, 0, 16)), frame(17, u32(1)), frame(4, u32(1))].slice(['have-all', 'suggest', 'reject', 'allowed-fast'].indexOf(name))))
      assert.deepEqual(seen, [name])
    }
  })

  test('a rejected request\'s callback that destroys the wire: no reject event', () => {
    const wire = fed()
    wire.write(frame(1)) // unchoke
    const events = []
    wire.on('reject', () => events.push('reject'))
    wire.request(1, 0, 16, (err) => { events.push(err.message); wire.destroy() })
    wire.write(frame(16, u32(1, 0, 16)))
    assert.deepEqual(events, ['request was rejected'])
  })
})

describe('hostile and ground rule', () => {
  const FAST_FRAMES = {
    suggest: frame(13, u32(1)),
    'have-all': frame(14),
    'have-none': frame(15),
    reject: frame(16, u32(1, 0, 16384)),
    'allowed-fast': frame(17, u32(1))
  }

  test('a fast message from a peer whose handshake lacked the bit: ERR_PEER_WIRE_FAST_NOT_NEGOTIATED', () => {
    for (const [name, bytes] of Object.entries(FAST_FRAMES)) {
      const wire = fed(peerHandshake({ fast: false }))
      let events = 0
      for (const e of Object.keys(FAST_FRAMES).concat('unknownmessage')) wire.on(e, () => events++)
      const errors = []
      wire.on('error', (err) => errors.push(err))
      wire.write(bytes)
      assert.equal(events, 0, name)
      assert.equal(wire.protocolError.code, 'ERR_PEER_WIRE_FAST_NOT_NEGOTIATED', name)
      assert.match(wire.protocolError.message, new RegExp(`^${name} message \\(id ${bytes[4]}\\)`))
      assert.deepEqual(errors, [wire.protocolError])
    }
  })

  test('with fast negotiated, a fast message of the wrong length: ERR_PEER_WIRE_BAD_LENGTH', () => {
    const bad = [frame(13), frame(14, Buffer.alloc(1)), frame(15, u32(0)), frame(16, u32(1, 2)), frame(17, Buffer.alloc(5))]
    for (const bytes of bad) {
      const wire = fed()
      wire.write(bytes)
      assert.equal(wire.protocolError.code, 'ERR_PEER_WIRE_BAD_LENGTH', bytes.toString('hex'))
    }
  })

  test('a wire that never asks: ids 13 to 17 from a peer that set the bit are unknown messages, as 0.7.1\'s', () => {
    const bytes = Buffer.concat([
      peerHandshake({ fast: true, dht: true }),
      ...Object.values(FAST_FRAMES),
      frame(16, u32(1)), // lengths are not checked: unknown ids
      frame(2)
    ])
    const run = (wire) => {
      const events = []
      for (const e of ['handshake', 'unknownmessage', 'interested', 'have-all', 'reject']) {
        wire.on(e, (...args) => events.push([e, ...args.map(v => Buffer.isBuffer(v) ? v.toString('hex') : v)]))
      }
      wire.handshake(HASH, ID)
      wire.write(bytes)
      return events
    }
    const ours = pwp()
    assert.deepEqual(run(ours), run(new Reference()))
    assert.equal(ours.hasFast, false)
    assert.equal(ours.protocolError, null)
  })
})

describe('pwp.allowedFastSet', () => {
  test('BEP 6\'s vectors', () => {
    const hash = Buffer.alloc(20, 0xaa)
    assert.deepEqual(pwp.allowedFastSet('80.4.4.200', hash, 1313, 7), [1059, 431, 808, 1217, 287, 376, 1188])
    assert.deepEqual(pwp.allowedFastSet('80.4.4.200', hash, 1313, 9), [1059, 431, 808, 1217, 287, 376, 1188, 353, 508])
    assert.deepEqual(pwp.allowedFastSet('80.4.4.200', hash.toString('hex'), 1313, 7), [1059, 431, 808, 1217, 287, 376, 1188])
  })

  test('arguments are checked', () => {
    const hash = Buffer.alloc(20, 0xaa)
    assert.throws(() => pwp.allowedFastSet(1, hash, 10, 2), TypeError)
    assert.throws(() => pwp.allowedFastSet('1.2.3.4', [1, 2], 10, 2), TypeError)
    assert.throws(() => pwp.allowedFastSet('1.2.3.4', Buffer.alloc(3), 10, 2), RangeError)
    assert.throws(() => pwp.allowedFastSet('1.2.3.4', hash, -1, 2), RangeError)
    assert.throws(() => pwp.allowedFastSet('1.2.3.4', hash, '10', 2), TypeError)
    assert.throws(() => pwp.allowedFastSet('1.2.3.4', hash, 10, 1.5), RangeError)
    assert.throws(() => pwp.allowedFastSet('not an address', hash, 10, 2), TypeError)
  })
})
