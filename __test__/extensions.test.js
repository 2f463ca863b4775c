'use strict'

// BEP 10 extensions: wire.use(Extension) as bittorrent-protocol 5.0.9
// defines it, checked on its own (hooks, ids, the extended handshake, bytes)
// and with the extension modules from npm used unmodified (ut_metadata 5
// and 3, ut_pex 5) between two of our wires. Against libtorrent:
// interop-extensions.test.js.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const bencode = require('bencode')
const Reference = require('peer-wire-protocol')
const pwp = require('..')
const { HASH, ID, frame } = require('./peer.js')

const PEER_ID = Buffer.from('-XX0001-abcdefABCDEF')

// A peer's handshake, with or without the extension protocol bit.
function peerHandshake ({ extended = true, fast = false } = {}) {
  const reserved = Buffer.alloc(8)
  if (extended) reserved[5] |= 0x10
  if (fast) reserved[7] |= 0x04
  return Buffer.concat([Buffer.from('\x13BitTorrent protocol'), reserved, HASH, PEER_ID])
}

function extendedFrame (id, payload) {
  return frame(20, Buffer.concat([Buffer.from([id]), Buffer.isBuffer(payload) ? payload : bencode.encode(payload)]))
}

// Everything the wire pushes, after the current tick.
function output (wire) {
  const chunks = []
  let chunk
  while ((chunk = wire.read()) !== null) chunks.push(chunk)
  return Buffer.concat(chunks)
}

// The wire's output as messages: 'handshake', or { id, ext, dict } for an
// extended message (dict decoded), or { id } for the others.
function messages (wire) {
  const bytes = output(wire)
  const out = []
  let at = 0
  if (bytes[0] === 19) {
    out.push('handshake')
    at = 68
  }
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at)
    const body = bytes.subarray(at + 5, at + 4 + length)
    if (bytes[at + 4] === 20) out.push({ id: 20, ext: body[0], dict: bencode.decode(body.subarray(1)), raw: body.subarray(1) })
    else out.push({ id: bytes[at + 4] })
    at += 4 + length
  }
  return out
}

