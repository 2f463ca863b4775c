#!/usr/bin/env node
'use strict'

// peer-wire-native's command: demo, fetch, seed. Expected failures are one
// line on stderr and exit code 1 (2 for a usage error).

const fs = require('fs')
const path = require('path')
const { parseArgs } = require('util')
const cliProgress = require('cli-progress')
const { Failure } = require('./failure')
const { parseTorrent } = require('./torrent')
const { FileStorage } = require('./storage')
const { download } = require('./download')
const { seed, verifyStorage } = require('./seed')
const { demo, mib } = require('./demo')

const USAGE = `usage:
  peer-wire-native demo [--size MIB] [--piece-length KIB] [--seed N]
      seed a generated payload on 127.0.0.1 and download it over TCP
  peer-wire-native fetch <file.torrent> --peer HOST:PORT [--out DIR] [--timeout SECONDS]
      download a torrent from one peer into DIR (default: the current folder)
  peer-wire-native seed <file.torrent> <path> [--port N] [--host HOST] [--no-check]
      serve a torrent's data (the file or folder itself, or the folder holding it)
      to every peer that connects (default: 127.0.0.1:6881)`

function usage (message) {
  return new Failure(`${message}\n${USAGE}`, 2)
}

function log (line) {
  process.stdout.write(line + '\n')
}

// A progress bar on stderr, drawn only on a terminal.
function progress (label, total) {
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {percentage}% | {done}/{size} MiB | {speed} MiB/s | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    barsize: 30
  }, cliProgress.Presets.shades_classic)
  const started = Date.now()
  bar.start(total, 0, { done: mib(0), size: mib(total), speed: '0.0' })
  return {
    update (bytes) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001)
      bar.update(bytes, { done: mib(bytes), speed: mib(bytes / seconds) })
    },
    stop () { bar.stop() }
  }
}

function integer (value, name, min, max) {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw usage(`${name} must be an integer from ${min} to ${max}`)
  return n
}

function hostPort (value) {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) || /^([^:]+):(\d+)$/.exec(value || '')
  if (!m) throw usage(`--peer must be HOST:PORT, got ${JSON.stringify(value)}`)
  return { host: m[1], port: integer(m[2], 'the peer port', 1, 65535) }
}

function readTorrent (file) {
  let buf
  try {
    buf = fs.readFileSync(file)
  } catch (err) {
    throw new Failure(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
  return parseTorrent(buf)
}

function describe (torrent) {
  const files = torrent.files.filter((f) => !f.pad) // pad files (BEP 47) are not shown
  const bytes = files.reduce((n, f) => n + f.length, 0)
  return `${torrent.name}: ${mib(bytes)} MiB, ${files.length} file${files.length === 1 ? '' : 's'}, ` +
    `${torrent.pieceCount} pieces of ${torrent.pieceLength / 1024} KiB, info hash ${torrent.infoHash.toString('hex')}`
}

async function runDemo (args) {
  const { values } = parseArgs({
    args,
    options: { size: { type: 'string' }, 'piece-length': { type: 'string' }, seed: { type: 'string' } }
  })
  const size = integer(values.size ?? 64, '--size (MiB)', 1, 4096) * 1048576
  const pieceLength = integer(values['piece-length'] ?? 256, '--piece-length (KiB)', 16, 16384) * 1024
  const seedValue = integer(values.seed ?? 1, '--seed', 0, Number.MAX_SAFE_INTEGER)
  const result = await demo({ size, pieceLength, seed: seedValue, log, progress })
  log(`downloaded ${mib(result.bytes)} MiB in ${result.seconds.toFixed(2)} s: ` +
    `${mib(result.bytes / result.seconds)} MiB/s`)
  log(`verified: all ${result.pieces} pieces passed SHA-1, payload SHA-1 ${result.sha1} matches`)
}

async function runFetch (args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { peer: { type: 'string' }, out: { type: 'string' }, timeout: { type: 'string' } }
  })
  if (positionals.length !== 1) throw usage('fetch takes one .torrent file')
  if (!values.peer) throw usage('fetch needs --peer HOST:PORT')
  const { host, port } = hostPort(values.peer)
  const timeout = integer(values.timeout ?? 10, '--timeout (seconds)', 1, 3600)
  const out = path.resolve(values.out ?? '.')
  const torrent = readTorrent(positionals[0])
  log(describe(torrent))

  const storage = new FileStorage(torrent, (file) => {
    const where = path.resolve(out, file.path)
    if (!where.startsWith(out + path.sep)) throw new Failure(`unsafe file name in the torrent: ${file.name}`)
    return where
  }, { write: true })
  const bar = progress('fetch', torrent.length)
  let result
  try {
    result = await download({
      torrent,
      storage,
      host,
      port,
      requestTimeout: timeout * 1000,
      connectTimeout: timeout * 1000,
      stallTimeout: 6 * timeout * 1000,
      onHandshake: ({ peer, client }) => log(`connected to ${peer} (${client})`),
      onProgress: ({ bytes }) => bar.update(bytes)
    })
  } finally {
    bar.stop()
    storage.close()
  }
  log(`fetched ${mib(result.bytes)} MiB in ${result.seconds.toFixed(2)} s ` +
    `(${mib(result.bytes / result.seconds)} MiB/s); all ${torrent.pieceCount} pieces passed SHA-1` +
    (result.corrupt ? ` (${result.corrupt} corrupt piece${result.corrupt === 1 ? '' : 's'} downloaded again)` : ''))
  log(`saved to ${path.join(out, torrent.name)}`)
}

