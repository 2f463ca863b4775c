'use strict'

// `peer-wire-native fetch`: download a torrent, given as a .torrent file or
// a magnet link, from one or more peers into a folder. For a magnet link the
// info dictionary comes from the peers first (ut_metadata), and is written
// as NAME.torrent beside the files.

const fs = require('fs')
const path = require('path')
const { parseArgs } = require('util')
const { Failure } = require('../failure')
const { readTorrent, parseTorrent, torrentFile } = require('../torrent')
const { isMagnet, parseMagnet } = require('../magnet')
const { fetchMetadata } = require('../metadata')
const { FileStorage } = require('../storage')
const { download } = require('../downloader')
const { usage, integer, hostPort, encryptionPolicy } = require('../usage')
const { describeEncryption } = require('../encryption')
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
    options: { peer: { type: 'string', multiple: true }, out: { type: 'string' }, timeout: { type: 'string' }, encryption: { type: 'string' } }
  })
  if (positionals.length !== 1) throw usage('fetch takes one .torrent file or magnet link')
  if (!values.peer || values.peer.length === 0) throw usage('fetch needs --peer HOST:PORT')
  const peers = values.peer.map(hostPort)
  const timeout = integer(values.timeout ?? 10, '--timeout (seconds)', 1, 3600)
  const encryption = encryptionPolicy(values.encryption ?? 'prefer')
  const out = path.resolve(values.out ?? '.')

  let torrent
  if (isMagnet(positionals[0])) {
    const magnet = parseMagnet(positionals[0])
    log(`magnet: info hash ${magnet.infoHash.toString('hex')}${magnet.name ? `, ${JSON.stringify(magnet.name)}` : ''}; ` +
      `fetching the metadata from ${peers.length} peer${peers.length === 1 ? '' : 's'}`)
    const { info, peer } = await fetchMetadata({
      infoHash: magnet.infoHash,
      peers,
      timeout: 3 * timeout * 1000,
      encryption,
      onPeerFailed: (reason) => log(`metadata: ${reason}`)
    })
    const file = torrentFile(info)
    torrent = parseTorrent(file) // its info hash is the magnet's: ut_metadata and fetchMetadata checked
    const saved = inside(out, `${torrent.name}.torrent`, `${torrent.name}.torrent`)
    log(`metadata: ${info.length} bytes from ${peer}, SHA-1 matches the info hash; saved ${saved}`)
    fs.mkdirSync(out, { recursive: true })
    fs.writeFileSync(saved, file)
  } else {
    torrent = readTorrent(positionals[0])
  }
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
      encryption,
      onHandshake: ({ peer, client, encryption }) => log(`connected to ${peer} (${client})${describeEncryption(encryption)}`),
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
  if (peers.length > 1) log(`from ${result.peers.map(({ peer, bytes }) => `${peer} ${mib(bytes)} MiB`).join(', ')}`)
  log(`saved to ${path.join(out, torrent.name)}`)
}

module.exports = { fetch }
