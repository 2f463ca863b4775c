'use strict'

// The command's usage text, and the checks on its arguments: a bad argument
// is a usage error (exit code 2), its message followed by the usage text.

const { Failure } = require('./failure')
const { POLICIES } = require('./encryption')

const USAGE = `usage:
  peer-wire-native demo [--size MIB] [--piece-length KIB] [--seed N]
      seed a generated payload on 127.0.0.1 and download it over TCP
  peer-wire-native fetch <file.torrent | magnet:?xt=urn:btih:...> --peer HOST:PORT [--peer HOST:PORT ...]
                         [--out DIR] [--timeout SECONDS] [--encryption prefer|require|off]
      download a torrent from the peers into DIR (default: the current folder);
      for a magnet link, the metadata first (saved as DIR/NAME.torrent), in plaintext;
      --encryption: MSE/PE to each peer (default prefer: a peer that refuses it
      is dialled again in plaintext; require: RC4 only)
  peer-wire-native seed <file.torrent> <path> [--port N] [--host HOST] [--no-check] [--peer HOST:PORT ...]
                        [--encryption prefer|require|off]
      serve a torrent's data (the file or folder itself, or the folder holding it),
      and its metadata to magnet links, to every peer that connects (default: 127.0.0.1:6881),
      and to each --peer, dialled once (a leecher that only listens: Transmission, aria2);
      --encryption: MSE/PE (default prefer: a peer that connects may open with it or
      in plaintext, a --peer that refuses it is dialled again in plaintext;
      require: RC4 only, both ways)`

function usage (message) {
  return new Failure(`${message}\n${USAGE}`, 2)
}

function integer (value, name, min, max) {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw usage(`${name} must be an integer from ${min} to ${max}`)
  return n
}

function encryptionPolicy (value) {
  if (!POLICIES.includes(value)) throw usage(`--encryption must be off, prefer or require, got ${JSON.stringify(value)}`)
  return value
}

function hostPort (value) {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) || /^([^:]+):(\d+)$/.exec(value || '')
  if (!m) throw usage(`--peer must be HOST:PORT, got ${JSON.stringify(value)}`)
  return { host: m[1], port: integer(m[2], 'the peer port', 1, 65535) }
}

module.exports = { USAGE, usage, integer, hostPort, encryptionPolicy }
