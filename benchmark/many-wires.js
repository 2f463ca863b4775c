'use strict'

// Many wires, in a process of their own (so that its memory is theirs):
// `node --expose-gc many-wires.js <impl short name> <pairs>` makes that many
// wire pairs in memory; each side handshakes, sends a 1000-piece bitfield and
// three haves. Prints JSON: the time until every wire has received all of
// it in the first round (`cold`: a fresh process, the first wires a program
// makes) and in the second (`ms`: warm), the heap, external and RSS growth
// per pair after a full GC (first round), and the time it took to load the
// implementation (`load`). `anon`: the growth of the anonymous part of the
// RSS (Linux's RssAnon: the memory the process allocated, without the
// pages of files it maps, such as node's own code, which the first use of
// a code path pages in whichever implementation runs it; null elsewhere).
// `floor` in place of an implementation: what Node's streams alone cost
// for the same traffic (see floorWire).

const fs = require('fs')
const { Duplex } = require('stream')
const { load } = require('./impls.js')
const { HASH, ID_A, ID_B, tick } = require('./workloads.js')

const now = () => process.hrtime.bigint()

// RssAnon in bytes, or null where /proc does not tell it.
function rssAnon () {
  try {
    const m = /^RssAnon:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

async function main () {
  const [short, pairsArg] = process.argv.slice(2)
  const pairs = Number(pairsArg)
  const t = now()
  const [impl] = short === 'floor' ? [{ create: floorWire }] : await load(short)
  const loadMs = Number(now() - t) / 1e6
  const bits = Buffer.alloc(125, 0xaa) // 1000 pieces, the even ones

  // Round 1, in a fresh process: memory. What the pairs hold after a full
  // GC, against the same process before them (RSS only grows in a fresh
  // process, so this round is the one to read it from).
  global.gc()
  const before = process.memoryUsage()
  const anonBefore = rssAnon()
  const c0 = now()
  const first = await run(impl, pairs, bits)
  const cold = Number(now() - c0) / 1e6
  await tick()
  global.gc()
  const after = process.memoryUsage()
  const anonAfter = rssAnon()
  const per = (key) => (after[key] - before[key]) / pairs

  // Round 2: time, with the code paths compiled by round 1 (the other
  // workloads have a warm-up round too), after round 1's wires ended.
  for (const w of first) w.destroy()
  first.length = 0
  await new Promise((resolve) => setTimeout(resolve, 100))
  global.gc()
  const t0 = now()
  const wires = await run(impl, pairs, bits)
  const ms = Number(now() - t0) / 1e6

  process.stdout.write(JSON.stringify({ cold, ms, load: loadMs, heap: per('heapUsed'), external: per('external'), rss: per('rss'), anon: anonBefore === null ? null : (anonAfter - anonBefore) / pairs, wires: wires.length }) + '\n')
}

function run (impl, pairs, bits) {
  const wires = []
  let pending = 2 * pairs
  return new Promise((resolve) => {
    const whenDone = (w) => {
      let got = 0
      const check = () => { if (++got === 5 && --pending === 0) resolve(wires) }
      w.on('handshake', check)
      w.on('bitfield', check)
      w.on('have', check)
    }
    for (let p = 0; p < pairs; p++) {
      const a = impl.create()
      const b = impl.create()
      whenDone(a)
      whenDone(b)
      a.pipe(b).pipe(a)
      wires.push(a, b)
      a.handshake(HASH, ID_A)
      b.handshake(HASH, ID_B)
      for (const w of [a, b]) {
        w.bitfield({ buffer: bits })
        // pieces the bitfield lacks (bittorrent-protocol emits no 'have'
        // for a piece it already knows)
        const k = 2 * (p % 300) + 1
        w.have(k)
        w.have(k + 2)
        w.have(k + 4)
      }
    }
  })
}

// The floor: a bare stream.Duplex with the calls the round makes, and no
// protocol. Each call adds the bytes a wire sends for it (a 68-byte
// handshake, a 130-byte bitfield message, 9-byte haves), all pushed as one
// chunk at the end of the tick; the events fire as the byte count reaches
// each message's end (nothing is parsed).
const FLOOR_ENDS = [68, 198, 207, 216, 225]
const FLOOR_EVENTS = ['handshake', 'bitfield', 'have', 'have', 'have']
function floorWire () {
  let queued = 0
  let got = 0
  let next = 0
  const wire = new Duplex({
    read () {},
    write (chunk, encoding, cb) {
      got += chunk.length
      while (next < FLOOR_ENDS.length && got >= FLOOR_ENDS[next]) wire.emit(FLOOR_EVENTS[next++])
      cb()
    }
  })
  const add = (bytes) => {
    if (queued === 0) process.nextTick(() => { wire.push(Buffer.alloc(queued)); queued = 0 })
    queued += bytes
  }
  wire.handshake = () => add(68)
  wire.bitfield = () => add(130)
  wire.have = () => add(9)
  return wire
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
