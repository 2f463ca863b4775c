'use strict'

// A fresh folder under the system's temporary one for a test, removed after
// it (not a test file itself).

const fs = require('fs')
const os = require('os')
const path = require('path')

function tmpdir (t, prefix = 'pwn-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

module.exports = { tmpdir }
