'use strict'

// Magnet links (BEP 9): the v1 info hash (`xt=urn:btih:` in hex or base32)
// and the display name (`dn`). Trackers (`tr`) and everything else are
// ignored: peers are given with --peer.

const { Failure } = require('./failure')

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function base32 (text) {
  let bits = 0
  let value = 0
  const out = []
  for (const ch of text.toUpperCase()) {
    const v = BASE32.indexOf(ch)
    if (v < 0) return null
    value = (value << 5) | v
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

function isMagnet (text) {
  return typeof text === 'string' && /^magnet:\?/i.test(text)
}

// { infoHash: Buffer(20), name: string | null }
function parseMagnet (text) {
  const bad = (why) => new Failure(`not a usable magnet link (${why})`)
  if (!isMagnet(text)) throw bad('it must start with magnet:?')
  const params = new URLSearchParams(text.slice(text.indexOf('?') + 1))
  let infoHash = null
  for (const xt of params.getAll('xt')) {
    const m = /^urn:btih:(.*)$/i.exec(xt)
    if (!m) continue // urn:btmh: (v2), or another network
    if (/^[0-9a-f]{40}$/i.test(m[1])) infoHash = Buffer.from(m[1], 'hex')
    else if (/^[a-z2-7]{32}$/i.test(m[1])) infoHash = base32(m[1])
    else throw bad(`the btih ${JSON.stringify(m[1])} is neither 40 hex digits nor 32 base32 characters`)
    break
  }
  if (!infoHash) throw bad('no xt=urn:btih: info hash; v2-only magnets are not supported')
  const name = params.get('dn')
  return { infoHash, name: name || null }
}

module.exports = { isMagnet, parseMagnet }
