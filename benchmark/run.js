'use strict'

// npm run bench [-- --rounds N] [-- --only name,name] [-- --quick]
// names: bulk-memory, bulk-tcp, reassembly, have, mix, many-wires,
// slow-reader, event-loop, rc4, bulk-encrypted, setup-encrypted
//
// peer-wire-native against peer-wire-protocol 0.7.1 and bittorrent-protocol
// 5.0.9, side by side in one run: every measurement is a process of its own
// (cold, as a program meets the wire), the implementations alternate within
// each round and the order rotates from round to round; the table shows
// medians and ratios. See the README, "Benchmarks", for the method and the
// latest results.

const os = require('node:os')
const path = require('node:path')
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

const execFileP = promisify(execFile)
async function child (script, args) {
  const { stdout } = await execFileP(process.execPath, ['--expose-gc', path.join(__dirname, script), ...args], { maxBuffer: 1 << 20 })
  return JSON.parse(stdout)
}

// Runs `fn(impl)` for every implementation, `rounds` times, the order
// rotating from round to round; returns { short: [result, ...] }. Every run
// is a process of its own (see child.js): no warm-up, as a program meets
// the wire.
async function alternate (impls, rounds, fn) {
  const results = {}
  for (const impl of impls) results[impl.short] = []
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < impls.length; k++) {
      const impl = impls[(r + k) % impls.length]
      results[impl.short].push(await fn(impl))
    }
  }
  return results
}

// One workload's run in a fresh process: its time in ms.
const once = (workload, opts) => async (impl) => (await child('child.js', [workload, impl.short, JSON.stringify(opts)])).ms

function fmtRate (bytes, ms) { return `${(bytes / ms / 1e6).toFixed(2)} GB/s` }
function fmtMsgs (n, ms) { return `${(n / ms / 1e3).toFixed(2)} M msg/s` }

