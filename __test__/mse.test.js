'use strict'

// Encryption (MSE/PE, lib/mse.js): two of our wires over an in-memory pipe
// and over loopback TCP, every pair of policies, a whole session SHA-1
// checked, refusals with their coded errors, and the options' checks.
// Against libtorrent and bittorrent-protocol: interop-mse.test.js.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const net = require('node:net')
const { PassThrough, Transform } = require('node:stream')
const pwp = require('..')

const IH = crypto.createHash('sha1').update('mse test torrent').digest()
const OTHER = crypto.createHash('sha1').update('another torrent').digest()
const ID_A = Buffer.from('-PW0100-initiator000')
const ID_B = Buffer.from('-PW0100-responder000')
const BLOCK = 16384
const PIECE = 4 * BLOCK

const sha1 = (buf) => crypto.createHash('sha1').update(buf).digest('hex')

// The initiator's options for a policy ('off' is a plain wire).
const dialing = (policy) => policy === 'off' ? {} : { encryption: policy, infoHash: IH }
const accepting = (policy) => policy === 'off' ? {} : { encryption: policy, infoHashes: [OTHER, IH] }

// The seeder answers every request from `data`; the leecher asks for all
// of it once unchoked. Resolves with what the leecher got.
function session (leecher, seeder, data) {
  return new Promise((resolve, reject) => {
    seeder.on('handshake', (ih, id) => {
      seeder.handshake(ih, ID_B)
      seeder.bitfield(Buffer.alloc(Math.ceil(data.length / PIECE / 8), 0xff))
    })
    seeder.on('interested', () => seeder.unchoke())
    seeder.on('request', (i, offset, length, respond) => {
      const at = i * PIECE + offset
      respond(null, data.subarray(at, at + length))
    })
    leecher.on('handshake', () => leecher.interested())
    leecher.on('unchoke', () => {
      const got = Buffer.alloc(data.length)
      let pending = 0
      for (let at = 0; at < data.length; at += BLOCK) {
        pending++
        leecher.request(Math.floor(at / PIECE), at % PIECE, BLOCK, (err, block) => {
          if (err) return reject(err)
          block.copy(got, at)
          if (--pending === 0) resolve(got)
        })
      }
    })
    leecher.handshake(IH, ID_A)
  })
}

// How a wire ends up: its encryption once it has the peer's handshake, or
// its error once closed.
function outcome (w) {
  return new Promise((resolve) => {
    w.once('handshake', () => resolve({ encryption: w.encryption }))
    w.once('close', () => resolve({ encryption: w.encryption, error: w.protocolError && w.protocolError.code }))
  })
}

// a dials b over an in-memory pipe (each wire reads what the other pushes).
function memoryPair (a, b) {
  a.pipe(b).pipe(a)
}

// a dials b over loopback TCP; resolves once both are piped.
async function tcpPair (t, a, b) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.pipe(b).pipe(socket)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const socket = net.connect(server.address().port, '127.0.0.1')
  socket.on('error', () => {})
  socket.pipe(a).pipe(socket)
  t.after(() => socket.destroy())
}

const POLICIES = ['off', 'prefer', 'require']
// What each pair of policies (initiator, responder) comes to.
function expected (ip, rp) {
  if (ip === 'off' && rp === 'off') return [{ encryption: null }, { encryption: null }]
  if (ip === 'off' && rp === 'prefer') return [{ encryption: null }, { encryption: 'plaintext' }]
  if (ip === 'off') return [null, { encryption: null, error: 'ERR_PEER_WIRE_MSE_PLAINTEXT_REFUSED' }]
  if (rp === 'off') return [{ encryption: null }, { encryption: null, error: 'ERR_PEER_WIRE_BAD_HANDSHAKE' }]
  return [{ encryption: 'rc4' }, { encryption: 'rc4' }]
}

