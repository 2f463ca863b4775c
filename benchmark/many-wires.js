'use strict'

// Many wires, in a process of their own (so that its memory is theirs):
// `node --expose-gc many-wires.js <impl short name> <pairs>` makes that many
// wire pairs in memory; each side handshakes, sends a 1000-piece bitfield and
// three haves. Prints JSON: the time until every wire has received all of
// it in the first round (`cold`: a fresh process, the first wires a program
// makes) and in the second (`ms`: warm), the heap, external and RSS growth
// per pair after the first round, and the time it took to load the
// implementation (`load`). `anon`: the growth of the anonymous part of the
// RSS (Linux's RssAnon: the memory the process allocated, without the
// pages of files it maps, such as node's own code, which the first use of
// a code path pages in whichever implementation runs it; null elsewhere).
// `young`: the growth of V8's young generation (its resident part), and
// `files`: of the RSS of mapped files. Neither grows with the pairs: the
// young generation is empty after a full GC, and grows to a cap with what
// the process allocated and how much of it survived (V8's heuristics), and
// node's code is paged in once; yet both are in the RSS growth, divided by
// the pairs. `kept` is the RSS growth without them: what the pairs keep.
// Memory is read after two full GCs 100 ms apart: V8 frees the memory of
// dead ArrayBuffers in a background sweep, and `external` still counted
// them right after one (measured here: 1.4 KiB a pair of slabs already
// dead, 0.3 KiB after the second).
// `floor` in place of an implementation: what Node's streams alone cost
// for the same traffic (see floorWire).

const fs = require('fs')
const v8 = require('v8')
const { Duplex } = require('stream')
const { load } = require('./impls.js')
const { HASH, ID_A, ID_B, tick } = require('./workloads.js')

const now = () => process.hrtime.bigint()

// The RSS's parts in bytes, from /proc/self/status: `anon` (RssAnon) and
// `files` (RssFile), null where /proc does not tell them.
function rssParts () {
  try {
    const status = fs.readFileSync('/proc/self/status', 'latin1')
    const kb = (name) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)
      return m ? Number(m[1]) * 1024 : null
    }
    return { anon: kb('RssAnon'), files: kb('RssFile') }
  } catch {
    return { anon: null, files: null }
  }
}

// What the process holds: process.memoryUsage(), the RSS's parts, and the
// resident part of V8's young generation, after two full GCs (see the top).
async function memory () {
  global.gc()
  await new Promise((resolve) => setTimeout(resolve, 100))
  global.gc()
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
  return { ...process.memoryUsage(), ...rssParts(), young: young ? young.physical_space_size : 0 }
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
  const before = await memory()
  const c0 = now()
  const first = await run(impl, pairs, bits)
  const cold = Number(now() - c0) / 1e6
  await tick()
  const after = await memory()
  const per = (key) => before[key] === null ? null : (after[key] - before[key]) / pairs

  // Round 2: time, with the code paths compiled by round 1 (the other
  // workloads have a warm-up round too), after round 1's wires ended.
  for (const w of first) w.destroy()
  first.length = 0
  await new Promise((resolve) => setTimeout(resolve, 100))
  global.gc()
  const t0 = now()
  const wires = await run(impl, pairs, bits)
  const ms = Number(now() - t0) / 1e6

  const kept = per('files') === null ? null : per('rss') - per('young') - per('files')
  process.stdout.write(JSON.stringify({ cold, ms, load: loadMs, heap: per('heapUsed'), external: per('external'), rss: per('rss'), anon: per('anon'), young: per('young'), files: per('files'), kept, wires: wires.length }) + '\n')
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
