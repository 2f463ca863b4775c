'use strict'

// Nagle's algorithm: a wire turns it off on the net.Socket it meets, piped
// either way (`socket.pipe(wire)`, `wire.pipe(socket)`), connected or not,
// unless made with `{ noDelay: false }`. Observed by wrapping the socket's
// own setNoDelay, which still runs.

const test = require('node:test')
const assert = require('node:assert')
const net = require('net')
const { Duplex, PassThrough } = require('stream')
const pwp = require('..')

// Records each call of socket.setNoDelay, then does what it does.
function spy (socket) {
  const calls = []
  const setNoDelay = socket.setNoDelay
  socket.setNoDelay = function (...args) {
    calls.push(args)
    return setNoDelay.apply(this, args)
  }
  return calls
}

// A connected pair of loopback sockets; closed after the test.
async function pair (t) {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const accepted = new Promise((resolve) => server.once('connection', resolve))
  const client = net.connect(server.address().port, '127.0.0.1')
  await new Promise((resolve) => client.once('connect', resolve))
  const remote = await accepted
  t.after(() => {
    client.destroy()
    remote.destroy()
    server.close()
  })
  return [client, remote]
}

test('socket.pipe(wire) turns Nagle off on the socket', async (t) => {
  const [socket] = await pair(t)
  const calls = spy(socket)
  socket.pipe(pwp())
  assert.deepStrictEqual(calls, [[true]])
})

test('wire.pipe(socket) turns Nagle off on the socket', async (t) => {
  const [socket] = await pair(t)
  const calls = spy(socket)
  pwp().pipe(socket)
  assert.deepStrictEqual(calls, [[true]])
})

test('socket.pipe(wire).pipe(socket): the socket ends up with Nagle off', async (t) => {
  const [socket] = await pair(t)
  const calls = spy(socket)
  socket.pipe(pwp()).pipe(socket)
  assert.ok(calls.length >= 1)
  assert.ok(calls.every((args) => args[0] === true))
})

test('a socket not yet connected gets the call too (Node keeps it for the connection)', async (t) => {
  const server = net.createServer((s) => s.destroy())
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const socket = new net.Socket()
  t.after(() => socket.destroy())
  const calls = spy(socket)
  const wire = pwp()
  socket.pipe(wire).pipe(socket)
  assert.ok(calls.length >= 1)
  assert.ok(calls.every((args) => args[0] === true))
  socket.on('error', () => {})
  await new Promise((resolve) => socket.connect(server.address().port, '127.0.0.1', resolve))
})

test('{ noDelay: false } leaves the socket alone, both ways', async (t) => {
  const [socket] = await pair(t)
  const calls = spy(socket)
  const wire = pwp({ noDelay: false })
  socket.pipe(wire).pipe(socket)
  assert.deepStrictEqual(calls, [])
})

test('{ noDelay: true } is the default', async (t) => {
  const [socket] = await pair(t)
  const calls = spy(socket)
  socket.pipe(pwp({ noDelay: true }))
  assert.deepStrictEqual(calls, [[true]])
})

test('a stream with no setNoDelay is piped as before', async () => {
  const wire = pwp()
  const through = new PassThrough() // has cork/uncork, no setNoDelay
  through.pipe(wire).pipe(through)
  wire.have(3)
  const [chunk] = await new Promise((resolve) => wire.once('data', (...args) => resolve(args)))
  assert.deepStrictEqual([...chunk], [0, 0, 0, 5, 4, 0, 0, 0, 3])
  // Another wire is no socket either.
  const other = pwp()
  wire.pipe(other).pipe(wire)
})

test('a duck-typed socket (any stream with setNoDelay) gets setNoDelay(true)', () => {
  const duplex = new Duplex({ read () {}, write (chunk, enc, cb) { cb() } })
  const calls = []
  duplex.setNoDelay = function (...args) { calls.push(args); return this }
  const wire = pwp()
  duplex.pipe(wire)
  wire.pipe(duplex)
  assert.deepStrictEqual(calls, [[true], [true]])
})

test('noDelay must be a boolean', () => {
  for (const value of [0, 1, 'true', null, {}]) {
    assert.throws(() => pwp({ noDelay: value }), {
      name: 'TypeError',
      message: `opts.noDelay must be a boolean, got ${value === null ? 'null' : typeof value}`
    })
  }
  assert.doesNotThrow(() => pwp({ noDelay: undefined }))
})
