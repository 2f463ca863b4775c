'use strict'

// What the command shows: result lines on stdout, a progress bar on stderr
// (drawn only on a terminal), the one-line summary of a torrent.

const cliProgress = require('cli-progress')
const speedometer = require('speedometer')
const { mib } = require('./units')

function log (line) {
  process.stdout.write(line + '\n')
}

// A progress bar counting `total` bytes: update(bytes, { peers }), then
// stop(). The speed is over the last 5 s; with `peers`, the number of peers
// connected is shown.
function progress (label, total, { peers = false } = {}) {
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {percentage}% | {done}/{size} MiB | {speed} MiB/s` +
      (peers ? ' | {peers} peer{s}' : '') + ' | ETA {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
    barsize: 30
  }, cliProgress.Presets.shades_classic)
  const speed = speedometer(5)
  let last = 0
  let connected = 0
  bar.start(total, 0, { done: mib(0), size: mib(total), speed: '0.0', peers: 0, s: 's' })
  return {
    update (bytes, { peers = connected } = {}) {
      connected = peers
      const rate = speed(Math.max(bytes - last, 0))
      last = bytes
      bar.update(bytes, { done: mib(bytes), speed: mib(rate), peers, s: peers === 1 ? '' : 's' })
    },
    stop () { bar.stop() }
  }
}

function describe (torrent) {
  const files = torrent.files.filter((f) => !f.pad) // pad files (BEP 47) are not shown
  const bytes = files.reduce((n, f) => n + f.length, 0)
  return `${torrent.name}: ${mib(bytes)} MiB, ${files.length} file${files.length === 1 ? '' : 's'}, ` +
    `${torrent.pieceCount} pieces of ${torrent.pieceLength / 1024} KiB, info hash ${torrent.infoHash.toString('hex')}`
}

module.exports = { log, progress, describe }
