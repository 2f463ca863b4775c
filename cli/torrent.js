'use strict'

// Metainfo (.torrent) files: read and parse one (BEP 3, single- and
// multi-file, with BEP 47 pad files as libtorrent writes them in hybrid v1+v2
// torrents), or build one in memory.

const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const { Failure } = require('./failure')
const { bencode } = require('..')

// A torrent of many files has many values: up to two million (the order
// of libtorrent's bdecode token limit), nested as deep as a peer's may be.
const LIMITS = { maxDepth: 100, maxValues: 2000000 }

function sha1 (data) {
  return crypto.createHash('sha1').update(data).digest()
}

// The exact bytes of the top-level `info` value: its SHA-1 is the info hash.
// (Re-encoding the decoded dictionary would change the hash of any torrent
// that is not in canonical form.)
function rawInfo (buf) {
  if (buf[0] !== 0x64) throw new Error('not a dictionary')
  let at = 1
  while (at < buf.length && buf[at] !== 0x65) {
    const keyEnd = bencode.end(buf, at, LIMITS)
    const key = buf.toString('latin1', buf.indexOf(0x3a, at) + 1, keyEnd)
    const valueEnd = bencode.end(buf, keyEnd, LIMITS)
    if (key === 'info') return buf.subarray(keyEnd, valueEnd)
    at = valueEnd
  }
  return null
}

function text (value) {
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined
}

function isLength (n) {
  return Number.isSafeInteger(n) && n >= 0
}

// A file name from the torrent becomes a path on disk: each component must
// be a plain name, so nothing is written outside the output folder.
function safeComponent (name, where) {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' ||
      /[/\\\0]/.test(name) || (process.platform === 'win32' && /[:<>"|?*]/.test(name))) {
    throw new Failure(`unsafe file name in the torrent: ${JSON.stringify(where)}`)
  }
  return name
}

function parseTorrent (buf) {
  let meta, info
  try {
    if (bencode.end(buf, 0, LIMITS) !== buf.length) throw new SyntaxError('bytes after the dictionary')
    meta = bencode.decode(buf, LIMITS)
    info = rawInfo(buf)
  } catch (err) {
    throw new Failure(`not a valid .torrent file (bad bencoding: ${err.message})`)
  }
  if (!meta || typeof meta !== 'object' || !info || !meta.info || typeof meta.info !== 'object') {
    throw new Failure('not a valid .torrent file (no info dictionary)')
  }
  const dict = meta.info
  const bad = (what) => new Failure(`not a valid .torrent file (${what})`)

  const name = text(dict['name.utf-8']) || text(dict.name)
  if (!name) throw bad('no name')
  const pieceLength = dict['piece length']
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) throw bad('bad piece length')
  if (!Buffer.isBuffer(dict.pieces)) {
    if (dict['meta version'] === 2) throw new Failure('v2-only torrents are not supported (no v1 piece hashes)')
    throw bad('no piece hashes')
  }
  if (dict.pieces.length % 20 !== 0) throw bad('piece hashes are not a multiple of 20 bytes')

  const files = []
  let length = 0
  if (Array.isArray(dict.files)) {
    const root = safeComponent(name, name)
    for (const file of dict.files) {
      const parts = (file['path.utf-8'] || file.path || []).map(text)
      const shown = [name, ...parts].join('/')
      if (!isLength(file.length) || parts.length === 0) throw bad(`bad file entry ${JSON.stringify(shown)}`)
      const pad = Buffer.isBuffer(file.attr) && file.attr.includes('p')
      const inner = pad ? null : path.join(...parts.map((p) => safeComponent(p, shown)))
      files.push({
        path: pad ? null : path.join(root, inner), // relative to the output folder
        inner, // relative to the torrent's own folder
        name: shown,
        length: file.length,
        offset: length,
        pad
      })
      length += file.length
    }
  } else if (isLength(dict.length)) {
    files.push({ path: safeComponent(name, name), inner: null, name, length: dict.length, offset: 0, pad: false })
    length = dict.length
  } else {
    throw bad('neither length nor files')
  }

  const pieceCount = dict.pieces.length / 20
  if (pieceCount !== Math.ceil(length / pieceLength)) {
    throw bad(`${pieceCount} piece hashes for ${length} bytes in pieces of ${pieceLength}`)
  }

  return {
    infoHash: sha1(info),
    info, // the info dictionary's bytes, as in the file
    name,
    multiFile: Array.isArray(dict.files),
    pieceLength,
    pieceCount,
    length,
    files,
    // whether `data` is piece i: its SHA-1 is the torrent's hash for it
    pieceMatches: (i, data) => sha1(data).equals(dict.pieces.subarray(20 * i, 20 * i + 20)),
    pieceSize: (i) => i === pieceCount - 1 ? length - pieceLength * (pieceCount - 1) : pieceLength
  }
}

// A .torrent file from disk, parsed.
function readTorrent (file) {
  let buf
  try {
    buf = fs.readFileSync(file)
  } catch (err) {
    throw new Failure(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
  return parseTorrent(buf)
}

// A .torrent file holding exactly the info dictionary `info` (bytes, as
// fetched over ut_metadata), so its info hash is SHA-1(info).
function torrentFile (info) {
  return Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')])
}

// A single-file torrent for `data`, as a .torrent file's bytes.
function createTorrent (name, data, pieceLength) {
  const pieces = []
  for (let at = 0; at < data.length; at += pieceLength) {
    pieces.push(sha1(data.subarray(at, at + pieceLength)))
  }
  return bencode.encode({
    'created by': 'peer-wire-native',
    info: { length: data.length, name, 'piece length': pieceLength, pieces: Buffer.concat(pieces) }
  })
}

module.exports = { parseTorrent, readTorrent, createTorrent, torrentFile }
