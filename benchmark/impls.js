'use strict'

// The implementations compared, behind one small interface: `create()` makes
// a wire, `bytes(block)` views a received block as a Buffer (bittorrent-
// protocol hands out Uint8Arrays). With BENCH_BASELINE set, a fourth: see
// below.

const path = require('node:path')

const ROOT = path.join(__dirname, '..')

async function load () {
  const native = require(ROOT)
  const reference = require('peer-wire-protocol')
  const { default: Protocol } = await import('bittorrent-protocol')
  const asBuffer = (b) => Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  const impls = [
    { name: 'peer-wire-native', short: 'native', create: (opts) => native(opts), bytes: asBuffer },
    { name: 'peer-wire-protocol 0.7.1', short: 'pwp', create: () => reference(), bytes: asBuffer },
    { name: 'bittorrent-protocol 5.0.9', short: 'btp', create: () => new Protocol(), bytes: asBuffer }
  ]
  // Another checkout of peer-wire-native (built), to compare a change with
  // what it changes in the same run: BENCH_BASELINE=/path/to/checkout.
  const baseline = process.env.BENCH_BASELINE
  if (baseline) {
    const base = require(path.resolve(baseline))
    impls.push({ name: `peer-wire-native at ${baseline}`, short: 'base', create: (opts) => base(opts), bytes: asBuffer })
  }
  return impls
}

module.exports = { load }
