'use strict'

// Drives libtorrent-rasterbar (Debian's python3-libtorrent) through
// libtorrent_peer.py for the interop tests (not a test file itself).
// Everything is on 127.0.0.1; every wait has a deadline that fails with what
// libtorrent printed so far; every process is killed when its test ends.

const { spawn, spawnSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')

const PYTHON = '/usr/bin/python3' // Debian's: the one that can import libtorrent
const SCRIPT = path.join(__dirname, 'libtorrent_peer.py')

let checked = null

// Throws a clear error when libtorrent cannot be imported: these tests fail,
// they do not skip.
function requireLibtorrent () {
  if (checked) return checked
  const r = spawnSync(PYTHON, ['-c', 'import libtorrent; print(libtorrent.__version__)'], {
    encoding: 'utf8',
    timeout: 20000
  })
  if (r.status !== 0) {
    throw new Error(`libtorrent is missing: \`${PYTHON} -c 'import libtorrent'\` failed ` +
      `(${(r.error && r.error.message) || (r.stderr || '').trim().split('\n').pop()}). ` +
      'Install it with `apt-get install -y python3-libtorrent` (.ci/run does).')
  }
  checked = r.stdout.trim()
  return checked
}

// Runs `libtorrent_peer.py create`: a .torrent written by libtorrent's own
// create_torrent. Returns what it printed (info hash, piece hashes, ...).
// `v1Only`: no v2 hashes (aria2 and Transmission 3 know only v1 torrents).
function createTorrent (source, torrentFile, { pieceLength = 32768, v1Only = false } = {}) {
  requireLibtorrent()
  const args = [SCRIPT, 'create', source, torrentFile, '--piece-length', String(pieceLength), ...(v1Only ? ['--v1-only'] : [])]
  const r = spawnSync(PYTHON, args, {
    encoding: 'utf8',
    timeout: 20000
  })
  if (r.status !== 0) throw new Error(`libtorrent create failed: ${r.stdout}${r.stderr}${r.error || ''}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

// Starts `libtorrent_peer.py seed|leech ...`. `t` is the node:test context:
// the process is killed after the test, however it ends. `encryption`:
// 'plaintext', 'forced', 'default' or 'disabled' (see libtorrent_peer.py).
function startPeer (t, args, { deadline = 40, encryption = 'plaintext' } = {}) {
  requireLibtorrent()
  const proc = spawn(PYTHON, [SCRIPT, '--deadline', String(deadline), '--encryption', encryption, ...args], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  const events = []
  const waiters = new Set()
  let output = ''
  let exit = null
  let pending = ''

  function settle () {
    for (const w of waiters) w.check()
  }
  proc.stdout.setEncoding('utf8')
  proc.stdout.on('data', (chunk) => {
    output += chunk
    pending += chunk
    let nl
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      try {
        events.push(JSON.parse(line))
      } catch (err) {
        events.push({ event: 'unparsed', line })
      }
    }
    settle()
  })
  proc.stderr.setEncoding('utf8')
  proc.stderr.on('data', (chunk) => { output += chunk })
  proc.on('exit', (code, signal) => {
    exit = { code, signal }
    settle()
  })
  proc.on('error', (err) => {
    exit = { code: null, signal: null, error: err }
    settle()
  })

  function kill () {
    if (exit === null) proc.kill('SIGKILL')
  }
  t.after(kill)

  // Resolves with the first event named `name`; rejects with libtorrent's
  // output on a timeout, on any event in `fatal` and when the process exits.
  function waitFor (name, { timeout = 20000, fatal = ['error', 'banned'] } = {}) {
    return new Promise((resolve, reject) => {
      const waiter = {
        check () {
          const found = events.find((e) => e.event === name)
          const bad = events.find((e) => fatal.includes(e.event))
          if (found) return done(null, found)
          if (bad) return done(new Error(`libtorrent reported ${bad.event} while we waited for '${name}'`))
          if (exit) return done(new Error(`libtorrent exited (${JSON.stringify(exit)}) before '${name}'`))
        }
      }
      const timer = setTimeout(() => done(new Error(`no '${name}' from libtorrent within ${timeout} ms`)), timeout)
      function done (err, value) {
        clearTimeout(timer)
        waiters.delete(waiter)
        if (err) {
          kill()
          err.message += `\nlibtorrent printed:\n${output}`
          reject(err)
        } else {
          resolve(value)
        }
      }
      waiters.add(waiter)
      waiter.check()
    })
  }

  return { proc, events, waitFor, kill, output: () => output }
}

// `size` bytes, the same for the same seed.
// A payload of `size` bytes (from `seed`) in dir/source/payload.bin, an
// empty dir/target, and libtorrent's .torrent for it in dir/payload.torrent.
function payloadTorrent (dir, size, seed, pieceLength = 32768) {
  const source = path.join(dir, 'source')
  const target = path.join(dir, 'target')
  fs.mkdirSync(source)
  fs.mkdirSync(target)
  const data = payload(size, seed)
  fs.writeFileSync(path.join(source, 'payload.bin'), data)
  const torrent = path.join(dir, 'payload.torrent')
  const meta = createTorrent(path.join(source, 'payload.bin'), torrent, { pieceLength })
  return { data, meta, torrent, source, target }
}

function payload (size, seed) {
  const key = crypto.createHash('sha256').update(`interop ${seed}`).digest()
  const cipher = crypto.createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16))
  return cipher.update(Buffer.alloc(size))
}

function sha1 (data) {
  return crypto.createHash('sha1').update(data).digest('hex')
}

// A promise that rejects with `message` after `ms`, unless `promise` settles
// first. `message` may be a function, called then: what a test says of its
// peers' state must be read when the wait fails, not when it starts.
function within (promise, ms, message) {
  let timer
  const fail = () => new Error(typeof message === 'function' ? message() : message)
  return Promise.race([
    promise,
    new Promise((resolve, reject) => { timer = setTimeout(() => reject(fail()), ms) })
  ]).finally(() => clearTimeout(timer))
}

// Where a wire stands, for a failure's message: what it agreed and what it
// is waiting for.
function wireState (wire) {
  return JSON.stringify({
    encryption: wire.encryption,
    peerChoking: wire.peerChoking,
    amInterested: wire.amInterested,
    pendingRequests: wire.requests.length,
    downloaded: wire.downloaded,
    protocolError: wire.protocolError && wire.protocolError.code,
    ended: wire.writableEnded || wire.readableEnded
  })
}

// A libtorrent seed of `torrentFile` from `dir`, once it seeds: the peer and
// its port.
async function startSeed (t, torrentFile, dir, options) {
  const seed = startPeer(t, ['seed', torrentFile, dir], options)
  const { port } = await seed.waitFor('listening')
  await seed.waitFor('seeding')
  return { seed, port }
}

// `wire` on a loopback TCP connection to `port`, piped both ways; the
// socket is destroyed with the test.
function dial (t, port, wire) {
  const socket = require('node:net').connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  socket.pipe(wire).pipe(socket)
  return socket
}

module.exports = { requireLibtorrent, createTorrent, payloadTorrent, startPeer, startSeed, dial, payload, sha1, within, wireState }
