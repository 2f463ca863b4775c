'use strict'

// `peer-wire-native fetch`: download a torrent from one or more peers into a
// folder.

const path = require('path')
const { parseArgs } = require('util')
const { Failure } = require('../failure')
const { readTorrent } = require('../torrent')
const { FileStorage } = require('../storage')
const { download } = require('../downloader')
const { usage, integer, hostPort } = require('../usage')
const { log, progress, describe } = require('../output')
const { mib } = require('../units')

function inside (out, relative, shown) {
  const where = path.resolve(out, relative)
  if (!where.startsWith(out + path.sep)) throw new Failure(`unsafe file name in the torrent: ${shown}`)
  return where
}

async function fetch (args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { peer: { type: 'string', multiple: true }, out: { type: 'string' }, timeout: { type: 'string' } }
  })
  if (positionals.length !== 1) throw usage('fetch takes one .torrent file')
  if (!values.peer || values.peer.length === 0) throw usage('fetch needs --peer HOST:PORT')
  const peers = values.peer.map(hostPort)
  const timeout = integer(values.timeout ?? 10, '--timeout (seconds)', 1, 3600)
  const out = path.resolve(values.out ?? '.')

  const torrent = readTorrent(positionals[0])
  log(describe(torrent))

  const storage = new FileStorage(torrent, (file) => inside(out, file.path, file.name), { write: true })
  const bar = progress('fetch', torrent.length, { peers: true })
  let result
  try {
    result = await download({
      torrent,
      storage,
      peers,
      requestTimeout: timeout * 1000,
      connectTimeout: timeout * 1000,
      stallTimeout: 6 * timeout * 1000,
      onHandshake: ({ peer, client }) => log(`connected to ${peer} (${client})`),
      onPeerFailed: ({ reason }) => { if (peers.length > 1) log(`dropped: ${reason}`) },
      onProgress: ({ bytes, peers }) => bar.update(bytes, { peers })
    })
  } finally {
    bar.stop()
    storage.close()
  }
  log(`fetched ${mib(result.bytes)} MiB in ${result.seconds.toFixed(2)} s ` +
    `(${mib(result.bytes / Math.max(result.seconds, 0.001))} MiB/s) from ${peers.length} peer${peers.length === 1 ? '' : 's'}; ` +
    `all ${torrent.pieceCount} pieces passed SHA-1` +
    (result.corrupt ? ` (${result.corrupt} corrupt piece${result.corrupt === 1 ? '' : 's'} downloaded again)` : ''))
  log(`saved to ${path.join(out, torrent.name)}`)
}

module.exports = { fetch }
