'use strict'

// package-lock.json is complete for every platform, not only this one.
//
// npm writes a lock from the tree it has in memory. When that tree was loaded
// from an existing node_modules, the optional packages npm skipped for this
// platform (the other platforms' binaries of @napi-rs/cli's tar, lzma and
// wasm-tools, say) are not in it, and neither are they in the lock: `npm ci`
// on another platform then installs an incomplete tree, and `npm install` on
// a fresh clone here rewrites the lock to fill the gap, leaving the clone
// dirty. This test fails on such a lock and names what is missing: every
// dependency and optional dependency of every entry must resolve, the way
// node resolves it (nearest node_modules up the path), to an entry of the lock.
//
// Fix a failure with `npm install` in a clone that has package-lock.json (it
// resolves the gaps from the registry at the versions already locked) and
// commit the lock; do not delete the lock over an existing node_modules.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'))
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const packages = lock.packages

// The lock path `name` resolves to from the entry at `from`, or null.
function resolve (from, name) {
  let dir = from
  for (;;) {
    const candidate = (dir ? dir + '/' : '') + 'node_modules/' + name
    if (packages[candidate]) return candidate
    if (!dir) return null
    const i = dir.lastIndexOf('/node_modules/')
    dir = i < 0 ? '' : dir.slice(0, i)
  }
}

test('the lock is lockfileVersion 3 and its root matches package.json', () => {
  assert.strictEqual(lock.lockfileVersion, 3)
  const rootEntry = packages['']
  for (const kind of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    assert.deepStrictEqual(rootEntry[kind] || {}, manifest[kind] || {}, `package-lock.json root ${kind} differ from package.json`)
  }
})

test('every dependency and optional dependency of every entry is in the lock', () => {
  const missing = []
  for (const [at, entry] of Object.entries(packages)) {
    if (entry.link) continue
    for (const kind of ['dependencies', 'optionalDependencies']) {
      for (const name of Object.keys(entry[kind] || {})) {
        if (!resolve(at, name)) missing.push(`${at || '(root)'} -> ${name} (${kind})`)
      }
    }
  }
  assert.deepStrictEqual(missing, [], 'package-lock.json lacks entries (run `npm install` with the lock in place and commit it):\n' + missing.join('\n'))
})

test('platform-specific packages are locked for other platforms too', () => {
  // Families of prebuilt binaries: a parent whose optional dependencies carry
  // os/cpu constraints. If one of them is locked, all of them are (the test
  // above), and at least one of them is for an OS other than this host's.
  const families = []
  for (const [at, entry] of Object.entries(packages)) {
    const optional = Object.keys(entry.optionalDependencies || {})
    const resolved = optional.map((name) => packages[resolve(at, name)]).filter(Boolean)
    const platformed = resolved.filter((e) => e.os || e.cpu)
    if (platformed.length >= 2) families.push({ at, platformed })
  }
  assert.ok(families.length > 0, 'expected at least one package with per-platform optional binaries (e.g. @napi-rs/tar)')
  for (const { at, platformed } of families) {
    const oses = new Set(platformed.flatMap((e) => e.os || []))
    const others = [...oses].filter((os) => os !== process.platform)
    assert.ok(others.length > 0, `${at}: only ${process.platform} binaries are locked`)
  }
})
