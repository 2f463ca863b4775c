'use strict'

// What real programs do to a wire that 0.7.1 gets wrong: answering a
// request that was cancelled and asked for again, answering two requests
// for one block, keep-alives turned on too late, destroy() inside a
// handler, calls right after destroy(), a handler of the peer's wire that
// sends on this wire while it is still pushing (two wires in one process).

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const pwp = require('..')
const { HASH, ID, handshakeBytes, u32, frame } = require('./peer.js')

const request = (i, offset, length) => frame(6, u32(i, offset, length))
const cancel = (i, offset, length) => frame(8, u32(i, offset, length))
const piece = (i, offset, block) => frame(7, Buffer.concat([u32(i, offset), block]))
const tick = () => new Promise((resolve) => setImmediate(resolve))

// A seeder wire that has handshaken and unchoked the peer; `answers` are
// the pieces it sends, read back from its output.
function seeding () {
  const wire = pwp()
  const sent = []
  wire.on('data', (chunk) => sent.push(chunk))
  wire.write(handshakeBytes())
  wire.unchoke()
  const pending = []
  wire.on('request', (i, offset, length, respond) => pending.push({ i, offset, length, respond }))
  // The piece messages in what the wire sent: [index, offset, length].
  const pieces = () => {
    const out = Buffer.concat(sent)
    const found = []
    for (let at = 0; at + 4 <= out.length;) {
      const len = out.readUInt32BE(at)
      if (len > 0 && out[at + 4] === 7) found.push([out.readUInt32BE(at + 5), out.readUInt32BE(at + 9), len - 9])
      at += 4 + len
    }
    return found
  }
  return { wire, pending, pieces }
}

describe('requests are answered by identity', () => {
  test('two pending requests for one block: each answer sends its piece', async () => {
    const s = seeding()
    s.wire.write(Buffer.concat([request(1, 0, 4), request(1, 0, 4)]))
    assert.equal(s.pending.length, 2)
    s.pending[1].respond(null, Buffer.from('bbbb'))
    s.pending[0].respond(null, Buffer.from('aaaa'))
    await tick()
    assert.deepEqual(s.pieces(), [[1, 0, 4], [1, 0, 4]])
    assert.equal(s.wire.peerRequests.length, 0)
    assert.equal(s.wire.uploaded, 8)
  })

  test('cancelled, asked for again, the cancelled one answered late: the new request still gets its piece', async () => {
    const s = seeding()
    s.wire.write(request(2, 16384, 4))
    s.wire.write(cancel(2, 16384, 4))
    s.wire.write(request(2, 16384, 4))
    assert.equal(s.wire.peerRequests.length, 1)
    const [cancelled, again] = s.pending
    cancelled.respond(null, Buffer.from('late')) // a seeder reading from disk
    await tick()
    assert.deepEqual(s.pieces(), [], 'the cancelled request sends nothing')
    assert.equal(s.wire.peerRequests.length, 1)
    again.respond(null, Buffer.from('good'))
    await tick()
    assert.deepEqual(s.pieces(), [[2, 16384, 4]])
    assert.equal(s.wire.peerRequests.length, 0)
  })

  test('an answer given twice sends one piece', async () => {
    const s = seeding()
    s.wire.write(request(3, 0, 2))
    s.pending[0].respond(null, Buffer.from('xy'))
    s.pending[0].respond(null, Buffer.from('xy'))
    await tick()
    assert.deepEqual(s.pieces(), [[3, 0, 2]])
  })
})

describe('lifecycle', () => {
  test('setKeepAlive(true) after the wire finished starts no timer', async () => {
    const wire = pwp()
    wire.resume()
    wire.end()
    await new Promise((resolve) => wire.on('finish', resolve))
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = timers()
    wire.setKeepAlive(true)
    assert.equal(timers(), before, 'a keep-alive interval would keep the process alive forever')
  })

  test('setKeepAlive(true) after destroy() starts no timer', () => {
    const wire = pwp()
    wire.resume()
    wire.destroy()
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = timers()
    wire.setKeepAlive(true)
    assert.equal(timers(), before)
  })

  for (const where of ['request callback', 'download']) {
    test(`destroy() inside the ${where}: no event follows 'close'`, () => {
      const wire = pwp()
      wire.resume()
      const events = []
      for (const name of ['download', 'piece', 'close', 'upload', 'have']) wire.on(name, () => events.push(name))
      wire.write(Buffer.concat([handshakeBytes(), frame(1)]))
      wire.request(0, 0, 3, () => {
        events.push('callback')
        if (where === 'request callback') wire.destroy()
      })
      if (where === 'download') wire.on('download', () => wire.destroy())
      wire.write(Buffer.concat([piece(0, 0, Buffer.from('abc')), frame(4, u32(5))]))
      const expected = where === 'download' ? ['callback', 'download', 'close'] : ['callback', 'close']
      assert.deepEqual(events, expected)
      wire.piece(1, 0, Buffer.from('late'))
      assert.deepEqual(events, expected, 'piece() after close emits no upload')
    })
  }

  test('calls right after destroy() in the same turn send nothing; calls before it are sent', async () => {
    const wire = pwp()
    const chunks = []
    wire.on('data', (c) => chunks.push(c))
    wire.handshake(HASH, ID)
    wire.interested()
    wire.destroy()
    wire.unchoke()
    wire.have(3)
    wire.bitfield(Buffer.from([0xff]))
    wire.piece(0, 0, Buffer.from('block'))
    wire.extended(1, Buffer.from('x'))
    wire.port(6881)
    wire.setKeepAlive(true)
    let failed
    wire.request(0, 0, 1, (err) => { failed = err.message })
    await tick()
    const out = Buffer.concat(chunks)
    assert.equal(out.length, 68 + 5, 'the handshake and interested only')
    assert.equal(out[68 + 4], 2)
    assert.equal(failed, 'wire is closed')
    assert.equal(wire.uploaded, 0)
  })

  // Pushing a message can run the reader's handlers at once (a flowing
  // Duplex emits 'data' inside push): a block sent from there must not land
  // between another block's header and its bytes (small messages and a
  // block's header go out as one chunk; see lib/sender.js).
  for (const encrypted of [false, true]) {
    test(`a block sent from the peer wire's handler while this wire pushes another goes after it, intact${encrypted ? ' (MSE, RC4)' : ''}`, async () => {
      const a = encrypted ? pwp({ encryption: 'require', infoHash: HASH }) : pwp()
      const b = encrypted ? pwp({ encryption: 'require', infoHashes: [HASH] }) : pwp()
      a.pipe(b).pipe(a)
      const handshaken = Promise.all([a, b].map((w) => new Promise((resolve) => w.once('handshake', resolve))))
      b.once('handshake', () => b.handshake(HASH, ID))
      a.handshake(HASH, ID)
      await handshaken
      const blockA = Buffer.alloc(16384, 0xaa)
      const blockB = Buffer.alloc(16384, 0xbb)
      const got = []
      const errors = []
      b.on('error', (err) => errors.push(err.message))
      b.on('have', () => a.piece(1, 0, blockB))
      b.on('piece', (i, offset, block) => got.push([i, offset, block.equals(i === 0 ? blockA : blockB)]))
      a.have(5)
      a.piece(0, 0, blockA)
      await tick()
      await tick()
      assert.deepEqual(errors, [])
      assert.equal(b.protocolError, null)
      assert.deepEqual(got, [[0, 0, true], [1, 0, true]])
      assert.equal(a.encryption, encrypted ? 'rc4' : null)
    })
  }
})
