'use strict'

// Downloads a whole torrent from one peer over TCP, on peer-wire-native's
// public API: pipelined block requests, choke handling (requests failed by a
// choke are asked again after the unchoke), request timeouts, and a SHA-1
// check of every piece (a corrupt piece is asked again, then the download
// fails).

const net = require('net')
const pwp = require('..')
const { Failure } = require('./failure')
const { CLIENT_NAME, peerId, client } = require('./peer-id')

const BLOCK_LENGTH = 16384

function connectError (err, where) {
  switch (err.code) {
    case 'ECONNREFUSED': return `cannot connect to peer ${where}: connection refused (is a peer listening there?)`
    case 'ETIMEDOUT': return `cannot connect to peer ${where}: timed out`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return `cannot connect to peer ${where}: host unreachable`
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `cannot connect to peer ${where}: unknown host`
    default: return `cannot connect to peer ${where}: ${err.message}`
  }
}

// Resolves with { bytes, seconds, peer } once every piece is verified and
// written to `storage`; rejects with a Failure saying what went wrong.
function download ({
  torrent,
  storage,
  host,
  port,
  pipeline = 32, // block requests kept outstanding
  requestTimeout = 10000, // ms for the oldest outstanding request
  maxTimeouts = 3, // request timeouts in a row before giving up on the peer
  connectTimeout = 10000, // ms to connect, and again for the peer's handshake
  stallTimeout = 60000, // ms without a block before giving up
  maxPieceAttempts = 3, // downloads of a piece whose hash is wrong before giving up
  onProgress = () => {},
  onHandshake = () => {}
}) {
  const where = `${host}:${port}`
  const pieceCount = torrent.pieceCount

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    const wire = pwp()
    wire.peerAddress = where
    let started = 0
    let handshook = false
    let finished = false

    // Pieces still to get, in order. `next` points at the first one not yet
    // started; `waiting` holds those skipped because the peer lacks them.
    const done = new Uint8Array(pieceCount)
    const attempts = new Uint8Array(pieceCount)
    let remaining = pieceCount
    let verifiedBytes = 0
    let next = 0
    const waiting = new Set()
    const again = [] // pieces to start over (corrupt), first
    const retry = [] // blocks whose request failed (choke, timeout): asked first
    const active = new Map() // piece index -> { buffer, asked, got, have }
    let outstanding = 0
    let timeoutsInARow = 0

    let connected = false
    const connectTimer = setTimeout(() => { // until the peer's handshake
      fail(connected
        ? `peer ${where} sent no handshake within ${connectTimeout / 1000} s`
        : `cannot connect to peer ${where}: timed out after ${connectTimeout / 1000} s`)
    }, connectTimeout)
    const stallTimer = setTimeout(stalled, stallTimeout)

    function finish (err, value) {
      if (finished) return
      finished = true
      clearTimeout(connectTimer)
      clearTimeout(stallTimer)
      wire.destroy()
      socket.destroy()
      if (err) reject(err)
      else resolve(value)
    }

    function fail (message) {
      finish(new Failure(message))
    }

    function stalled () {
      let why = 'no handshake'
      if (handshook) {
        if (wire.peerChoking) why = 'the peer kept choking us'
        else if (outstanding === 0) why = 'the peer has none of the missing pieces'
        else why = 'no data arrived'
      }
      fail(`peer ${where} made no progress for ${stallTimeout / 1000} s: ${why}`)
    }

    socket.on('connect', () => {
      connected = true
      connectTimer.refresh()
      started = Date.now()
      wire.handshake(torrent.infoHash, peerId())
    })
    socket.on('error', (err) => {
      fail(connected ? `connection to peer ${where} failed: ${err.message}` : connectError(err, where))
    })
    socket.on('close', () => {
      if (!handshook) fail(`peer ${where} closed the connection before its handshake (does it have this torrent?)`)
      else fail(`peer ${where} closed the connection with ${remaining} of ${pieceCount} pieces missing`)
    })
    wire.on('error', (err) => fail(`peer ${where} broke the protocol: ${err.message}`))
    socket.pipe(wire).pipe(socket)

    wire.on('handshake', (infoHash, id, extensions) => {
      if (!Buffer.from(infoHash).equals(torrent.infoHash)) {
        return fail(`wrong info hash: peer ${where} answered with ${Buffer.from(infoHash).toString('hex')}, ` +
          `the torrent's is ${torrent.infoHash.toString('hex')}`)
      }
      handshook = true
      clearTimeout(connectTimer)
      onHandshake({ peer: where, client: client(id), extensions })
      if (extensions.extended) wire.extended(0, { m: {}, v: CLIENT_NAME })
      wire.setTimeout(requestTimeout)
      wire.interested()
      fill()
    })
    wire.on('bitfield', () => {
      for (const i of waiting) if (wire.peerPieces[i]) { waiting.delete(i); again.push(i) }
      fill()
    })
    wire.on('have', (i) => {
      if (waiting.delete(i)) again.push(i)
      fill()
    })
    wire.on('unchoke', fill) // again after a choke: the failed requests are in `retry`
    wire.on('timeout', () => {
      // The oldest request timed out (its callback has run). Give up on the
      // peer after a few in a row; otherwise ask again for what is missing.
      if (++timeoutsInARow >= maxTimeouts) {
        return fail(`peer ${where} stopped answering: ${timeoutsInARow} requests in a row timed out ` +
          `after ${requestTimeout / 1000} s`)
      }
      fill()
    })

    // The next block to ask for, or null.
    function nextBlock () {
      while (retry.length) {
        const block = retry.shift()
        if (active.has(block.piece)) return block
      }
      for (const piece of active.values()) {
        if (piece.asked < piece.length) return takeBlock(piece)
      }
      while (again.length || next < pieceCount) {
        const index = again.length ? again.shift() : next++
        if (done[index] || active.has(index)) continue
        if (!wire.peerPieces[index]) {
          waiting.add(index)
          continue
        }
        const length = torrent.pieceSize(index)
        const piece = {
          index,
          length,
          buffer: Buffer.allocUnsafe(length),
          asked: 0,
          got: 0,
          have: new Uint8Array(Math.ceil(length / BLOCK_LENGTH))
        }
        active.set(index, piece)
        return takeBlock(piece)
      }
      return null
    }

    function takeBlock (piece) {
      const offset = piece.asked
      const length = Math.min(BLOCK_LENGTH, piece.length - offset)
      piece.asked += length
      return { piece: piece.index, offset, length }
    }

    function fill () {
      if (finished || !handshook) return
      while (!wire.peerChoking && outstanding < pipeline) {
        const block = nextBlock()
        if (!block) break
        outstanding++
        wire.request(block.piece, block.offset, block.length, (err, data) => onBlock(block, err, data))
      }
    }

    function onBlock (block, err, data) {
      outstanding--
      if (finished) return
      const piece = active.get(block.piece)
      if (err) {
        // 'peer is choking' (asked again after the unchoke), 'request has
        // timed out', 'request was cancelled': ask again.
        if (piece) retry.push(block)
        if (err.message === 'request has timed out') wire.cancel(block.piece, block.offset, block.length)
        return fill()
      }
      timeoutsInARow = 0
      stallTimer.refresh()
      if (!piece || piece.have[block.offset / BLOCK_LENGTH]) return fill()
      if (data.length !== block.length) {
        return fail(`peer ${where} sent ${data.length} bytes for a block of ${block.length}`)
      }
      piece.have[block.offset / BLOCK_LENGTH] = 1
      data.copy(piece.buffer, block.offset)
      piece.got += data.length
      if (piece.got === piece.length) verify(piece)
      if (!finished) fill()
    }

    function verify (piece) {
      active.delete(piece.index)
      if (!torrent.pieceMatches(piece.index, piece.buffer)) {
        if (++attempts[piece.index] >= maxPieceAttempts) {
          return fail(`piece ${piece.index} failed its SHA-1 check ${attempts[piece.index]} times: ` +
            `peer ${where} sends corrupt data`)
        }
        again.unshift(piece.index) // download it again
        return
      }
      try {
        storage.write(piece.index * torrent.pieceLength, piece.buffer)
      } catch (err) {
        return fail(`cannot write piece ${piece.index}: ${err.message}`)
      }
      done[piece.index] = 1
      remaining--
      verifiedBytes += piece.length
      wire.have(piece.index)
      onProgress({ bytes: verifiedBytes, total: torrent.length, pieces: pieceCount - remaining, pieceCount })
      if (remaining === 0) {
        const seconds = (Date.now() - started) / 1000
        finish(null, { bytes: verifiedBytes, seconds, peer: where, corrupt: sum(attempts) })
      }
    }
  })
}

function sum (array) {
  let n = 0
  for (const v of array) n += v
  return n
}

module.exports = { download }