for (const [name, connect] of [['in memory', (t, a, b) => memoryPair(a, b)], ['over loopback TCP', tcpPair]]) {
  describe(`two wires ${name}`, () => {
    for (const ip of POLICIES) {
      for (const rp of POLICIES) {
        test(`initiator ${ip}, responder ${rp}`, async (t) => {
          const a = pwp(dialing(ip))
          const b = pwp(accepting(rp))
          b.on('handshake', (ih) => b.handshake(ih, ID_B))
          const errors = []
          for (const w of [a, b]) w.on('error', (err) => errors.push(err.code))
          const [ea, eb] = expected(ip, rp)
          // A refused initiator only sees its connection end (not here,
          // in memory): its outcome is not awaited.
          const done = Promise.all([ea === null || eb.error ? null : outcome(a), outcome(b)])
          await connect(t, a, b)
          a.handshake(IH, ID_A)
          const [ra, rb] = await done
          assert.deepEqual(rb, eb)
          if (ra !== null) assert.deepEqual(ra, ea)
          if (eb.error) {
            assert.ok(errors.includes(eb.error), `${errors} has ${eb.error}`)
            assert.equal(a.encryption, null)
          }
          a.destroy()
          b.destroy()
        })
      }
    }

    for (const [ip, rp] of [['require', 'require'], ['prefer', 'prefer'], ['off', 'prefer']]) {
      test(`a whole session, SHA-1 checked (${ip} dials ${rp}), both directions`, async (t) => {
        const data = crypto.randomBytes(6 * PIECE + 3 * BLOCK)
        const copy = Buffer.from(data)
        // b seeds to a
        let a = pwp(dialing(ip))
        let b = pwp(accepting(rp))
        await connect(t, a, b)
        let got = await session(a, b, data)
        assert.equal(sha1(got), sha1(data))
        assert.deepEqual(data, copy, 'the blocks handed to piece() are not modified')
        assert.equal(a.encryption, ip === 'off' ? null : 'rc4')
        assert.equal(b.encryption, ip === 'off' ? 'plaintext' : 'rc4')
        a.destroy()
        b.destroy()
        // a (the initiator) seeds to b
        a = pwp(dialing(ip))
        b = pwp(accepting(rp))
        await connect(t, a, b)
        const seeding = new Promise((resolve, reject) => {
          b.on('handshake', () => { b.handshake(IH, ID_B); b.interested() })
          b.on('unchoke', () => {
            const blocks = []
            let pending = data.length / BLOCK
            for (let at = 0; at < data.length; at += BLOCK) {
              b.request(Math.floor(at / PIECE), at % PIECE, BLOCK, (err, block) => {
                if (err) return reject(err)
                blocks[at / BLOCK] = Buffer.from(block)
                if (--pending === 0) resolve(Buffer.concat(blocks))
              })
            }
          })
          a.on('interested', () => a.unchoke())
          a.on('request', (i, offset, length, respond) => respond(null, data.subarray(i * PIECE + offset, i * PIECE + offset + length)))
        })
        a.handshake(IH, ID_A)
        got = await seeding
        assert.equal(sha1(got), sha1(data))
        assert.deepEqual(data, copy)
        a.destroy()
        b.destroy()
      })
    }
  })
}

describe('encrypted bytes', () => {
  test('nothing in the clear: no plaintext before MSE, no BitTorrent handshake after', async () => {
    const a = pwp({ encryption: 'require', infoHash: IH })
    const b = pwp({ encryption: 'require', infoHashes: [IH] })
    const tapped = []
    const tap = new PassThrough()
    tap.on('data', (chunk) => tapped.push(Buffer.from(chunk)))
    a.handshake(IH, ID_A) // before anything is piped: held until MSE is done
    a.have(7)
    a.pipe(tap).pipe(b).pipe(a)
    const [, hs] = await Promise.all([
      new Promise((resolve) => b.once('have', resolve)),
      new Promise((resolve) => b.once('handshake', (ih, id) => resolve([ih, id])))
    ])
    assert.deepEqual(hs, [IH, ID_A])
    const all = Buffer.concat(tapped)
    assert.equal(all.indexOf('BitTorrent protocol'), -1)
    assert.equal(all.indexOf(IH), -1)
    assert.equal(all.indexOf(ID_A), -1)
    a.destroy()
    b.destroy()
  })

  test("the 'encryption' event and property", async () => {
    const a = pwp({ encryption: 'prefer', infoHash: IH.toString('hex') })
    const b = pwp({ encryption: 'prefer', infoHashes: [IH.toString('hex').toUpperCase()] })
    assert.equal(a.encryption, null)
    const events = Promise.all([a, b].map((w) => new Promise((resolve) => w.once('encryption', resolve))))
    memoryPair(a, b)
    assert.deepEqual(await events, ['rc4', 'rc4'])
    assert.equal(a.encryption, 'rc4')
    a.destroy()
    b.destroy()
  })

  test('an unknown torrent ends the responder with ERR_PEER_WIRE_MSE_UNKNOWN_TORRENT', async () => {
    const a = pwp({ encryption: 'require', infoHash: crypto.randomBytes(20) })
    const b = pwp({ encryption: 'prefer', infoHashes: [IH] })
    const err = new Promise((resolve) => b.once('error', resolve))
    const closed = new Promise((resolve) => b.once('close', resolve))
    memoryPair(a, b)
    assert.equal((await err).code, 'ERR_PEER_WIRE_MSE_UNKNOWN_TORRENT')
    await closed
    assert.equal(b.protocolError.code, 'ERR_PEER_WIRE_MSE_UNKNOWN_TORRENT')
    assert.equal(b.encryption, null)
    a.destroy()
  })

  test('garbage to a responder: a coded error, no hang', async () => {
    const b = pwp({ encryption: 'require', infoHashes: [IH] })
    const closed = new Promise((resolve) => b.once('close', resolve))
    b.write(Buffer.alloc(96 + 600, 1)) // a key, then no HASH('req1', S) within 532 bytes
    await closed
    assert.equal(b.protocolError.code, 'ERR_PEER_WIRE_MSE_SYNC')
  })

  test('destroyed during the handshake: what was held is never sent', async () => {
    const a = pwp({ encryption: 'require', infoHash: IH })
    a.handshake(IH, ID_A)
    const chunks = []
    a.on('data', (c) => chunks.push(c))
    const ended = new Promise((resolve) => a.once('end', resolve))
    a.destroy()
    await ended
    const all = Buffer.concat(chunks)
    assert.ok(all.length >= 96 && all.length <= 96 + 512, 'only Ya and PadA')
    assert.equal(all.indexOf(ID_A), -1)
  })
})

