'use strict'

// aria2, Transmission and rtorrent as test peers for the command's tests
// (not a test file itself): Debian's aria2 1.36, transmission-cli 3.00 and
// rtorrent 0.9.8, confined to 127.0.0.1 (no DHT, PEX, local discovery, port
// mapping, uTP or trackers),
// seeding data already in place or leeching into an empty folder (neither
// dials a given peer: a leecher waits on its port for `seed --peer`). Each
// is killed when its test ends; every wait has a deadline that fails with
// what the client printed so far.

const { spawn, spawnSync } = require('child_process')
const fs = require('fs')
const net = require('net')
const path = require('path')

const bencode = require('bencode')

const VERSION_ARGS = { aria2c: ['--version'], 'transmission-cli': ['--version'], rtorrent: ['-h'] }
const PACKAGES = { aria2c: 'aria2', 'transmission-cli': 'transmission-cli', rtorrent: 'rtorrent' }

// Why `command` cannot run here (a message for a skipped test), or null.
function missing (command) {
  const r = spawnSync(command, VERSION_ARGS[command], { encoding: 'utf8', timeout: 10000 })
  if (!r.error && r.status === 0) return null
  return `${command} is missing (${r.error ? r.error.message : r.stderr.trim()}): ` +
    `install it with \`apt-get install -y ${PACKAGES[command]}\` (.ci/run does)`
}

function version (command) {
  const why = missing(command)
  if (why) throw new Error(why)
  const r = spawnSync(command, VERSION_ARGS[command], { encoding: 'utf8', timeout: 10000 })
  return (r.stdout + r.stderr).split('\n')[0].trim()
}

// A TCP port nobody listens on right now (the client binds it a moment later).
async function freePort () {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

// Starts `command args`, killed after the test; resolves once its output
// matches `ready` (at once if `ready` is null).
function start (t, name, command, args, ready, { timeout = 30000, cwd } = {}) {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd })
  let output = ''
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') }
  process.once('exit', kill)
  t.after(() => {
    kill()
    process.removeListener('exit', kill)
  })
  const collect = (chunk) => { output += chunk }
  proc.stdout.on('data', collect)
  proc.stderr.on('data', collect)
  const started = new Promise((resolve, reject) => {
    if (ready === null) return resolve()
    const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${timeout} ms:\n${output}`)), timeout)
    const check = () => {
      if (ready.test(output)) {
        clearTimeout(timer)
        resolve()
      }
    }
    proc.stdout.on('data', check)
    proc.stderr.on('data', check)
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code}:\n${output}`))
    })
  })
  return { proc, started, output: () => output }
}

// aria2 seeding `torrentFile` from `dir` (the data in place, checked with
// -V) on a port of its own: resolves with { port, output }. With `leech`,
// it downloads into `dir` instead, from whoever connects to its port, and
// exits once it has everything (--seed-time=0). With `forceEncryption`, it
// speaks MSE/PE with RC4 only, both ways (--bt-force-encryption=true).
async function startAria2 (t, torrentFile, dir, { uploadLimit, leech = false, forceEncryption = false } = {}) {
  const v = version('aria2c')
  const port = await freePort()
  const args = [
    `--dir=${dir}`, `--listen-port=${port}`,
    '--interface=127.0.0.1', '--disable-ipv6=true',
    '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
    '--bt-exclude-tracker=*', '--summary-interval=0', '--console-log-level=notice',
    '--no-conf=true', '--bt-save-metadata=false', '--auto-save-interval=0', '--save-session-interval=0',
    ...(leech ? ['--seed-time=0'] : ['--seed-ratio=0.0', '-V']),
    ...(uploadLimit ? [`--max-upload-limit=${uploadLimit}`] : []),
    ...(forceEncryption ? ['--bt-force-encryption=true'] : []),
    torrentFile
  ]
  const aria2 = start(t, 'aria2', 'aria2c', args, new RegExp(`listening on TCP port ${port}`))
  await aria2.started
  return { port, version: v, output: aria2.output }
}

