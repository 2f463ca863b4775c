'use strict'

// `peer-wire-native seed`: serve a torrent's data from disk to every peer
// that connects, and to each --peer it dials once, until Ctrl-C.

const fs = require('fs')
const path = require('path')
const { parseArgs } = require('util')
const { Failure } = require('../failure')
const { readTorrent } = require('../torrent')
const { FileStorage } = require('../storage')
const { seed, verifyStorage } = require('../seeder')
const { usage, integer, hostPort, encryptionPolicy } = require('../usage')
const { describeEncryption } = require('../encryption')
const { log, progress, describe } = require('../output')
const { mib } = require('../units')

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

async function seedCommand (args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      peer: { type: 'string', multiple: true },
      'no-check': { type: 'boolean' },
      encryption: { type: 'string' }
    }
  })
  if (positionals.length !== 2) throw usage('seed takes a .torrent file and the path of its data')
  const port = integer(values.port ?? 6881, '--port', 0, 65535)
  const host = values.host ?? '127.0.0.1'
  const dial = (values.peer ?? []).map(hostPort)
  const encryption = encryptionPolicy(values.encryption ?? 'prefer')
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
    dial,
    encryption,
    onPeer: ({ type, address, client, uploaded, dialled, reason, encryption }) => {
      if (type === 'handshake') {
        log((dialled ? `connected to peer ${address} (${client})` : `peer ${address} (${client}) connected`) + describeEncryption(encryption))
      }
      if (type === 'close' && client) log(`peer ${address} (${client}) left; sent ${mib(uploaded)} MiB`)
      if (type === 'failed') log(reason)
    }
  })
  const bound = server.address()
  const dialling = dial.length ? `; dialling ${dial.map((p) => `${p.host}:${p.port}`).join(', ')}` : ''
  log(`seeding on ${bound.address}:${bound.port}${dialling} (Ctrl-C to stop)`)
  await new Promise((resolve) => {
    const stop = () => server.close(resolve)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  storage.close()
}

module.exports = { seed: seedCommand }
