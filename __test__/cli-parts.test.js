'use strict'

// Parts of the command tested alone: the bencode guard in front of the
// `bencode` packages, and the magnet link parser.

const test = require('node:test')
const assert = require('node:assert')
const { scan, wellFormed } = require('../cli/bencode-check')
const { parseMagnet, isMagnet } = require('../cli/magnet')

test('the bencode guard passes well-formed values and refuses what hangs or overflows the bencode packages', () => {
  const ok = ['i0e', 'i-12e', '0:', '3:abc', 'le', 'de', 'd1:ai1e1:bl1:xi2eee', 'd1:ald1:bdeee1:ci1ee',
    'l'.repeat(100) + 'e'.repeat(100)]
  for (const s of ok) assert.ok(wellFormed(Buffer.from(s)), s)
  const bad = ['', 'd1:a-3:e', 'i-e', 'i-0e', 'i03e', 'ie', 'i1', '4:abc', '03:abc', 'd1:ae', 'di1ei2ee', 'e', 'x',
    'd1:ai1eex', 'l'.repeat(101) + 'e'.repeat(101), 'i1234567890123456e', '1234567890123456:']
  for (const s of bad) assert.ok(!wellFormed(Buffer.from(s)), s)
  // the bencoded part of a ut_metadata message, followed by its piece
  assert.strictEqual(scan(Buffer.from('d8:msg_typei1e5:piecei0eeTRAILER')), 25)
  assert.strictEqual(scan(Buffer.from('lle'), 0, { maxDepth: 1 }), -1)
  assert.strictEqual(scan(Buffer.from('li1ei2ei3ee'), 0, { maxTokens: 3 }), -1)
  // deep nesting is refused without recursion
  assert.ok(!wellFormed(Buffer.from('l'.repeat(1e6))))
})

test('magnet links: hex and base32 btih, dn; trackers ignored', () => {
  const hex = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a'
  assert.deepStrictEqual(parseMagnet(`magnet:?xt=urn:btih:${hex}&dn=a%20b&tr=udp%3A%2F%2Ftracker.example%3A80`),
    { infoHash: Buffer.from(hex, 'hex'), name: 'a b' })
  assert.deepStrictEqual(parseMagnet(`magnet:?xt=urn:btih:${hex.toUpperCase()}`), { infoHash: Buffer.from(hex, 'hex'), name: null })
  assert.deepStrictEqual(parseMagnet('magnet:?dn=x&xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK').infoHash, Buffer.from(hex, 'hex'))
  assert.deepStrictEqual(parseMagnet('magnet:?xt=urn:btih:yex6dqdlxisuvhoj6um3gnnkpqjwpkek').infoHash, Buffer.from(hex, 'hex'))
  assert.ok(isMagnet('MAGNET:?xt=urn:btih:' + hex))
  assert.ok(!isMagnet('file.torrent'))
  assert.throws(() => parseMagnet('magnet:?xt=urn:btih:1234'), /neither 40 hex digits nor 32 base32/)
  assert.throws(() => parseMagnet('magnet:?xt=urn:btmh:1220' + 'ab'.repeat(32)), /no xt=urn:btih: info hash/)
  assert.throws(() => parseMagnet('magnet:?dn=x'), /no xt=urn:btih:/)
})
