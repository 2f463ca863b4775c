'use strict'

// Runs the test files shipped with the reference implementation
// (node_modules/peer-wire-protocol/tests/test-*.js) against this package.
//
// Each file is copied into __test__/.reference/ (inside the repo, so that its
// own `require('buffer-from')` resolves from /work/main/node_modules) with only
// its `require('../index')` rewritten to require this package's root, then run
// in a child process; it must exit with code 0.
//
// PWN_IMPL selects the module under test like in differential.test.js (resolved
// from this folder; defaults to the package root '..'). To check the harness
// itself: PWN_IMPL=peer-wire-protocol node --test __test__/reference.test.js

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const REF_TESTS = path.join(ROOT, 'node_modules', 'peer-wire-protocol', 'tests')
// Copies go to __test__/.reference/<pid>/ (gitignored): a folder of this run's
// own, so that two test runs in the same checkout cannot delete each other's.
const BASE = path.join(__dirname, '.reference')
const WORK = path.join(BASE, String(process.pid))
const TIMEOUT = 20000

// What the copies require: the package root (absolute path), or PWN_IMPL.
const TARGET = process.env.PWN_IMPL
  ? path.dirname(require.resolve(path.join(process.env.PWN_IMPL, 'package.json'), { paths: [__dirname] }))
  : ROOT

const FILES = fs.readdirSync(REF_TESTS).filter((f) => /^test-.*\.js$/.test(f)).sort()

const REQUIRE_RE = /require\((['"])\.\.\/index\1\)/g

function rewrite (source, file) {
  const hits = source.match(REQUIRE_RE)
  assert.equal(hits && hits.length, 1, `${file}: expected exactly one require('../index')`)
  return source.replace(REQUIRE_RE, () => `require(${JSON.stringify(TARGET)})`)
}

before(() => {
  fs.rmSync(WORK, { recursive: true, force: true })
  fs.mkdirSync(WORK, { recursive: true })
})

after(() => {
  fs.rmSync(WORK, { recursive: true, force: true })
  try { fs.rmdirSync(BASE) } catch {} // only if no other run is using it
})

test('the reference ships the 4 expected test files', () => {
  assert.deepEqual(FILES, ['test-notimeout.js', 'test-protocol.js', 'test-timeout-destroy.js', 'test-timeout.js'])
})

// The files are independent processes: run them side by side.
describe('reference test files', { concurrency: true }, () => {
  for (const file of FILES) {
    test(file, async () => {
      const source = fs.readFileSync(path.join(REF_TESTS, file), 'utf8')
      // Renamed so that a copy left behind by a killed run is not itself
      // picked up as a test file by `node --test`.
      const dest = path.join(WORK, 'copy-of-' + file)
      fs.writeFileSync(dest, rewrite(source, file))

      const result = await new Promise((resolve) => {
        execFile(process.execPath, [dest], { cwd: ROOT, timeout: TIMEOUT }, (err, stdout, stderr) => {
          resolve({
            code: err ? err.code : 0,
            signal: err ? err.signal : null,
            killed: err ? err.killed : false,
            stdout,
            stderr
          })
        })
      })
      assert.equal(result.code, 0,
        `${file} exited with ${result.code}` +
        (result.signal ? ` (signal ${result.signal}${result.killed ? ', killed after timeout' : ''})` : '') +
        `\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`)
    })
  }
})