// A pipe that passes on each chunk cut into pieces of 1 to 7 bytes (copies:
// the wire at the other end may modify what it is written).
function trickle () {
  let n = 0
  return new Transform({
    transform (chunk, encoding, callback) {
      for (let at = 0; at < chunk.length;) {
        const len = 1 + (n++ % 7)
        this.push(Buffer.from(chunk.subarray(at, at + len)))
        at += len
      }
      callback()
    }
  })
}

describe('cut anywhere', () => {
  for (const [ip, rp] of [['require', 'prefer'], ['prefer', 'prefer'], ['off', 'prefer']]) {
    test(`${ip} dials ${rp}, every chunk cut into 1 to 7 bytes both ways: a session, SHA-1 checked`, async () => {
      const data = crypto.randomBytes(2 * PIECE + 5 * BLOCK)
      const a = pwp(dialing(ip))
      const b = pwp(accepting(rp))
      a.pipe(trickle()).pipe(b).pipe(trickle()).pipe(a)
      const got = await session(a, b, data)
      assert.equal(sha1(got), sha1(data))
      assert.equal(b.encryption, ip === 'off' ? 'plaintext' : 'rc4')
      a.destroy()
      b.destroy()
    })
  }
})

// An established RC4 pair whose bytes from a to b the test writes to b
// itself: resolves with what a sent after both handshakes, as `take()`
// collects it.
async function handshaken () {
  const a = pwp({ encryption: 'require', infoHash: IH })
  const b = pwp({ encryption: 'require', infoHashes: [IH] })
  const sent = []
  let forward = true
  a.on('data', (chunk) => forward ? b.write(chunk) : sent.push(chunk))
  b.pipe(a)
  b.on('handshake', () => b.handshake(IH, ID_B))
  const both = Promise.all([a, b].map((w) => new Promise((resolve) => w.once('handshake', resolve))))
  a.handshake(IH, ID_A)
  await both
  await new Promise((resolve) => setImmediate(resolve))
  forward = false
  const take = async () => {
    await new Promise((resolve) => setImmediate(resolve))
    return Buffer.concat(sent.splice(0))
  }
  return { a, b, take }
}

// What a sends to b in the tests below: haves, then pieces whose blocks
// run across the chunks they are cut into, then more haves.
function sendSome (a, blocks) {
  for (let i = 0; i < 20; i++) a.have(i)
  for (const [i, block] of blocks.entries()) a.piece(i, 0, block)
  for (let i = 20; i < 40; i++) a.have(i)
}

// What b hands on, in order: haves by index, pieces as [index, SHA-1].
function record (b) {
  const got = []
  b.on('have', (i) => got.push(i))
  b.on('piece', (i, offset, block) => got.push([i, sha1(block)]))
  return got
}

function expectedRecord (blocks) {
  const haves = (from) => Array.from({ length: 20 }, (_, i) => from + i)
  return [...haves(0), ...blocks.map((block, i) => [i, sha1(block)]), ...haves(20)]
}