// Where each file of the torrent is under `where`: the file itself (a
// single-file torrent), the torrent's folder itself, or the folder holding
// either.
function locator (torrent, where) {
  const stat = (p) => { try { return fs.statSync(p) } catch (err) { return null } }
  const st = stat(where)
  if (!st) throw new Failure(`${where}: no such file or folder`)
  if (!torrent.multiFile) {
    if (st.isFile()) return () => where
    return (file) => path.join(where, file.path)
  }
  if (!st.isDirectory()) throw new Failure(`${where} must be a folder: the torrent has several files`)
  const inside = stat(path.join(where, torrent.name))
  if (inside && inside.isDirectory()) return (file) => path.join(where, file.path)
  return (file) => path.join(where, file.inner)
}

async function runSeed (args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { port: { type: 'string' }, host: { type: 'string' }, 'no-check': { type: 'boolean' } }
  })
  if (positionals.length !== 2) throw usage('seed takes a .torrent file and the path of its data')
  const port = integer(values.port ?? 6881, '--port', 0, 65535)
  const host = values.host ?? '127.0.0.1'
  const torrent = readTorrent(positionals[0])
  log(describe(torrent))
  const storage = new FileStorage(torrent, locator(torrent, path.resolve(positionals[1])))
  if (!values['no-check']) {
    const bar = progress('check', torrent.length)
    try {
      verifyStorage(torrent, storage, ({ bytes }) => bar.update(bytes))
    } catch (err) {
      storage.close()
      throw err
    } finally {
      bar.stop()
    }
    log(`checked: all ${torrent.pieceCount} pieces passed SHA-1`)
  }

  const server = await seed({
    torrent,
    storage,
    host,
    port,
    onPeer: ({ type, address, client, uploaded }) => {
      if (type === 'handshake') log(`peer ${address} (${client}) connected`)
      if (type === 'close' && client) log(`peer ${address} (${client}) left; sent ${mib(uploaded)} MiB`)
    }
  })
  const bound = server.address()
  log(`seeding on ${bound.address}:${bound.port} (Ctrl-C to stop)`)
  await new Promise((resolve) => {
    const stop = () => server.close(resolve)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  storage.close()
}

async function main (argv) {
  const [command, ...args] = argv
  switch (command) {
    case 'demo': return runDemo(args)
    case 'fetch': return runFetch(args)
    case 'seed': return runSeed(args)
    case '-h':
    case '--help':
    case 'help':
      log(USAGE)
      return
    case undefined: throw usage('no command given')
    default: throw usage(`unknown command ${JSON.stringify(command)}`)
  }
}

main(process.argv.slice(2)).then(() => {
  process.exit(0) // the last wire's sockets may still be closing
}, (err) => {
  if (err instanceof Failure) {
    process.stderr.write(`peer-wire-native: ${err.message}\n`)
    process.exit(err.exitCode)
  }
  if (err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`peer-wire-native: ${err.message}\n${USAGE}\n`)
    process.exit(2)
  }
  process.stderr.write(`peer-wire-native: unexpected error (a bug): ${err && err.stack}\n`)
  process.exit(1)
})
