'use strict'

// npm run bench [-- --rounds N] [-- --only name,name] [-- --quick]
//
// peer-wire-native against peer-wire-protocol 0.7.1 and bittorrent-protocol
// 5.0.9, side by side in one process (many-wires: one child process per
// run). Each workload runs one uncounted warm-up round per implementation,
// then the implementations alternate within each round (the order rotates
// from round to round); the table shows medians and ratios. See the README,
// "Benchmarks", for the method and the latest results.

const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const { load } = require('./impls.js')
const W = require('./workloads.js')

const GiB = 1024 * 1024 * 1024
const MiB = 1024 * 1024

function args () {
  const out = { rounds: 5, only: null, quick: false }
  const argv = process.argv.slice(2)
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--rounds') out.rounds = Number(argv[++k])
    else if (argv[k] === '--only') out.only = argv[++k].split(',')
    else if (argv[k] === '--quick') out.quick = true
    else throw new Error(`unknown argument ${argv[k]}`)
  }
  return out
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// Between runs: a full GC, then 100 ms for whatever the last run left
// pending (bittorrent-protocol's streams finish tearing down for tens of
// milliseconds after destroy(); measured here, the next run was 2.5 times
// slower without this pause, whatever implementation it was).
async function settle () {
  if (global.gc) global.gc()
  await new Promise((resolve) => setTimeout(resolve, 100))
}

// Runs `fn(impl)` for every implementation, `rounds` times, rotating the
// order, after one warm-up round that is not counted; returns
// { short: [ms, ...] }.
async function alternate (impls, rounds, fn) {
  const times = {}
  for (const impl of impls) {
    times[impl.short] = []
    await fn(impl)
  }
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < impls.length; k++) {
      const impl = impls[(r + k) % impls.length]
      times[impl.short].push(await fn(impl))
      await settle()
    }
  }
  return times
}

const execFileP = promisify(execFile)
async function manyWires (impl, pairs) {
  const { stdout } = await execFileP(process.execPath, ['--expose-gc', path.join(__dirname, 'many-wires.js'), impl.short, String(pairs)])
  return JSON.parse(stdout)
}

function fmtRate (bytes, ms) { return `${(bytes / ms / 1e6).toFixed(2)} GB/s` }
function fmtMsgs (n, ms) { return `${(n / ms / 1e3).toFixed(2)} M msg/s` }

