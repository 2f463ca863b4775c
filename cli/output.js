'use strict'

// What the command shows: result lines on stdout, a progress bar on stderr
// (drawn only on a terminal), the one-line summary of a torrent.

const cliProgress = require('cli-progress')
const { mib } = require('./units')

function log (line) {
  process.stdout.write(line + '\n')
}

// A progress bar counting `total` bytes: update(bytes), then stop().
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

function describe (torrent) {
  const files = torrent.files.filter((f) => !f.pad) // pad files (BEP 47) are not shown
  const bytes = files.reduce((n, f) => n + f.length, 0)
  return `${torrent.name}: ${mib(bytes)} MiB, ${files.length} file${files.length === 1 ? '' : 's'}, ` +
    `${torrent.pieceCount} pieces of ${torrent.pieceLength / 1024} KiB, info hash ${torrent.infoHash.toString('hex')}`
}

module.exports = { log, progress, describe }