describe('receiving encrypted chunks', () => {
  const blocks = [crypto.randomBytes(BLOCK), crypto.randomBytes(3000), crypto.randomBytes(BLOCK)]

  test('one native call per incoming chunk, cut anywhere (blocks trickled too)', async () => {
    const native = require('../lib/native.js')
    const { a, b, take } = await handshaken()
    const got = record(b)
    sendSome(a, blocks)
    const bytes = await take()
    const calls = new Map()
    const saved = {}
    for (const [name, f] of Object.entries(native)) {
      if (typeof f !== 'function') continue
      saved[name] = f
      native[name] = function (handle) {
        if (handle === b._receiver.native) calls.set(name, (calls.get(name) || 0) + 1)
        return f.apply(this, arguments)
      }
    }
    let chunks = 0
    try {
      // Cuts of 1 to 1500 bytes: inside messages, inside blocks, between them.
      for (let at = 0, n = 0; at < bytes.length; n++) {
        const len = 1 + (n * 397) % 1500
        b.write(Buffer.from(bytes.subarray(at, at + len)))
        chunks++
        at += len
      }
    } finally {
      Object.assign(native, saved)
    }
    assert.deepEqual(got, expectedRecord(blocks))
    assert.deepEqual([...calls], [['receiverReceive', chunks]])
    a.destroy()
    b.destroy()
  })

  test('a receiver paused inside a handler mid-chunk takes up where it stopped: every message once, intact', async () => {
    for (const cut of [1, 700, 9000, Infinity]) {
      const { a, b, take } = await handshaken()
      const got = record(b)
      // Every few messages a listener pauses the wire mid-chunk (its reader
      // is behind); it resumes on the next turn.
      let n = 0
      const pauseSometimes = () => {
        if (++n % 3 !== 0) return
        b.pause()
        setImmediate(() => b.resume())
      }
      b.on('have', pauseSometimes)
      b.on('piece', pauseSometimes)
      sendSome(a, blocks)
      const bytes = await take()
      for (let at = 0; at < bytes.length; at += cut) b.write(Buffer.from(bytes.subarray(at, at + cut)))
      const want = expectedRecord(blocks)
      // Until all came, or the wire ended (on bytes it misread).
      for (let turns = 0; got.length < want.length && !b.destroyed && turns < 10000; turns++) {
        await new Promise((resolve) => setImmediate(resolve))
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
      assert.deepEqual(got, want, `cut every ${cut} bytes`)
      a.destroy()
      b.destroy()
    }
  })
})

describe('misuse', () => {
  test("destroy() in an 'encryption' listener: 'close' once, nothing decoded after", async () => {
    const a = pwp({ encryption: 'require', infoHash: IH })
    const b = pwp({ encryption: 'require', infoHashes: [IH] })
    let handshakes = 0
    let closes = 0
    b.on('handshake', () => handshakes++)
    b.on('close', () => closes++)
    b.once('encryption', () => b.destroy())
    a.handshake(IH, ID_A)
    memoryPair(a, b)
    await new Promise((resolve) => b.once('close', resolve))
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(handshakes, 0)
    assert.equal(closes, 1)
    assert.equal(b.encryption, 'rc4')
    a.destroy()
  })

  test('calls after close, during the handshake: nothing is sent, requests fail', async () => {
    const a = pwp({ encryption: 'prefer', infoHash: IH })
    a.destroy()
    a.handshake(IH, ID_A)
    a.have(1)
    const err = await new Promise((resolve) => a.request(0, 0, BLOCK, resolve))
    assert.equal(err.message, 'wire is closed')
    assert.equal(a.encryption, null)
  })

  test('writes after an MSE error are ignored', async () => {
    const b = pwp({ encryption: 'require', infoHashes: [IH] })
    const errors = []
    b.on('error', (err) => errors.push(err.code))
    const plain = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), Buffer.alloc(48)])
    b.write(plain)
    b.write(Buffer.alloc(100))
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(errors, ['ERR_PEER_WIRE_MSE_PLAINTEXT_REFUSED'])
  })
})

describe('options', () => {
  test('the default wire has no encryption and no MSE state', () => {
    const w = pwp()
    assert.equal(w.encryption, null)
    assert.equal(w._mse, undefined)
    assert.ok(!Object.keys(w).includes('encryption'))
    assert.ok(!Object.keys(pwp({ encryption: 'off', infoHash: IH })).includes('_mse'))
  })

  const cases = [
    [{ encryption: 'yes', infoHash: IH }, RangeError],
    [{ encryption: true, infoHash: IH }, TypeError],
    [{ encryption: 'prefer' }, TypeError],
    [{ encryption: 'require', infoHash: IH, infoHashes: [IH] }, TypeError],
    [{ encryption: 'prefer', infoHash: IH.subarray(1) }, RangeError],
    [{ encryption: 'prefer', infoHash: 'xyz' }, RangeError],
    [{ encryption: 'prefer', infoHash: 42 }, TypeError],
    [{ encryption: 'prefer', infoHashes: IH }, TypeError],
    [{ encryption: 'prefer', infoHashes: [] }, RangeError],
    [{ encryption: 'prefer', infoHashes: [IH, 'nothex'] }, RangeError],
    [{ infoHash: null }, TypeError]
  ]
  for (const [opts, Type] of cases) {
    test(`${JSON.stringify(opts, (k, v) => (v && v.type === 'Buffer') ? `<${v.data.length} bytes>` : v)} throws ${Type.name}`, () => {
      assert.throws(() => pwp(opts), Type)
    })
  }
})