async function main () {
  const opts = args()
  const impls = await load()
  const [native, reference, btp] = impls
  const rows = []
  const want = (name) => !opts.only || opts.only.includes(name)
  const total = opts.quick ? 128 * MiB : GiB

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
    // The floor: Node's streams alone with the same pattern (see bulkFloor).
    const t = await alternate([...impls, { short: 'floor' }], opts.rounds, once('bulk', { total, tcp: false }))
    const name = `bulk, in memory (${total / MiB} MiB)`
    row(name, t, (ms) => fmtRate(total, ms))
    const floor = median(t.floor)
    const r = rows[rows.length - 1]
    floorNotes.push(`Floor, ${name}: two bare stream.Duplex piped both ways with the same pattern and no protocol (a 13-byte header and the block pushed per request, every block compared) run at ${fmtRate(total, floor)}; peer-wire-native takes ${(r.medians.native / floor).toFixed(2)}× the floor's time, peer-wire-protocol ${(r.medians.pwp / floor).toFixed(2)}×, bittorrent-protocol ${(r.medians.btp / floor).toFixed(2)}×.`)
  }
  if (want('bulk-tcp')) {
    // Sockets as the program made them (Nagle on), then with setNoDelay(true)
    // called by the program; the ceiling: the same bytes with no protocol.
    const withCeiling = [...impls, { short: 'ceiling' }]
    const t = await alternate(withCeiling, opts.rounds, once('bulk', { total, tcp: true }))
    row(`bulk, loopback TCP (${total / MiB} MiB)`, t, (ms) => fmtRate(total, ms))
    const ceil = median(t.ceiling)
    const r = rows[rows.length - 1]
    r.ceiling = fmtRate(total, ceil)
    r.ofCeiling = ceil / r.medians.native
    r.pwpOfCeiling = ceil / r.medians.pwp
    r.btpOfCeiling = ceil / r.medians.btp
    const n = await alternate(impls, opts.rounds, once('bulk', { total, tcp: true, noDelay: true }))
    row(`bulk, loopback TCP, setNoDelay(true) by the program (${total / MiB} MiB)`, n, (ms) => fmtRate(total, ms))
    const rn = rows[rows.length - 1]
    rn.ofCeilingNoDelay = ceil / rn.medians.native
  }
  if (want('reassembly')) {
    const count = opts.quick ? 2048 : 16384 // 32 or 256 MiB of 16 KiB blocks
    const mib = (68 + count * (13 + W.BLOCK)) / MiB
    for (const size of [1400, 65536]) {
      const floors = [{ short: 'count' }, { short: 'copy' }]
      const bytes = count * (13 + W.BLOCK) + 68
      const t = await alternate([...impls, ...floors], opts.rounds + 2, once('reassembly', { count, size }))
      const name = `reassembly, ${size === 1400 ? '1400-byte' : '64 KiB'} chunks (${mib.toFixed(0)} MiB)`
      row(name, t, (ms) => fmtRate(bytes, ms))
      rows[rows.length - 1].ofCopy = median(t.copy) / rows[rows.length - 1].medians.native
      floorNotes.push(`Floor, ${name}: a bare stream.Duplex fed the same chunks runs at ${fmtRate(bytes, median(t.count))} counting them, ${fmtRate(bytes, median(t.copy))} also copying each block into fresh memory; peer-wire-native runs at ${(100 * rows[rows.length - 1].ofCopy).toFixed(1)} % of the copy floor.`)
    }
  }
  if (want('have')) {
    const messages = 1000000
    const t = await alternate(impls, opts.rounds, once('small', { kind: 'have', messages }))
    row('1M have, sender wire to receiver wire', t, (ms) => fmtMsgs(messages, ms))
  }
  if (want('mix')) {
    const messages = 1000000
    const t = await alternate(impls, opts.rounds, once('small', { kind: 'mix', messages }))
    row('1M mixed (have/request with a callback/cancel/(un)interested)', t, (ms) => fmtMsgs(messages, ms))
  }
  if (want('many-wires')) {
    const pairs = 2000
    const results = Object.fromEntries(impls.map((impl) => [impl.short, []]))
    for (let r = 0; r < Math.max(3, opts.rounds - 2); r++) {
      for (let k = 0; k < impls.length; k++) {
        const impl = impls[(r + k) % impls.length]
        results[impl.short].push(await child('many-wires.js', [impl.short, String(pairs)]))
      }
    }
    // The floor (Node's streams alone, see many-wires.js), after the rounds.
    const floors = []
    for (let r = 0; r < Math.max(3, opts.rounds - 2); r++) floors.push(await child('many-wires.js', ['floor', String(pairs)]))
    const cold = {}
    const warm = {}
    for (const k of Object.keys(results)) {
      cold[k] = results[k].map((x) => x.cold)
      warm[k] = results[k].map((x) => x.ms)
    }
    const floorCold = median(floors.map((x) => x.cold))
    floorNotes.push(`Floor, ${pairs} wire pairs: bare stream.Duplex pairs piped both ways, each side pushing the same bytes (one chunk a tick) and emitting the same events by byte count, with no protocol: ${floorCold.toFixed(0)} ms cold, ${median(floors.map((x) => x.ms)).toFixed(0)} ms warm, ${(median(floors.map((x) => x.rss)) / 1024).toFixed(1)} KiB RSS${floors[0].anon === null ? '' : ` (${(median(floors.map((x) => x.anon)) / 1024).toFixed(1)} anonymous)`}${floors[0].kept === null ? '' : `, ${(median(floors.map((x) => x.kept)) / 1024).toFixed(1)} KiB kept`} and ${(median(floors.map((x) => x.heap)) / 1024).toFixed(1)} KiB of heap a pair; cold, peer-wire-native takes ${(median(cold.native) - floorCold).toFixed(0)} ms more than the floor, peer-wire-protocol ${(median(cold.pwp) - floorCold).toFixed(0)}, bittorrent-protocol ${(median(cold.btp) - floorCold).toFixed(0)}.`)
    row(`${pairs} wire pairs: handshake, bitfield, 3 haves; cold (first round in a fresh process)`, cold, (ms) => `${ms.toFixed(0)} ms`)
    row(`${pairs} wire pairs: the same, warm (second round)`, warm, (ms) => `${ms.toFixed(0)} ms`)
    const mem = {}
    for (const k of Object.keys(results)) {
      mem[k] = {
        heap: median(results[k].map((x) => x.heap)),
        external: median(results[k].map((x) => x.external)),
        rss: median(results[k].map((x) => x.rss)),
        anon: results[k][0].anon === null ? null : median(results[k].map((x) => x.anon)),
        young: median(results[k].map((x) => x.young)),
        files: results[k][0].files === null ? null : median(results[k].map((x) => x.files)),
        kept: results[k][0].kept === null ? null : median(results[k].map((x) => x.kept))
      }
    }
    // A memory row: `key` of each implementation's figures, shown by `show`;
    // ratios: theirs / ours (above 1: ours is smaller).
    const memoryRow = (name, key, show) => rows.push({
      name,
      native: show(mem.native),
      pwp: show(mem.pwp),
      btp: show(mem.btp),
      vsPwp: mem.pwp[key] / mem.native[key],
      vsBtp: mem.btp[key] / mem.native[key],
      base: mem.base && show(mem.base),
      vsBase: mem.base && mem.base[key] / mem.native[key]
    })
    const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`
    memoryRow(`${pairs} wire pairs: memory per pair after gc`, 'rss',
      (m) => `${kib(m.rss)} RSS (heap ${(m.heap / 1024).toFixed(1)}, ext ${(m.external / 1024).toFixed(1)})`)
    if (mem.native.anon !== null) {
      memoryRow(`${pairs} wire pairs: anonymous memory per pair after gc (RssAnon: the RSS without mapped files such as node's code)`, 'anon',
        (m) => kib(m.anon))
    }
    if (mem.native.kept !== null) {
      memoryRow(`${pairs} wire pairs: what the pairs keep (the RSS growth without V8's young generation and mapped files, which do not grow with the pairs; see many-wires.js)`, 'kept',
        (m) => `${kib(m.kept)} (young ${(m.young / 1024).toFixed(1)}, files ${(m.files / 1024).toFixed(1)})`)
    }
    note(`many-wires memory: ${JSON.stringify(mem)}`)
  }

  // Encryption (MSE/PE): peer-wire-protocol 0.7.1 has none. RC4 alone,
  // ours against bittorrent-protocol's JavaScript RC4 (what it runs on
  // stock Node) and OpenSSL's (node --openssl-legacy-provider, in the
  // column of the wire that would use it).
  function rowWithoutPwp (name, times, fmt, extra = {}) {
    const m = {}
    for (const k of Object.keys(times)) m[k] = median(times[k])
    rows.push({ name, native: fmt(m.native), pwp: '—', btp: fmt(m.btp), vsPwp: '—', vsBtp: m.btp / m.native, base: m.base === undefined ? '—' : fmt(m.base), vsBase: m.base === undefined ? '—' : m.base / m.native, medians: m, ...extra })
    note(`${name}: ${JSON.stringify(times)}`)
  }
  if (want('rc4')) {
    const mib = opts.quick ? 64 : 512
    const run = (short) => execFileP(process.execPath, [...(short === 'openssl' ? ['--openssl-legacy-provider'] : []), path.join(__dirname, 'rc4.js'), short, String(mib)])
      .then(({ stdout }) => JSON.parse(stdout).ms)
    const t = await alternate([{ short: 'native' }, { short: 'btp' }, { short: 'openssl' }], opts.rounds, (impl) => run(impl.short))
    const fmt = (ms) => `${(mib / ms * 1000).toFixed(0)} MiB/s`
    rowWithoutPwp(`RC4 alone, 16 KiB blocks (${mib} MiB); btp: its JavaScript RC4 (stock Node)`, { native: t.native, btp: t.btp }, fmt)
    rowWithoutPwp('RC4 alone, the same; in the btp column: OpenSSL\'s RC4 (--openssl-legacy-provider)', { native: t.native, btp: t.openssl }, fmt)
  }
  if (want('bulk-encrypted')) {
    const encTotal = total / 4
    const encImpls = impls.filter((impl) => impl.short !== 'pwp')
    for (const tcp of [false, true]) {
      const t = await alternate(encImpls, opts.rounds, once('bulk', { total: encTotal, tcp, encrypted: true }))
      rowWithoutPwp(`bulk, RC4 required on both ends (MSE), ${tcp ? 'loopback TCP' : 'in memory'} (${encTotal / MiB} MiB)`, t, (ms) => fmtRate(encTotal, ms))
    }
  }

  if (want('setup-encrypted')) {
    // Connection setup with RC4 required on both ends: the MSE handshake
    // (Diffie-Hellman), then the BitTorrent handshake both ways.
    const pairs = 500
    const encImpls = impls.filter((impl) => impl.short !== 'pwp')
    const t = await alternate(encImpls, Math.max(3, opts.rounds - 2), (impl) => child('setup-encrypted.js', [impl.short, String(pairs)]))
    const pick = (key) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.map((x) => x[key])]))
    rowWithoutPwp(`${pairs} encrypted wire pairs set up (MSE, RC4 required, then the BitTorrent handshake both ways), in memory: time until all ${2 * pairs} wires have the peer's handshake`, pick('ms'), (ms) => `${ms.toFixed(0)} ms`)
    rowWithoutPwp('the same: CPU time (user + system) per wire', pick('cpuPerWire'), (ms) => `${ms.toFixed(3)} ms`)
  }

  if (want('slow-reader')) {
    const SECONDS = 5
    const CAP = 1024 // MiB
    const t = await alternate(impls, 1, (impl) => child('slow-reader.js', [impl.short, String(SECONDS), String(CAP)]))
    const fmt = (x) => x.capped
      ? `> ${CAP} MiB (${(x.ms / 1000).toFixed(1)} s, ${x.answered} blocks)`
      : `${(x.growth / MiB).toFixed(1)} MiB (${(x.ms / 1000).toFixed(1)} s, ${x.answered} blocks)`
    const r = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v[0]]))
    const ratio = (x) => x.capped ? `> ${(x.growth / r.native.growth).toFixed(0)}×` : `${(x.growth / r.native.growth).toFixed(2)}×`
    rows.push({
      name: `slow reader: a seeder's RSS growth, the peer flooding requests and never reading (${SECONDS} s or ${CAP} MiB)`,
      native: fmt(r.native),
      pwp: fmt(r.pwp),
      btp: fmt(r.btp),
      vsPwp: ratio(r.pwp),
      vsBtp: ratio(r.btp),
      base: r.base && fmt(r.base),
      vsBase: r.base && ratio(r.base)
    })
    note(`slow-reader: ${JSON.stringify(t)}`)
  }
  if (want('event-loop')) {
    const CONNS = 500
    const SECONDS = 4
    const t = await alternate(impls, Math.max(3, opts.rounds - 2), (impl) => child('event-loop.js', [impl.short, String(CONNS), String(SECONDS)]))
    const pick = (key) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.map((x) => x[key])]))
    row(`event-loop delay under ${CONNS} TCP connections, median`, pick('p50'), (ms) => `${ms.toFixed(2)} ms`)
    row(`event-loop delay under ${CONNS} TCP connections, p99`, pick('p99'), (ms) => `${ms.toFixed(2)} ms`)
    const blocks = pick('blocks')
    const m = (k) => blocks[k] ? `${(median(blocks[k]) / 1000).toFixed(1)} k` : ''
    floorNotes.push(`event loop: blocks served a second while the delay was recorded (medians): peer-wire-native ${m('native')}, peer-wire-protocol ${m('pwp')}, bittorrent-protocol ${m('btp')}` + (blocks.base ? `, baseline ${m('base')}` : '') + '.')
  }

  const cpu = os.cpus()[0].model.trim()
  console.log(`\n${native.name} vs ${reference.name} and ${btp.name}`)
  console.log(`${os.cpus().length} × ${cpu}, ${(os.totalmem() / GiB).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; medians of ${opts.rounds} rounds (reassembly ${opts.rounds + 2}), each run a fresh process, implementations alternating\n`)
  const base = impls.find((i) => i.short === 'base')
  console.log('| workload | peer-wire-native | peer-wire-protocol 0.7.1 | bittorrent-protocol 5.0.9 | native vs pwp | native vs btp |' +
    (base ? ` ${base.name} | native vs it |` : ''))
  console.log('|---|---|---|---|---|---|' + (base ? '---|---|' : ''))
  for (const r of rows) {
    const x = (v) => typeof v === 'string' ? v : `${v.toFixed(2)}×`
    console.log(`| ${r.name} | ${r.native} | ${r.pwp} | ${r.btp} | ${x(r.vsPwp)} | ${x(r.vsBtp)} |` +
      (base ? ` ${r.base} | ${x(r.vsBase)} |` : ''))
  }
  for (const line of floorNotes) console.log(`\n${line}`)
  const tcp = rows.find((r) => r.ceiling)
  const nd = rows.find((r) => r.ofCeilingNoDelay)
  if (tcp) {
    console.log(`\nRaw loopback TCP ceiling (same bytes, no protocol): ${tcp.ceiling}; peer-wire-native reaches ${(100 * tcp.ofCeiling).toFixed(1)} % of it, peer-wire-protocol ${(100 * tcp.pwpOfCeiling).toFixed(1)} %, bittorrent-protocol ${(100 * tcp.btpOfCeiling).toFixed(1)} %` +
      (nd ? `; with setNoDelay(true) by the program, peer-wire-native reaches ${(100 * nd.ofCeilingNoDelay).toFixed(1)} %.` : '.'))
  }
  console.log('\nRatios are speed-ups (the JavaScript wire\'s time / native\'s time; for memory, its RSS per pair / native\'s): above 1 means peer-wire-native is faster or smaller.')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