async function main () {
  const opts = args()
  const impls = await load()
  const [native, reference, btp] = impls
  const rows = []
  const want = (name) => !opts.only || opts.only.includes(name)
  const total = opts.quick ? 128 * MiB : GiB
  const data = crypto.randomBytes(4 * MiB)

  const note = (s) => process.stderr.write(s + '\n')
  const floorNotes = []

  // A row: the median for each implementation, and native's speed-up over
  // each JavaScript wire (their time / native's time).
  function row (name, times, fmt) {
    const m = {}
    for (const k of Object.keys(times)) m[k] = median(times[k])
    rows.push({
      name,
      native: fmt(m.native),
      pwp: fmt(m.pwp),
      btp: fmt(m.btp),
      vsPwp: m.pwp / m.native,
      vsBtp: m.btp / m.native,
      base: m.base === undefined ? undefined : fmt(m.base),
      vsBase: m.base / m.native,
      medians: m
    })
    note(`${name}: ${JSON.stringify(times)}`)
  }

  if (want('bulk-memory')) {
    const t = await alternate(impls, opts.rounds, (impl) => W.bulk(impl, { total, data, tcp: false }))
    row(`bulk, in memory (${total / MiB} MiB)`, t, (ms) => fmtRate(total, ms))
  }
  if (want('bulk-tcp')) {
    const withCeiling = [...impls, { short: 'ceiling' }]
    const t = await alternate(withCeiling, opts.rounds, (impl) =>
      impl.short === 'ceiling' ? W.ceiling({ total }) : W.bulk(impl, { total, data, tcp: true }))
    row(`bulk, loopback TCP (${total / MiB} MiB)`, t, (ms) => fmtRate(total, ms))
    const ceil = median(t.ceiling)
    const r = rows[rows.length - 1]
    r.ceiling = fmtRate(total, ceil)
    r.ofCeiling = ceil / r.medians.native
    r.pwpOfCeiling = ceil / r.medians.pwp
    r.btpOfCeiling = ceil / r.medians.btp
  }
  if (want('reassembly')) {
    const count = opts.quick ? 2048 : 16384 // 32 or 256 MiB of 16 KiB blocks
    const stream = await W.recordPieces(reference.create, count)
    for (const size of [1400, 65536]) {
      const chunks = W.cut(stream, size)
      const floors = [{ short: 'count' }, { short: 'copy' }]
      const t = await alternate([...impls, ...floors], opts.rounds + 2, (impl) =>
        impl.short === 'count' || impl.short === 'copy'
          ? W.reassemblyFloor(impl.short === 'copy', { chunks, count })
          : W.reassembly(impl, { chunks, count }))
      const name = `reassembly, ${size === 1400 ? '1400-byte' : '64 KiB'} chunks (${(stream.length / MiB).toFixed(0)} MiB)`
      row(name, t, (ms) => fmtRate(stream.length, ms))
      floorNotes.push(`${name}: a bare stream.Duplex fed the same chunks runs at ${fmtRate(stream.length, median(t.count))} counting them, ${fmtRate(stream.length, median(t.copy))} also copying each block into fresh memory.`)
    }
  }
  if (want('have')) {
    const messages = 1000000
    const t = await alternate(impls, opts.rounds, (impl) => W.small(impl, { kind: 'have', messages }))
    row('1M have, sender wire to receiver wire', t, (ms) => fmtMsgs(messages, ms))
  }
  if (want('mix')) {
    const messages = 1000000
    const t = await alternate(impls, opts.rounds, (impl) => W.small(impl, { kind: 'mix', messages }))
    row('1M mixed (have/request/cancel/(un)interested)', t, (ms) => fmtMsgs(messages, ms))
  }
  if (want('many-wires')) {
    const pairs = 2000
    const results = Object.fromEntries(impls.map((impl) => [impl.short, []]))
    for (let r = 0; r < Math.max(3, opts.rounds - 2); r++) {
      for (let k = 0; k < impls.length; k++) {
        const impl = impls[(r + k) % impls.length]
        results[impl.short].push(await manyWires(impl, pairs))
      }
    }
    const t = {}
    for (const k of Object.keys(results)) t[k] = results[k].map((x) => x.ms)
    row(`${pairs} wire pairs: handshake, bitfield, 3 haves`, t, (ms) => `${ms.toFixed(0)} ms`)
    const mem = {}
    for (const k of Object.keys(results)) {
      mem[k] = {
        heap: median(results[k].map((x) => x.heap)),
        external: median(results[k].map((x) => x.external)),
        rss: median(results[k].map((x) => x.rss))
      }
    }
    const kb = (m) => `${(m.rss / 1024).toFixed(1)} KiB RSS (heap ${(m.heap / 1024).toFixed(1)}, ext ${(m.external / 1024).toFixed(1)})`
    rows.push({
      name: `${pairs} wire pairs: memory per pair after gc`,
      native: kb(mem.native),
      pwp: kb(mem.pwp),
      btp: kb(mem.btp),
      vsPwp: mem.pwp.rss / mem.native.rss,
      vsBtp: mem.btp.rss / mem.native.rss,
      base: mem.base && kb(mem.base),
      vsBase: mem.base && mem.base.rss / mem.native.rss
    })
    note(`many-wires memory: ${JSON.stringify(mem)}`)
  }

  const cpu = os.cpus()[0].model.trim()
  console.log(`\n${native.name} vs ${reference.name} and ${btp.name}`)
  console.log(`${os.cpus().length} × ${cpu}, ${(os.totalmem() / GiB).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; medians of ${opts.rounds} rounds (reassembly ${opts.rounds + 2}), implementations alternating\n`)
  const base = impls.find((i) => i.short === 'base')
  console.log('| workload | peer-wire-native | peer-wire-protocol 0.7.1 | bittorrent-protocol 5.0.9 | native vs pwp | native vs btp |' +
    (base ? ` ${base.name} | native vs it |` : ''))
  console.log('|---|---|---|---|---|---|' + (base ? '---|---|' : ''))
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.native} | ${r.pwp} | ${r.btp} | ${r.vsPwp.toFixed(2)}× | ${r.vsBtp.toFixed(2)}× |` +
      (base ? ` ${r.base} | ${r.vsBase.toFixed(2)}× |` : ''))
  }
  for (const line of floorNotes) console.log(`\nFloor, ${line}`)
  const tcp = rows.find((r) => r.ceiling)
  if (tcp) {
    console.log(`\nRaw loopback TCP ceiling (same bytes, no protocol): ${tcp.ceiling}; peer-wire-native reaches ${(100 * tcp.ofCeiling).toFixed(1)} % of it, peer-wire-protocol ${(100 * tcp.pwpOfCeiling).toFixed(1)} %, bittorrent-protocol ${(100 * tcp.btpOfCeiling).toFixed(1)} %.`)
  }
  console.log('\nRatios are speed-ups (the JavaScript wire\'s time / native\'s time; for memory, its RSS per pair / native\'s): above 1 means peer-wire-native is faster or smaller.')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
