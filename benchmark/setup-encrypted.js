'use strict'

// Connection setup with encryption, in a process of its own:
// `node --expose-gc setup-encrypted.js <impl short name> <pairs>` makes that
// many wire pairs in memory, each requiring RC4 on both ends (MSE/PE: the
// Diffie-Hellman exchange, the key derivation, the padding), the initiator
// sending its BitTorrent handshake once MSE allows it and the responder
// answering the one it gets. Prints JSON: the time until every wire has the
// peer's BitTorrent handshake (`ms`, a fresh process: the first wires a
// program makes), and the process's CPU time (user + system) over the same
// span per wire (`cpuPerWire`, ms).

const { load } = require('./impls.js')
const { HASH, ID_A, ID_B, tick } = require('./workloads.js')

const now = () => process.hrtime.bigint()

async function main () {
  const [short, pairsArg] = process.argv.slice(2)
  const pairs = Number(pairsArg)
  const [impl] = await load(short)
  await tick()
  const cpu0 = process.cpuUsage()
  const t0 = now()
  const wires = await run(impl.encrypted, pairs)
  const ms = Number(now() - t0) / 1e6
  const cpu = process.cpuUsage(cpu0)
  const cpuPerWire = (cpu.user + cpu.system) / 1000 / wires.length
  for (const w of wires) w.destroy()
  process.stdout.write(JSON.stringify({ ms, cpuPerWire, wires: wires.length }) + '\n')
}

function run (encrypted, pairs) {
  const wires = []
  let pending = 2 * pairs
  return new Promise((resolve, reject) => {
    const handshaken = () => { if (--pending === 0) resolve(wires) }
    for (let p = 0; p < pairs; p++) {
      const a = encrypted.create('initiator', HASH)
      const b = encrypted.create('responder', HASH)
      for (const w of [a, b]) {
        w.once('handshake', handshaken)
        w.on('error', reject)
      }
      b.once('handshake', () => b.handshake(HASH, ID_B))
      a.pipe(b).pipe(a)
      wires.push(a, b)
      encrypted.start(a, HASH, () => a.handshake(HASH, ID_A))
    }
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
