'use strict'

// Every example in examples/ runs as a user would run it, to its end.

const test = require('node:test')
const assert = require('node:assert')
const { execFile } = require('child_process')
const path = require('path')

const EXAMPLES = path.join(__dirname, '..', 'examples')

function run (file) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(EXAMPLES, file)], { timeout: 10000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code ?? err.signal : 0, stdout, stderr })
    })
  })
}

test('one-piece.js: seeds one piece over TCP and downloads it, SHA-1 checked', async () => {
  const r = await run('one-piece.js')
  assert.strictEqual(r.code, 0, r.stderr)
  assert.strictEqual(r.stdout, 'downloaded piece 0: 32768 bytes, SHA-1 ok\n')
  assert.strictEqual(r.stderr, '')
})
