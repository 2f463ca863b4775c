'use strict'

// Downloads a whole torrent from several peers over TCP, on peer-wire-native's
// public API.
//
// - A piece comes from one peer (its owner) at a time, in pipelined 16 KiB
//   block requests; a peer starts the rarest piece it has (fewest peers
//   have it; lowest index among equals).
// - Endgame: once every missing piece is started, a peer with nothing else to
//   do also asks for blocks other peers were asked for (at most two askers a
//   block); the first answer wins and the other request is cancelled.
// - A peer that fails (connection, protocol, corrupt data, requests timing
//   out, no block for the stall timeout, choking for that long) is dropped:
//   its pieces go to the others. The download fails only when no peer is
//   left, with each peer's reason.
// - Every piece is SHA-1 checked; a corrupt piece is asked again, preferably
//   from another peer; the download fails after `maxPieceAttempts`.
// - BEP 6 (fast), when the wire offers it: 'have-all' counts as a full
//   bitfield, a rejected request is a failed block asked again elsewhere,
//   and a choke keeps pending requests (the wire does not fail them).
// - Encryption (MSE/PE): with 'prefer' or 'require' a peer is dialled with
//   MSE; one whose connection ends before MSE is done is dialled again as
//   ./encryption.js says (in plaintext for 'prefer', encrypted for 'require').

const net = require('net')
const { Failure } = require('./failure')
const { CLIENT_NAME, peerId, client } = require('./peer-id')
const { connectError } = require('./connect-error')
const { dialWire, redial } = require('./encryption')

const BLOCK_LENGTH = 16384
const MAX_ASKERS = 2 // peers asked for one block in the endgame

