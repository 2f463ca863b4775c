'use strict'

// The implementations compared, behind one small interface: `create()` makes
// a wire, `bytes(block)` views a received block as a Buffer (bittorrent-
// protocol hands out Uint8Arrays). With BENCH_BASELINE set, a fourth: see
// below. `load(short)` loads only that one (a run in a process of its own
// loads nothing it does not measure).

const path = require('node:path')

const ROOT = path.join(__dirname, '..')

const asBuffer = (b) => Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)

const ALL = [
  {
    name: 'peer-wire-native',
    short: 'native',
    async load () {
      const native = require(ROOT)
      return (opts) => native(opts)
    }
  },
  {
    name: 'peer-wire-protocol 0.7.1',
    short: 'pwp',
    async load () {
      const reference = require('peer-wire-protocol')
      return () => reference()
    }
  },
  {
    name: 'bittorrent-protocol 5.0.9',
    short: 'btp',
    async load () {
      const { default: Protocol } = await import('bittorrent-protocol')
      return () => new Protocol()
    }
  }
]

// Every implementation, or only `short`'s; loaded (`create` set) only when
// `short` is given.
async function load (short) {
  const impls = ALL.map((impl) => ({ ...impl, bytes: asBuffer }))
  // Another checkout of peer-wire-native (built), to compare a change with
  // what it changes in the same run: BENCH_BASELINE=/path/to/checkout.
  const baseline = process.env.BENCH_BASELINE
  if (baseline) {
    impls.push({
      name: `peer-wire-native at ${baseline}`,
      short: 'base',
      bytes: asBuffer,
      async load () {
        const base = require(path.resolve(baseline))
        return (opts) => base(opts)
      }
    })
  }
  if (short === undefined) return impls
  const impl = impls.find((i) => i.short === short)
  if (!impl) throw new Error(`no implementation ${short}`)
  impl.create = await impl.load()
  return [impl]
}

module.exports = { load }
