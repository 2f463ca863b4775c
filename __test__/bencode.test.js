'use strict'

// pwp.bencode: the bencode the wire reads peers' extended handshakes with
// (and the command its .torrent files and metadata), bounded for bytes a
// peer chose; and the one it writes extended messages with.

const test = require('node:test')
const assert = require('node:assert')
const Reference = require('bencode') // 2.0.3, an independent implementation
const { bencode } = require('..')

const whole = (s, limits) => {
  const buf = Buffer.from(s)
  try {
    return bencode.end(buf, 0, limits) === buf.length
  } catch (err) {
    assert.ok(err instanceof SyntaxError || err instanceof RangeError, `${s}: ${err}`)
    return false
  }
}

test('reads well-formed values; refuses, with a SyntaxError or RangeError, what hangs or overflows the bencode packages', () => {
  const ok = ['i0e', 'i-12e', '0:', '3:abc', 'le', 'de', 'd1:ai1e1:bl1:xi2eee', 'd1:ald1:bdeee1:ci1ee',
    'i9007199254740991e', 'l'.repeat(100) + 'e'.repeat(100)]
  for (const s of ok) assert.ok(whole(s), s)
  const bad = ['', 'd1:a-3:e', 'i-e', 'i-0e', 'i03e', 'ie', 'i1', '4:abc', '03:abc', 'd1:ae', 'di1ei2ee', 'e', 'x',
    'd1:ai1eex', 'l'.repeat(101) + 'e'.repeat(101), 'i9007199254740992e', '1234567890123456:', 'i+1e', 'li1e']
  for (const s of bad) assert.ok(!whole(s), s)
  // deep nesting is refused at the bound, whatever follows
  assert.ok(!whole('l'.repeat(1e6)))
})

test('end: where the value at an offset ends (a ut_metadata message: its dictionary, then the piece)', () => {
  assert.strictEqual(bencode.end(Buffer.from('d8:msg_typei1e5:piecei0eeTRAILER')), 25)
  assert.strictEqual(bencode.end(Buffer.from('xxi42eyy'), 2), 6)
  assert.throws(() => bencode.end(Buffer.from('lle'), 0, { maxDepth: 1 }), RangeError)
  assert.throws(() => bencode.end(Buffer.from('li1ei2ei3ee'), 0, { maxValues: 3 }), RangeError)
  assert.strictEqual(bencode.end(Buffer.from('li1ei2ei3ee'), 0, { maxValues: 4 }), 11)
})

test('decode: Buffers for strings, numbers for integers, own keys (even "__proto__"), as the bencode package but bounded', () => {
  const bytes = Buffer.from('d4:infod6:lengthi12e4:name3:abce1:ll1:xi-3eee')
  const value = bencode.decode(bytes)
  assert.deepStrictEqual(value, Reference.decode(bytes))
  assert.deepStrictEqual(value, { info: { length: 12, name: Buffer.from('abc') }, l: [Buffer.from('x'), -3] })
  const proto = bencode.decode(Buffer.from('d9:__proto__d1:ai1eee'))
  assert.strictEqual(Object.getPrototypeOf(proto), Object.prototype)
  assert.deepStrictEqual(Object.keys(proto), ['__proto__'])
  // bytes after the value are ignored (as bittorrent-protocol's extended handshakes are read)
  assert.deepStrictEqual(bencode.decode(Buffer.from('i7etrailing')), 7)
  // a string is a copy: it keeps no chunk alive
  const chunk = Buffer.from('3:abc')
  const s = bencode.decode(chunk)
  chunk[2] = 0x7a
  assert.deepStrictEqual(s, Buffer.from('abc'))
})

test('encode: keys sorted as raw bytes, as the bencode package writes them', () => {
  const value = { zeta: 1, alpha: [Buffer.from('x'), 'y', -2], é: { b: 0, a: 1 } }
  assert.ok(bencode.encode(value).equals(Reference.encode(value)))
  assert.throws(() => bencode.encode(1.5), RangeError)
  assert.throws(() => bencode.encode(undefined), TypeError)
})

test('arguments are checked', () => {
  assert.throws(() => bencode.decode('i1e'), TypeError)
  assert.throws(() => bencode.end(Buffer.from('i1e'), 4), RangeError)
  assert.throws(() => bencode.decode(Buffer.from('i1e'), { maxDepth: -1 }), RangeError)
  assert.throws(() => bencode.decode(Buffer.from('i1e'), 'deep'), TypeError)
})