// Transmission (transmission-cli) seeding `torrentFile` from `dir`: a
// config folder of its own whose settings.json keeps it on 127.0.0.1 with
// DHT, PEX, LPD, uTP and port mapping off, plaintext preferred (or, with
// `requireEncryption`, MSE/PE with RC4 required: settings.json `encryption`
// 2). Resolves with { port, output } once it seeds (after verifying the
// data). With `leech`, `dir` is empty: it resolves once the torrent is
// verified (nothing there) and started, Transmission waiting on its port for
// a peer.
async function startTransmission (t, torrentFile, dir, configDir, { leech = false, requireEncryption = false } = {}) {
  const v = version('transmission-cli')
  const port = await freePort()
  fs.mkdirSync(configDir, { recursive: true })
  fs.writeFileSync(path.join(configDir, 'settings.json'), JSON.stringify({
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'rpc-enabled': false,
    'blocklist-enabled': false,
    encryption: requireEncryption ? 2 : 0, // 0: prefer plaintext, 2: require encryption
    'peer-port': port,
    'peer-port-random-on-start': false,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'speed-limit-up-enabled': false,
    'message-level': 2
  }, null, 2))
  const tr = start(t, 'Transmission', 'transmission-cli',
    ['-g', configDir, '-w', dir, '-p', String(port), '-M', '-v', torrentFile],
    leech ? /Verifying torrent[\s\S]*Progress: / : /Seeding/)
  await tr.started
  return { port, version: v, output: tr.output }
}

// rtorrent 0.9.8 (no UI: system.daemon) seeding `torrentFile` from `dir`,
// or with `leech` downloading into `dir` from whoever connects to its port;
// with `requireEncryption`, MSE/PE with RC4 only, both ways. Its settings
// are written here; it logs to
// `workDir`/rtorrent.log, where it is seen to be ready (the torrent
// checked and started). rtorrent loads no torrent without an announce URL:
// it gets a copy of the torrent announcing to 127.0.0.1:1 (refused at once;
// the info hash is the same). Resolves with { port, version, output }.
// Its settings: rtorrent.rc in `workDir` (imported; -n skips ~/.rtorrent.rc).
async function startRtorrent (t, torrentFile, dir, workDir, { leech = false, requireEncryption = false, timeout = 30000 } = {}) {
  const v = version('rtorrent')
  const port = await freePort()
  fs.mkdirSync(path.join(workDir, 'session'), { recursive: true })
  const torrent = bencode.decode(fs.readFileSync(torrentFile))
  torrent.announce = Buffer.from('http://127.0.0.1:1/announce')
  const copy = path.join(workDir, 'announced.torrent')
  fs.writeFileSync(copy, bencode.encode(torrent))
  const log = path.join(workDir, 'rtorrent.log')
  const settings = [
    'network.bind_address.set = 127.0.0.1',
    'network.local_address.set = 127.0.0.1',
    `network.port_range.set = ${port}-${port}`,
    'network.port_random.set = no',
    'dht.mode.set = disable',
    'protocol.pex.set = no',
    'trackers.use_udp.set = no',
    `protocol.encryption.set = ${requireEncryption ? 'allow_incoming,try_outgoing,require,require_RC4' : 'allow_incoming'}`,
    `session.path.set = ${path.join(workDir, 'session')}`,
    `directory.default.set = ${dir}`,
    'system.daemon.set = true',
    `log.open_file = "main", ${log}`,
    'log.add_output = "debug", "main"',
    `load.start = ${copy}`
  ]
  const rc = path.join(workDir, 'rtorrent.rc')
  fs.writeFileSync(rc, settings.join('\n') + '\n')
  const rtorrent = start(t, 'rtorrent', 'rtorrent', ['-n', '-o', `import=${rc}`], null) // it prints nothing: its log says when it is ready
  const output = () => rtorrent.output() + (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '')
  const ready = leech ? /download: Starting torrent/ : /Hash done[\s\S]*download: Starting torrent/
  const begun = Date.now()
  while (!ready.test(output())) {
    if (rtorrent.proc.exitCode !== null) throw new Error(`rtorrent exited with ${rtorrent.proc.exitCode}:\n${output()}`)
    if (Date.now() - begun > timeout) throw new Error(`rtorrent was not ready within ${timeout} ms:\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { port, version: v, output }
}

module.exports = { missing, startAria2, startTransmission, startRtorrent }
