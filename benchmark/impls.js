'use strict'

// The implementations compared, behind one small interface: `create()` makes
// a wire, `bytes(block)` views a received block as a Buffer (bittorrent-
// protocol hands out Uint8Arrays). Those with MSE/PE also have
// `encrypted`: `create(role, infoHash)` makes a wire that requires RC4 as
// the 'initiator' or the 'responder', and `start(wire, infoHash, go)` calls
// `go` when the initiator may send its BitTorrent handshake. With BENCH_BASELINE set, a fourth: see
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
    },
    async loadEncrypted () {
      const native = require(ROOT)
      return {
        create: (role, infoHash) => native(role === 'initiator'
          ? { encryption: 'require', infoHash }
          : { encryption: 'require', infoHashes: [infoHash] }),
        start: (wire, infoHash, go) => go() // what it sends is held until MSE is done
      }
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
    },
    async loadEncrypted () {
      const { default: Protocol } = await import('bittorrent-protocol')
      return {
        create (role, infoHash) {
          const wire = new Protocol(role === 'initiator' ? 'tcpOutgoing' : 'tcpIncoming', 2)
          if (role === 'responder') wire.on('crypto-infohash', () => wire.setInfoHash(infoHash.toString('hex')))
          return wire
        },
        // It sends its handshake at once, encrypted or not: wait for MSE.
        start (wire, infoHash, go) {
          wire.once('crypto-handshake', go)
          wire.startEncryption(infoHash.toString('hex'))
        }
      }
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
      },
      loadEncrypted: ALL[0].loadEncrypted
    })
  }
  if (short === undefined) return impls
  const impl = impls.find((i) => i.short === short)
  if (!impl) throw new Error(`no implementation ${short}`)
  impl.create = await impl.load()
  if (impl.loadEncrypted) impl.encrypted = await impl.loadEncrypted()
  return [impl]
}

module.exports = { load }