// An extension that records its construction and hooks into `log`.
function recorder (name, log) {
  class Recorder {
    constructor (wire) {
      this.wire = wire
      log.push(['new', name])
    }

    onHandshake (infoHash, peerId, extensions) { log.push([name, 'onHandshake', infoHash, peerId, extensions]) }
    onExtendedHandshake (dict) { log.push([name, 'onExtendedHandshake', dict]) }
    onMessage (payload) { log.push([name, 'onMessage', payload]) }
  }
  Recorder.prototype.name = name
  return Recorder
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

function sha1 (data) {
  return crypto.createHash('sha1').update(data).digest('hex')
}

describe('use(Extension)', () => {
  test('makes the extension with the wire, gives ids 1, 2, … in call order, sets wire[name]', () => {
    const log = []
    const wire = pwp()
    wire.use(recorder('ut_a', log))
    wire.use(recorder('ut_b', log))
    assert.deepEqual(log, [['new', 'ut_a'], ['new', 'ut_b']])
    assert.equal(wire.ut_a.wire, wire)
    assert.equal(wire.ut_b.wire, wire)
    assert.deepEqual(wire.extendedMapping, { 1: 'ut_a', 2: 'ut_b' })
    assert.deepEqual(wire.extendedHandshake, {})
    assert.deepEqual(wire.peerExtendedHandshake, {})
    assert.deepEqual(wire.peerExtendedMapping, {})
  })

  test('a name is required, and must not be taken', () => {
    const wire = pwp()
    class Nameless {}
    assert.throws(() => wire.use(Nameless), { message: 'Extension class requires a "name" property on the prototype' })
    const log = []
    wire.use(recorder('ut_a', log))
    assert.throws(() => wire.use(recorder('ut_a', log)), /already a property of the wire/)
    assert.throws(() => wire.use(recorder('handshake', log)), /already a property of the wire/)
    assert.deepEqual(wire.extendedMapping, { 1: 'ut_a' })
    assert.equal(typeof wire.handshake, 'function')
  })

  test('a constructor that throws registers nothing', () => {
    const wire = pwp()
    class Broken { constructor () { throw new Error('broken') } }
    Broken.prototype.name = 'ut_broken'
    assert.throws(() => wire.use(Broken), /broken/)
    assert.deepEqual(wire.extendedMapping, {})
    assert.equal(wire.ut_broken, undefined)
  })

  test('onHandshake gets lowercase hex strings and the extension flags, after the handshake event', () => {
    const log = []
    const wire = pwp()
    wire.use(recorder('ut_a', log))
    wire.on('handshake', () => log.push(['event']))
    wire.write(peerHandshake())
    assert.deepEqual(log.slice(1), [
      ['event'],
      ['ut_a', 'onHandshake', HASH.toString('hex'), PEER_ID.toString('hex'), { dht: false, extended: true }]
    ])
    assert.match(log[2][2], /^[0-9a-f]{40}$/)
  })

  test('onExtendedHandshake only for extensions the peer names with a non-zero id', () => {
    const log = []
    const wire = pwp()
    for (const name of ['ut_a', 'ut_b', 'ut_c']) wire.use(recorder(name, log))
    const events = []
    wire.on('extended', (id, payload) => events.push([id, payload.toString()]))
    wire.write(peerHandshake())
    log.length = 0
    const hello = { m: { ut_a: 3, ut_b: 0, lt_donthave: 7 }, v: 'Test 1.0', reqq: 250 }
    wire.write(extendedFrame(0, hello))
    assert.equal(log.length, 1)
    assert.equal(log[0][0], 'ut_a')
    assert.equal(log[0][1], 'onExtendedHandshake')
    const dict = log[0][2]
    assert.equal(dict, wire.peerExtendedHandshake)
    assert.deepEqual(dict.m, hello.m)
    assert.ok(Buffer.isBuffer(dict.v), 'byte strings are Buffers')
    assert.equal(dict.v.toString(), 'Test 1.0')
    assert.equal(dict.reqq, 250)
    assert.deepEqual(wire.peerExtendedMapping, { ut_a: 3, ut_b: 0, lt_donthave: 7 })
    // the event keeps 0.7.1's form, after the hooks
    assert.deepEqual(events, [[0, bencode.encode(hello).toString()]])
  })

  test('onMessage gets messages to our ids as Buffers; others reach only the event', () => {
    const log = []
    const wire = pwp()
    wire.use(recorder('ut_a', log))
    wire.use(recorder('ut_b', log))
    const events = []
    wire.on('extended', (id, payload) => events.push([id, payload.toString()]))
    wire.write(Buffer.concat([peerHandshake(), extendedFrame(0, { m: { ut_a: 1 } })]))
    log.length = 0
    wire.write(Buffer.concat([
      extendedFrame(2, Buffer.from('to b')),
      extendedFrame(1, Buffer.from('to a')),
      extendedFrame(3, Buffer.from('to nobody'))
    ]))
    assert.deepEqual(log.map(([name, hook, payload]) => [name, hook, Buffer.isBuffer(payload), payload.toString()]), [
      ['ut_b', 'onMessage', true, 'to b'],
      ['ut_a', 'onMessage', true, 'to a']
    ])
    assert.deepEqual(events.slice(1), [[2, 'to b'], [1, 'to a'], [3, 'to nobody']])
  })

  test('a hook that throws ends the wire; the exception reaches the caller', async () => {
    const wire = pwp()
    class Thrower { onMessage () { throw new Error('bug in a hook') } }
    Thrower.prototype.name = 'ut_thrower'
    wire.use(Thrower)
    const events = []
    wire.on('extended', (id) => events.push(id))
    wire.on('close', () => events.push('close'))
    wire.write(peerHandshake())
    assert.throws(() => wire.write(Buffer.concat([extendedFrame(1, Buffer.from('x')), extendedFrame(1, Buffer.from('y'))])), /bug in a hook/)
    await tick()
    assert.deepEqual(events, ['close'])
  })

  test('a hook that destroys the wire: no event follows, no other hook runs', async () => {
    const wire = pwp()
    class Closer {
      constructor (w) { this.wire = w }
      onExtendedHandshake () { this.wire.destroy() }
    }
    Closer.prototype.name = 'ut_closer'
    const log = []
    wire.use(Closer)
    wire.use(recorder('ut_a', log))
    const events = []
    wire.on('extended', (id) => events.push(id))
    wire.on('close', () => events.push('close'))
    wire.write(Buffer.concat([peerHandshake(), extendedFrame(0, { m: { ut_closer: 1, ut_a: 2 } })]))
    await tick()
    assert.deepEqual(events, ['close'])
    assert.deepEqual(log.filter((e) => e[1] === 'onExtendedHandshake'), [])
  })
})

describe('the extended handshake we send', () => {
  const hello = (w) => messages(w).filter((m) => m.id === 20 && m.ext === 0)

  test('after our handshake, once the peer handshakes with the extension bit', () => {
    const wire = pwp()
    wire.use(recorder('ut_a', []))
    wire.use(recorder('ut_b', []))
    wire.extendedHandshake.metadata_size = 1234
    wire.handshake(HASH, ID)
    assert.deepEqual(messages(wire), ['handshake'], 'not before the peer handshakes')
    wire.write(peerHandshake())
    const out = messages(wire)
    assert.equal(out.length, 1)
    assert.equal(out[0].ext, 0)
    assert.deepEqual(out[0].dict, { m: { ut_a: 1, ut_b: 2 }, metadata_size: 1234 })
    assert.equal(out[0].raw.toString(), 'd1:md4:ut_ai1e4:ut_bi2ee13:metadata_sizei1234ee')
    wire.write(extendedFrame(0, { m: { ut_a: 1 } }))
    wire.have(1)
    assert.deepEqual(messages(wire), [{ id: 4 }], 'once')
  })

  test('the peer handshakes first: at our handshake', () => {
    const wire = pwp()
    wire.use(recorder('ut_a', []))
    wire.write(peerHandshake())
    assert.deepEqual(messages(wire), [])
    wire.handshake(HASH, ID)
    const out = messages(wire)
    assert.equal(out[0], 'handshake')
    assert.deepEqual(out[1].dict, { m: { ut_a: 1 } })
    assert.equal(out.length, 2)
    wire.handshake(HASH, ID) // misuse, but not a second extended handshake
    assert.deepEqual(hello(wire), [])
  })

  test('a peer without the extension bit gets none', () => {
    const wire = pwp()
    wire.use(recorder('ut_a', []))
    wire.handshake(HASH, ID)
    wire.write(peerHandshake({ extended: false }))
    assert.deepEqual(messages(wire), ['handshake'])
  })

  test('use() inside the handshake listener, after our handshake (an outgoing connection): every extension registered there is in m', () => {
    const log = []
    const wire = pwp()
    wire.handshake(HASH, ID)
    wire.on('handshake', () => {
      wire.use(recorder('ut_a', log))
      wire.use(recorder('ut_b', log))
    })
    wire.write(peerHandshake())
    const out = messages(wire)
    assert.deepEqual(out.slice(1).map((m) => m.dict), [{ m: { ut_a: 1, ut_b: 2 } }])
    assert.deepEqual(log.filter((e) => e[1] === 'onHandshake').map((e) => e[0]), ['ut_a', 'ut_b'])
  })

  test('use() inside the handshake listener, before answering (an incoming connection)', () => {
    const wire = pwp()
    wire.on('handshake', (infoHash) => {
      wire.use(recorder('ut_a', []))
      wire.handshake(infoHash, ID)
    })
    wire.write(peerHandshake())
    const out = messages(wire)
    assert.equal(out[0], 'handshake')
    assert.deepEqual(out.slice(1).map((m) => m.dict), [{ m: { ut_a: 1 } }])
  })

  // BEP 6: with fast, the first message after the handshake is a bitfield,
  // have_all or have_none (aria2 drops a peer that sends anything else
  // first); so what a 'handshake' listener sends goes before it.
  test("an incoming connection: after what the 'handshake' listener sends (have_all before it, with fast)", () => {
    const wire = pwp()
    wire.use(recorder('ut_a', []))
    wire.on('handshake', (infoHash) => {
      wire.handshake(infoHash, ID, { fast: true })
      wire.haveAll()
    })
    wire.write(peerHandshake({ fast: true }))
    const out = messages(wire)
    assert.equal(out[0], 'handshake')
    assert.deepEqual(out[1], { id: 14 })
    assert.deepEqual(out[2].dict, { m: { ut_a: 1 } })
    assert.equal(out.length, 3)
  })

  test('use() after both handshakes: at the end of the tick, with every use() of the tick', async () => {
    const wire = pwp()
    wire.handshake(HASH, ID)
    wire.write(peerHandshake())
    wire.use(recorder('ut_a', []))
    wire.use(recorder('ut_b', []))
    await tick()
    assert.deepEqual(messages(wire).slice(1).map((m) => m.dict), [{ m: { ut_a: 1, ut_b: 2 } }])
  })

  test('without use(), none is sent and none decoded: the bytes and events are the reference\'s', () => {
    const run = (wire) => {
      const events = []
      wire.on('handshake', (infoHash, peerId, extensions) => events.push(['handshake', Buffer.from(infoHash), Buffer.from(peerId), extensions]))
      wire.on('extended', (id, payload) => events.push(['extended', id, Buffer.from(payload)]))
      const chunks = []
      wire.on('data', (chunk) => chunks.push(Buffer.from(chunk)))
      wire.handshake(HASH, ID)
      wire.write(Buffer.concat([peerHandshake(), extendedFrame(0, { m: { ut_metadata: 3 }, metadata_size: 10 }), extendedFrame(1, Buffer.from('x'))]))
      wire.extended(3, { msg_type: 0, piece: 0 })
      wire.extended(0, Buffer.from('de'))
      return new Promise((resolve) => setImmediate(() => resolve({ events, bytes: Buffer.concat(chunks) })))
    }
    return Promise.all([run(pwp()), run(new Reference())]).then(([ours, theirs]) => {
      assert.deepEqual(ours.events, theirs.events)
      assert.deepEqual(ours.bytes, theirs.bytes)
    })
  })

  test('a wire without use() holds no extension state: one null slot, no decoding', () => {
    const wire = pwp()
    assert.equal(wire._ext, null)
    wire.handshake(HASH, ID)
    wire.write(Buffer.concat([peerHandshake(), extendedFrame(0, { m: { ut_metadata: 3 } })]))
    assert.deepEqual(Object.keys(wire).filter((k) => /extended|Extended/.test(k)), [])
    assert.ok(Object.isFrozen(wire._ext), 'a shared marker that the wire handshook')
    assert.equal(pwp()._ext, null)
    // reading a property makes the state, but decodes nothing received before use()
    assert.deepEqual(wire.peerExtendedMapping, {})
  })
})

describe('extended(name, payload)', () => {
  function connected () {
    const wire = pwp()
    wire.use(recorder('ut_a', []))
    wire.handshake(HASH, ID)
    wire.write(Buffer.concat([peerHandshake(), extendedFrame(0, { m: { ut_a: 9, ut_off: 0 } })]))
    output(wire)
    return wire
  }

  test('maps the name through the peer\'s ids; a Uint8Array or any view is sent raw, anything else bencoded', () => {
    const wire = connected()
    wire.extended('ut_a', { msg_type: 0, piece: 2 })
    wire.extended('ut_a', new Uint8Array([1, 2, 3]))
    wire.extended('ut_a', new DataView(new Uint8Array([0, 4, 5, 6]).buffer, 1))
    wire.extended('ut_a', Buffer.from('raw'))
    const out = output(wire)
    assert.deepEqual(out, Buffer.concat([
      extendedFrame(9, Buffer.from('d8:msg_typei0e5:piecei2ee')),
      extendedFrame(9, Buffer.from([1, 2, 3])),
      extendedFrame(9, Buffer.from([4, 5, 6])),
      extendedFrame(9, Buffer.from('raw'))
    ]))
  })

  test('a name the peer did not advertise (or gave id 0) throws and sends nothing', () => {
    const wire = connected()
    assert.throws(() => wire.extended('ut_b', {}), { name: 'Error', message: 'Unrecognized extension: ut_b' })
    assert.throws(() => wire.extended('ut_off', {}), { message: 'Unrecognized extension: ut_off' })
    assert.throws(() => wire.extended('toString', {}), { message: 'Unrecognized extension: toString' })
    assert.throws(() => pwp().extended('ut_a', {}), { message: 'Unrecognized extension: ut_a' })
    assert.deepEqual(output(wire), Buffer.alloc(0))
  })

  test('numeric ids as before', () => {
    const wire = connected()
    wire.extended(9, { a: 1 })
    wire.extended(200, Buffer.from('x'))
    assert.throws(() => wire.extended(256, Buffer.from('x')), RangeError)
    assert.deepEqual(output(wire), Buffer.concat([extendedFrame(9, Buffer.from('d1:ai1ee')), extendedFrame(200, Buffer.from('x'))]))
  })
})

describe('a malformed, deep or huge extended handshake', () => {
  const cases = {
    'not bencode': Buffer.from('hello'),
    'a negative string length (loops bencode 2.x forever)': Buffer.from('d1:a-3:e'),
    'cut short': Buffer.from('d1:md4:ut_ai1e'),
    'not a dictionary': Buffer.from('i42e'),
    'nested 100 000 deep': Buffer.from('d1:m' + 'l'.repeat(100000) + 'e'.repeat(100001)),
    'a million values (1 MiB)': Buffer.concat([Buffer.from('d1:ml'), Buffer.alloc(1024 * 1024 - 16, 'le'.repeat(8)), Buffer.from('ee')]),
    'an integer past 2^53': Buffer.from('d4:reqqi99999999999999999999ee'),
    'a string running past the end': Buffer.from('d1:v999999:xe'),
    empty: Buffer.alloc(0)
  }
  for (const [name, payload] of Object.entries(cases)) {
    test(`is ignored for the hooks, never throws, still an event: ${name}`, () => {
      const log = []
      const wire = pwp({ maxFrameLength: 2 * 1024 * 1024 })
      wire.use(recorder('ut_a', log))
      wire.write(Buffer.concat([peerHandshake(), extendedFrame(0, { m: { ut_a: 2 }, v: 'first' })]))
      const before = wire.peerExtendedHandshake
      log.length = 0
      const events = []
      wire.on('extended', (id, body) => events.push([id, body.length]))
      const started = process.hrtime.bigint()
      assert.doesNotThrow(() => wire.write(extendedFrame(0, payload)))
      assert.ok(process.hrtime.bigint() - started < 2e9)
      assert.deepEqual(log, [])
      assert.equal(wire.peerExtendedHandshake, before)
      assert.deepEqual(wire.peerExtendedMapping, { ut_a: 2 })
      assert.deepEqual(events, [[0, payload.length]])
      assert.equal(wire.protocolError, null)
      wire.write(extendedFrame(1, Buffer.from('still reading')))
      assert.equal(log.length, 1)
    })
  }

  test('a "__proto__" key stays a key', () => {
    const wire = pwp()
    wire.use(recorder('ut_a', []))
    wire.write(Buffer.concat([peerHandshake(), extendedFrame(0, Buffer.from('d1:md9:__proto__i5e4:ut_ai1ee9:__proto__d1:xi1eee'))]))
    const dict = wire.peerExtendedHandshake
    assert.equal(Object.getPrototypeOf(dict), Object.prototype)
    assert.deepEqual(Object.keys(dict), ['m', '__proto__'])
    assert.equal(dict.x, undefined)
    assert.deepEqual(Object.keys(wire.peerExtendedMapping), ['__proto__', 'ut_a'])
    assert.throws(() => wire.extended('constructor', {}), /Unrecognized extension/)
  })
})

// Two of our wires, connected in memory, each with the extension modules.
function pair () {
  const a = pwp()
  const b = pwp()
  a.pipe(b).pipe(a)
  return { a, b }
}

// An info dictionary and its hash, as a torrent's.
function infoDictionary () {
  const info = bencode.encode({ length: 123456, name: 'file.bin', 'piece length': 32768, pieces: crypto.randomBytes(80) })
  return { info, infoHash: sha1(info) }
}

function fetchBetweenWires (utMetadata) {
  const { info, infoHash } = infoDictionary()
  const { a: seed, b: leech } = pair()
  seed.use(utMetadata(info))
  leech.use(utMetadata())
  leech.ut_metadata.fetch()
  const got = new Promise((resolve, reject) => {
    leech.ut_metadata.on('metadata', resolve)
    leech.ut_metadata.on('warning', reject)
  })
  leech.handshake(infoHash, ID)
  seed.on('handshake', (hash) => seed.handshake(hash, PEER_ID))
  return got.then((torrent) => {
    assert.equal(sha1(bencode.encode(bencode.decode(torrent).info)), infoHash)
    assert.equal(sha1(Buffer.from(leech.ut_metadata.metadata)), infoHash)
    assert.equal(leech.peerExtendedHandshake.metadata_size, info.length)
  })
}

describe('the extension modules from npm, unmodified, between two of our wires', () => {
  test('ut_metadata 5 (ES module): fetches the info dictionary', async () => {
    const { default: utMetadata } = await import('ut_metadata_v5')
    await fetchBetweenWires(utMetadata)
  })

  test('ut_metadata 3 (CommonJS): fetches the info dictionary', async () => {
    await fetchBetweenWires(require('ut_metadata'))
  })

  test('ut_metadata 5 rejects metadata whose hash is not the info hash', async () => {
    const { default: utMetadata } = await import('ut_metadata_v5')
    const { info } = infoDictionary()
    const { a: seed, b: leech } = pair()
    seed.use(utMetadata(info))
    leech.use(utMetadata())
    leech.ut_metadata.fetch()
    const warning = new Promise((resolve) => leech.ut_metadata.on('warning', resolve))
    leech.ut_metadata.on('metadata', () => assert.fail('accepted metadata of another torrent'))
    leech.handshake(HASH, ID)
    seed.on('handshake', (hash) => seed.handshake(hash, PEER_ID))
    assert.match((await warning).message, /invalid metadata/)
  })

  test('ut_pex 5: a peer added on one side is a peer event on the other', async () => {
    const { default: utPex } = await import('ut_pex')
    const { a, b } = pair()
    a.use(utPex())
    b.use(utPex())
    b.handshake(HASH, ID)
    a.on('handshake', (hash) => a.handshake(hash, PEER_ID))
    await new Promise((resolve) => a.once('extended', resolve)) // b's extended handshake
    const peers = []
    const got = new Promise((resolve) => b.ut_pex.on('peer', (peer, flags) => {
      peers.push([peer, flags.isReachable])
      if (peers.length === 2) resolve()
    }))
    a.ut_pex.addPeer('127.0.0.1:6881', { isReachable: true })
    a.ut_pex.addPeer('10.1.2.3:51413')
    a.ut_pex._sendMessage() // now, not in 65 s
    await got
    assert.deepEqual(peers, [['127.0.0.1:6881', true], ['10.1.2.3:51413', false]])
    const dropped = new Promise((resolve) => b.ut_pex.on('dropped', resolve))
    b.ut_pex._lastMessageTimestamp -= 61000 // as if a minute had passed: a second message sooner is a ban
    a.ut_pex.dropPeer('10.1.2.3:51413')
    a.ut_pex._sendMessage()
    assert.equal(await dropped, '10.1.2.3:51413')
  })
})
