'use strict'

// Parts of the command tested alone: the magnet link parser.

const test = require('node:test')
const assert = require('node:assert')
const { parseMagnet, isMagnet } = require('../cli/magnet')

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
