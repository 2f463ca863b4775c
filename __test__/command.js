'use strict'

// The command (bin/peer-wire-native.js) as its tests run it (not a test file
// itself): to its end, or `seed` in the background until the test ends; a
// torrent built here, independent of the command's own torrent code; a wait
// for a client's download to reach the payload's SHA-1.

const { spawn } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const assert = require('assert')
const bencode = require('bencode')
const { payload } = require('./libtorrent')

const CLI = path.join(__dirname, '..', 'bin', 'peer-wire-native.js')

function sha1 (data) {
  return crypto.createHash('sha1').update(data).digest('hex')
}

// Runs the command to its end; rejects if it runs longer than `timeout`.
function run (args, { timeout = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`peer-wire-native ${args.join(' ')} ran over ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeout)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

// Starts `seed` and resolves with its port once it listens; killed after the
// test (or when this process exits first).
function startSeed (t, args, { timeout = 20000 } = {}) {
  const child = spawn(process.execPath, [CLI, 'seed', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  t.after(() => {
    kill()
    process.removeListener('exit', kill)
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`seed did not listen within ${timeout} ms\n${stdout}${stderr}`)), timeout)
    child.stdout.on('data', (d) => {
      stdout += d
      const m = /seeding on 127\.0\.0\.1:(\d+)/.exec(stdout)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`seed exited with ${code} before listening\n${stdout}${stderr}`))
    })
  })
  // resolves once what seed printed matches `pattern`
  function printed (pattern, { timeout = 30000 } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(stdout + stderr)) return done(null)
        if (child.exitCode !== null || child.signalCode !== null) done(new Error(`seed exited before printing ${pattern}`))
      }
      const timer = setTimeout(() => done(new Error(`seed did not print ${pattern} within ${timeout} ms`)), timeout)
      function done (err) {
        clearTimeout(timer)
        child.stdout.removeListener('data', check)
        child.stderr.removeListener('data', check)
        child.removeListener('exit', check)
        if (err) {
          err.message += `\n${stdout}${stderr}`
          reject(err)
        } else {
          resolve(stdout + stderr)
        }
      }
      child.stdout.on('data', check)
      child.stderr.on('data', check)
      child.on('exit', check)
      check()
    })
  }
  return { child, port, output: () => stdout + stderr, printed }
}

// A torrent built here (so these tests do not depend on the command's own
// torrent code): files is [{ path: [...], data }]; one file without a
// path is a single-file torrent.
function makeTorrent (name, files, pieceLength = 32768) {
  const all = Buffer.concat(files.map((f) => f.data))
  const pieces = []
  for (let at = 0; at < all.length; at += pieceLength) {
    pieces.push(crypto.createHash('sha1').update(all.subarray(at, at + pieceLength)).digest())
  }
  const info = { name, 'piece length': pieceLength, pieces: Buffer.concat(pieces) }
  if (files.length === 1 && !files[0].path) info.length = all.length
  else info.files = files.map((f) => ({ length: f.data.length, path: f.path }))
  return {
    file: bencode.encode({ info }),
    infoHash: crypto.createHash('sha1').update(bencode.encode(info)).digest(),
    data: all,
    pieceLength,
    pieceCount: pieces.length
  }
}

// Resolves once `file` exists with the SHA-1 `digest` (polled: a client
// writes its download in place, or under another name until complete);
// rejects after `timeout` ms with what `output()` says.
function fileReaches (file, digest, { timeout, output }) {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const poll = () => {
      let now = null
      try { now = sha1(fs.readFileSync(file)) } catch (err) {}
      if (now === digest) return resolve(Date.now() - start)
      if (Date.now() - start > timeout) {
        return reject(new Error(`${file} did not reach SHA-1 ${digest} within ${timeout} ms (now ${now})\n${output()}`))
      }
      setTimeout(poll, 250)
    }
    poll()
  })
}

// Files of a multi-file torrent written under `root`, and checked there.
function writeFiles (root, files) {
  for (const f of files) {
    const where = path.join(root, ...f.path)
    fs.mkdirSync(path.dirname(where), { recursive: true })
    fs.writeFileSync(where, f.data)
  }
}

function sameFiles (root, files) {
  for (const f of files) {
    const where = path.join(root, ...f.path)
    assert.ok(fs.readFileSync(where).equals(f.data), `${where} differs`)
  }
}

// A multi-file torrent's files: several folders deep, one of them empty.
const ALBUM = [
  { path: ['one.bin'], data: payload(300001, 11) },
  { path: ['empty'], data: Buffer.alloc(0) },
  { path: ['sub', 'two.txt'], data: payload(70000, 12) },
  { path: ['sub', 'deeper', 'three'], data: payload(5, 13) },
  { path: ['four.bin'], data: payload(500000, 14) }
]

module.exports = { CLI, run, startSeed, makeTorrent, fileReaches, writeFiles, sameFiles, ALBUM }
