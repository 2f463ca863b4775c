'use strict'

// Where a torrent's bytes live: files on disk, or one Buffer in memory.
// Both read and write whole byte ranges of the torrent; pad files (BEP 47)
// read as zeros and are never written.

const fs = require('fs')
const path = require('path')
const { Failure } = require('./failure')

class MemoryStorage {
  constructor (buffer) {
    this.buffer = buffer
  }

  read (offset, length) {
    return this.buffer.subarray(offset, offset + length)
  }

  write (offset, data) {
    data.copy(this.buffer, offset)
  }

  close () {}
}

class FileStorage {
  // `locate(file)` is where a file of the torrent is on disk. With `write`,
  // the files are created (or truncated) at their lengths; without, they
  // must exist with their lengths.
  constructor (torrent, locate, { write = false } = {}) {
    this.files = torrent.files
    this.fds = []
    for (const file of this.files) {
      if (file.pad) {
        this.fds.push(-1)
        continue
      }
      const where = locate(file)
      try {
        if (write) {
          fs.mkdirSync(path.dirname(where), { recursive: true })
          const fd = fs.openSync(where, 'w+')
          fs.ftruncateSync(fd, file.length)
          this.fds.push(fd)
        } else {
          const size = fs.statSync(where).size
          if (size !== file.length) throw new Failure(`${where} has ${size} bytes, the torrent says ${file.length}`)
          this.fds.push(fs.openSync(where, 'r'))
        }
      } catch (err) {
        this.close()
        if (err instanceof Failure) throw err
        throw new Failure(`cannot open ${where}: ${err.message}`)
      }
    }
  }

  // Calls fn(fd, position, at, count) for each file range in [offset, offset + length).
  _span (start, length, fn) {
    const end = start + length
    let offset = start
    let lo = 0
    let hi = this.files.length - 1
    while (lo < hi) { // the last file starting at or before offset
      const mid = (lo + hi + 1) >> 1
      if (this.files[mid].offset <= start) lo = mid
      else hi = mid - 1
    }
    for (let i = lo; i < this.files.length && offset < end; i++) {
      const file = this.files[i]
      const from = Math.max(offset, file.offset)
      const to = Math.min(end, file.offset + file.length)
      if (to <= from) continue
      fn(this.fds[i], from - file.offset, from - start, to - from)
      offset = to
    }
  }

  read (offset, length) {
    const out = Buffer.alloc(length)
    this._span(offset, length, (fd, position, at, count) => {
      if (fd < 0) return // pad file: zeros
      let done = 0
      while (done < count) {
        const n = fs.readSync(fd, out, at + done, count - done, position + done)
        if (n === 0) throw new Failure('a file of the torrent got shorter while seeding')
        done += n
      }
    })
    return out
  }

  write (offset, data) {
    this._span(offset, data.length, (fd, position, at, count) => {
      if (fd < 0) return
      let done = 0
      while (done < count) done += fs.writeSync(fd, data, at + done, count - done, position + done)
    })
  }

  close () {
    for (const fd of this.fds) if (fd >= 0) fs.closeSync(fd)
    this.fds = []
  }
}

module.exports = { MemoryStorage, FileStorage }