// Resolves with { bytes, seconds, peers, dropped, corrupt } once every piece
// is verified and written to `storage` (`peers`: [{ peer, bytes }], the
// block bytes each peer sent that were used); rejects with a Failure saying
// what went wrong. `peers` is [{ host, port }].
function download ({
  torrent,
  storage,
  peers: addresses,
  pipeline = 32, // block requests kept outstanding per peer
  requestTimeout = 10000, // ms for the oldest outstanding request
  maxTimeouts = 3, // request timeouts in a row before giving up on a peer
  connectTimeout = 10000, // ms to connect, and again for the peer's handshake
  stallTimeout = 60000, // ms without a block from a peer before dropping it
  maxPieceAttempts = 3, // downloads of a piece whose hash is wrong before giving up
  encryption = 'off', // 'off', 'prefer' or 'require' (MSE/PE)
  onProgress = () => {},
  onHandshake = () => {},
  onPeerFailed = () => {}
}) {
  const pieceCount = torrent.pieceCount

  return new Promise((resolve, reject) => {
    const started = Date.now()
    let finished = false

    const done = new Uint8Array(pieceCount)
    const attempts = new Uint8Array(pieceCount)
    const availability = new Uint16Array(pieceCount) // live peers having each piece
    const corruptFrom = new Map() // piece index -> Set of peers that sent it corrupt
    const active = new Map() // piece index -> piece being downloaded
    let remaining = pieceCount
    let unstarted = pieceCount // neither done nor active
    let low = 0 // every piece below is done or active
    let returned = 0 // counts pieces put back to be started again (corrupt)
    let verifiedBytes = 0
    const peers = new Set() // live (connecting or connected)
    const reasons = [] // why each dropped peer was dropped
    const sent = [] // [{ peer, bytes }]: what each peer sent that was used

    function finish (err, value) {
      if (finished) return
      finished = true
      for (const peer of peers) close(peer)
      if (err) reject(err)
      else resolve(value)
    }

    function live () {
      let n = 0
      for (const peer of peers) if (peer.handshook) n++
      return n
    }

    function progress () {
      onProgress({ bytes: verifiedBytes, total: torrent.length, pieces: pieceCount - remaining, pieceCount, peers: live() })
    }

    // --- peers -------------------------------------------------------------

    function connect ({ host, port }, plaintext = encryption === 'off', retry = true) {
      const where = `${host}:${port}`
      const socket = net.connect({ host, port })
      const wire = dialWire(encryption, plaintext, torrent.infoHash)
      wire.peerAddress = where
      const peer = {
        where,
        socket,
        wire,
        has: new Uint8Array(pieceCount),
        handshook: false,
        connected: false,
        interested: false,
        wanted: 0, // pieces it has that are not done
        known: false, // whether its pieces are known (a bitfield, have_all or have arrived)
        corrupt: 0, // pieces it had a part in that failed their SHA-1 check
        nothingAt: -1, // `returned` when it last had nothing to start
        outstanding: 0,
        requests: new Set(),
        timeoutsInARow: 0,
        pipeline,
        used: { peer: where, bytes: 0 },
        timer: null,
        // the next attempt if the connection ends before MSE is done
        redial: redialFor(host, port, plaintext, retry)
      }
      peers.add(peer)
      sent.push(peer.used)
      // until the handshake: connectTimeout; then: stallTimeout without a block
      function expired () {
        if (!peer.handshook) {
          return drop(peer, peer.connected
            ? `peer ${where} sent no handshake within ${connectTimeout / 1000} s`
            : `cannot connect to peer ${where}: timed out after ${connectTimeout / 1000} s`)
        }
        let why = 'no data arrived'
        if (wire.peerChoking) why = 'the peer kept choking us'
        else if (peer.outstanding === 0) why = 'the peer has none of the missing pieces'
        drop(peer, `peer ${where} made no progress for ${stallTimeout / 1000} s: ${why}`)
      }
      peer.timer = setTimeout(expired, connectTimeout)

      socket.on('connect', () => {
        peer.connected = true
        peer.timer.refresh()
        wire.handshake(torrent.infoHash, peerId(), { fast: true }) // fast: used once the wire supports BEP 6
      })
      socket.on('error', (err) => {
        if (redialled(peer)) return
        drop(peer, peer.connected ? `connection to peer ${where} failed: ${err.message}` : connectError(err, where))
      })
      socket.on('close', () => {
        if (redialled(peer)) return
        if (!peer.handshook) drop(peer, `peer ${where} closed the connection before its handshake (does it have this torrent?)`)
        else drop(peer, `peer ${where} closed the connection with ${remaining} of ${pieceCount} pieces missing`)
      })
      wire.on('error', (err) => drop(peer, `peer ${where} broke the protocol: ${err.message}`))
      socket.pipe(wire).pipe(socket)

      wire.on('handshake', (infoHash, id, extensions) => {
        if (!Buffer.from(infoHash).equals(torrent.infoHash)) {
          return drop(peer, `wrong info hash: peer ${where} answered with ${Buffer.from(infoHash).toString('hex')}, ` +
            `the torrent's is ${torrent.infoHash.toString('hex')}`)
        }
        peer.handshook = true
        clearTimeout(peer.timer)
        peer.timer = setTimeout(expired, stallTimeout)
        onHandshake({ peer: where, client: client(id), extensions, encryption: wire.encryption })
        // BEP 6: a fast peer's first message must be a bitfield, have_all or
        // have_none (aria2 drops a peer whose first is anything else)
        if (wire.hasFast && typeof wire.haveNone === 'function') wire.haveNone()
        if (extensions.extended) wire.extended(0, { m: {}, v: CLIENT_NAME })
        wire.setTimeout(requestTimeout)
        progress()
      })
      wire.on('bitfield', () => {
        for (let i = 0; i < pieceCount; i++) if (wire.peerPieces[i]) gained(peer, i)
        fill(peer)
      })
      wire.on('have', (i) => {
        if (i < pieceCount) gained(peer, i)
        fill(peer)
      })
      wire.on('have-all', () => {
        for (let i = 0; i < pieceCount; i++) gained(peer, i)
        fill(peer)
      })
      wire.on('choke', () => {
        // pieces this peer was to finish, with no request pending there,
        // go to the others (without fast, the choke failed its requests)
        for (const piece of active.values()) if (piece.owner === peer && !pendingAt(piece, peer)) piece.owner = null
        fillAll()
      })
      wire.on('unchoke', () => fill(peer))
      wire.on('timeout', () => {
        // The oldest request timed out (its callback has run).
        if (++peer.timeoutsInARow >= maxTimeouts) {
          return drop(peer, `peer ${where} stopped answering: ${peer.timeoutsInARow} requests in a row timed out ` +
            `after ${requestTimeout / 1000} s`)
        }
        fill(peer)
      })
    }

    function redialFor (host, port, plaintext, retry) {
      const next = redial(encryption, { plaintext, retry })
      return next && { host, port, ...next }
    }

    // A peer whose connection ended after connecting but before MSE was
    // done is dialled again: in plaintext ('prefer'), or once more encrypted.
    function redialled (peer) {
      if (finished || peer.redial === null || !peer.connected || peer.wire.encryption !== null || !peers.has(peer)) return false
      peers.delete(peer)
      close(peer)
      const i = sent.indexOf(peer.used)
      if (i >= 0) sent.splice(i, 1)
      connect(peer.redial, peer.redial.plaintext, peer.redial.retry)
      return true
    }

    function gained (peer, i) {
      peer.known = true
      if (peer.has[i]) return
      peer.has[i] = 1
      availability[i]++
      if (!done[i]) peer.wanted++
      peer.nothingAt = -1
    }

    function close (peer) {
      clearTimeout(peer.timer)
      peer.wire.destroy()
      peer.socket.destroy()
    }

    // Drops a peer: its requests fail, its pieces go to the others.
    function drop (peer, reason) {
      if (finished || !peers.delete(peer)) return
      close(peer)
      reasons.push(reason)
      onPeerFailed({ peer: peer.where, reason })
      for (let i = 0; i < pieceCount; i++) if (peer.has[i]) availability[i]--
      for (const request of [...peer.requests]) release(request)
      for (const piece of active.values()) if (piece.owner === peer) piece.owner = null
      if (peers.size === 0) {
        const why = reasons.length === 1
          ? reasons[0]
          : `no peer can finish the download (${remaining} of ${pieceCount} pieces missing): ${reasons.join('; ')}`
        return finish(new Failure(why))
      }
      progress()
      fillAll()
    }

    // --- pieces and blocks ---------------------------------------------------

    function start (index, owner) {
      const length = torrent.pieceSize(index)
      const blocks = []
      for (let offset = 0; offset < length; offset += BLOCK_LENGTH) {
        blocks.push({ index, offset, length: Math.min(BLOCK_LENGTH, length - offset), got: false, askers: new Set() })
      }
      const piece = { index, length, buffer: Buffer.allocUnsafe(length), blocks, got: 0, owner, from: new Set() }
      active.set(index, piece)
      unstarted--
      return piece
    }

    function pendingAt (piece, peer) {
      return piece.blocks.some((b) => b.askers.has(peer))
    }

    function unasked (piece) {
      return piece.blocks.find((b) => !b.got && b.askers.size === 0) || null
    }

    // Whether `peer` should not get `index` because it sent it corrupt and
    // another live peer has it, or may have it (its pieces are not known yet).
    function avoid (peer, index) {
      const bad = corruptFrom.get(index)
      if (!bad || !bad.has(peer)) return false
      for (const other of peers) if (other !== peer && !bad.has(other) && (other.has[index] || !other.known)) return true
      return false
    }

    // The next block to ask `peer` for, or null.
    function nextBlock (peer) {
      for (const piece of active.values()) {
        if (piece.owner === peer) {
          const block = unasked(piece)
          if (block) return block
        }
      }
      for (const piece of active.values()) { // pieces a dropped or choking peer left
        if (piece.owner === null && peer.has[piece.index] && !avoid(peer, piece.index)) {
          const block = unasked(piece)
          if (block) {
            piece.owner = peer
            return block
          }
        }
      }
      if (unstarted > 0 && peer.nothingAt !== returned) { // the rarest piece this peer has
        while (low < pieceCount && (done[low] || active.has(low))) low++
        let best = -1
        for (let i = low; i < pieceCount; i++) {
          if (!peer.has[i] || done[i] || active.has(i) || avoid(peer, i)) continue
          if (best < 0 || availability[i] < availability[best]) best = i
          if (availability[best] <= 1) break // none is rarer
        }
        if (best >= 0) return unasked(start(best, peer))
        peer.nothingAt = returned // until it gains a piece, or one is put back
      }
      if (unstarted === 0) { // endgame: blocks another peer was asked for
        for (const piece of active.values()) {
          if (!peer.has[piece.index]) continue
          for (const block of piece.blocks) {
            if (!block.got && !block.askers.has(peer) && block.askers.size < MAX_ASKERS) return block
          }
        }
      }
      return null
    }

    function fillAll () {
      for (const peer of peers) fill(peer)
    }

    function fill (peer) {
      if (finished || !peer.handshook || !peers.has(peer)) return
      const wire = peer.wire
      const wanted = peer.wanted > 0
      if (wanted && !peer.interested) {
        peer.interested = true
        wire.interested()
      } else if (!wanted && peer.interested) {
        peer.interested = false
        wire.uninterested()
      }
      while (!wire.peerChoking && peer.outstanding < peer.pipeline) {
        const block = nextBlock(peer)
        if (!block) break
        ask(peer, block)
        if (!peers.has(peer)) return
      }
    }

    function ask (peer, block) {
      const request = { peer, block, pending: true }
      block.askers.add(peer)
      peer.requests.add(request)
      peer.outstanding++
      peer.wire.request(block.index, block.offset, block.length, (err, data) => answered(request, err, data))
    }

    // A request is over (answered, failed, cancelled, or its peer dropped).
    function release (request) {
      if (!request.pending) return false
      request.pending = false
      request.peer.requests.delete(request)
      request.peer.outstanding--
      request.block.askers.delete(request.peer)
      return true
    }

    function answered (request, err, data) {
      if (!release(request) || finished) return
      const { peer, block } = request
      if (err) {
        // 'peer is choking' (asked again after the unchoke, or by another
        // peer), 'request has timed out', 'request was rejected' (fast),
        // 'request was cancelled': the block is asked again
        if (err.message === 'request has timed out') peer.wire.cancel(block.index, block.offset, block.length)
        if (err.message === 'request was rejected') {
          const piece = active.get(block.index)
          if (piece && piece.owner === peer) piece.owner = null
        }
        return fillAll()
      }
      peer.timeoutsInARow = 0
      peer.timer.refresh()
      const piece = active.get(block.index)
      if (!piece || block.got) return fill(peer) // an endgame duplicate, or a piece already done
      if (data.length !== block.length) {
        return drop(peer, `peer ${peer.where} sent ${data.length} bytes for a block of ${block.length}`)
      }
      block.got = true
      for (const other of [...block.askers]) { // endgame: cancel the other request
        for (const r of other.requests) {
          if (r.block === block && release(r)) other.wire.cancel(block.index, block.offset, block.length)
        }
      }
      data.copy(piece.buffer, block.offset)
      peer.used.bytes += data.length
      piece.got += data.length
      piece.from.add(peer)
      if (piece.got === piece.length) verify(piece)
      if (!finished) fillAll()
    }

    function verify (piece) {
      active.delete(piece.index)
      if (!torrent.pieceMatches(piece.index, piece.buffer)) {
        const senders = [...piece.from].map((p) => p.where).join(', ')
        if (++attempts[piece.index] >= maxPieceAttempts) {
          return finish(new Failure(`piece ${piece.index} failed its SHA-1 check ${attempts[piece.index]} times: ` +
            `peer ${senders} sends corrupt data`))
        }
        if (!corruptFrom.has(piece.index)) corruptFrom.set(piece.index, new Set())
        for (const p of piece.from) corruptFrom.get(piece.index).add(p)
        unstarted++ // download it again
        returned++
        low = Math.min(low, piece.index)
        // a peer that keeps sending corrupt data is dropped while others are left
        for (const p of piece.from) {
          if (++p.corrupt >= maxPieceAttempts && peers.size > 1) drop(p, `peer ${p.where} sent ${p.corrupt} corrupt pieces`)
        }
        return
      }
      try {
        storage.write(piece.index * torrent.pieceLength, piece.buffer)
      } catch (err) {
        return finish(new Failure(`cannot write piece ${piece.index}: ${err.message}`))
      }
      done[piece.index] = 1
      for (const peer of peers) if (peer.has[piece.index]) peer.wanted--
      remaining--
      verifiedBytes += piece.length
      for (const peer of peers) if (peer.handshook) peer.wire.have(piece.index)
      progress()
      if (remaining === 0) {
        const seconds = (Date.now() - started) / 1000
        finish(null, { bytes: verifiedBytes, seconds, peers: sent, dropped: reasons, corrupt: sum(attempts) })
      }
    }

    for (const address of addresses) connect(address)
    if (pieceCount === 0) finish(null, { bytes: 0, seconds: 0, peers: sent, dropped: [], corrupt: 0 })
  })
}

function sum (array) {
  let n = 0
  for (const v of array) n += v
  return n
}

module.exports = { download }
