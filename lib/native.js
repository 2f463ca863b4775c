'use strict'

// The native engine, loaded once. Everything else reads the binding from
// here: its calls, and the constants that keep numbers out of JavaScript.

// The engine comes from napi's generated loader (binding.js): a binary built
// here (`npm run build`), or the prebuilt one in this platform's package
// (peer-wire-native-<platform>, an optional dependency of the published
// package). When none loads, its error does not say which platform it looked
// for: this one does, and what to do (napi's error stays as the cause).
function loadBinding () {
  try {
    return require('../binding.js')
  } catch (err) {
    throw bindingError(err)
  }
}

function bindingError (cause) {
  const fs = require('fs')
  const path = require('path')
  const { platform, arch } = process
  let abi = platform === 'win32' ? 'msvc' : ''
  if (platform === 'linux') {
    try {
      abi = fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl') ? 'musl' : 'gnu'
    } catch {
      const report = process.report && process.report.getReport()
      abi = report && !report.header.glibcVersionRuntime ? 'musl' : 'gnu'
    }
  }
  const id = abi ? `${platform}-${arch}-${abi}` : `${platform}-${arch}`
  const label = (name) => name.replace(/-gnu$/, ' (glibc)').replace(/-musl$/, ' (musl)').replace(/-msvc$/, '')
  const pkg = `peer-wire-native-${id}`
  const prebuilt = Object.keys(require('../package.json').optionalDependencies || {})
    .filter((name) => name.startsWith('peer-wire-native-'))
    .map((name) => name.slice('peer-wire-native-'.length))
  let installed = true
  try {
    require.resolve(`${pkg}/package.json`)
  } catch {
    installed = false
  }
  let message
  if (fs.existsSync(path.join(__dirname, '..', 'Cargo.toml'))) {
    message = `no native binary for ${label(id)} in this source checkout: build it with \`npm run build\` (needs a Rust toolchain)`
  } else if (!prebuilt.includes(id)) {
    message = `no prebuilt binary for ${label(id)}. ` +
      (prebuilt.length ? `There are prebuilt binaries for ${prebuilt.map(label).join(', ')}; on` : 'On') +
      ' another platform, build it from source with a Rust toolchain (see the README, "Develop")'
  } else if (!installed) {
    message = `the prebuilt binary for ${label(id)} is missing: its package, ${pkg}, is an optional dependency that was not installed. ` +
      'Install again without --omit=optional (or --no-optional); if npm still skips it, delete node_modules and ' +
      'package-lock.json first (https://github.com/npm/cli/issues/4828)'
  } else {
    // The first reason in napi's chain of attempts that is not "not found".
    let reason = ''
    for (let e = cause, depth = 0; e && depth < 20 && !reason; e = e.cause, depth++) {
      if (!/^Cannot find (module|native binding)/.test(e.message)) reason = e.message.split('\n')[0]
    }
    message = `the prebuilt binary for ${label(id)}, from ${pkg}, failed to load` + (reason ? `: ${reason}` : '')
  }
  const err = new Error(`peer-wire-native: ${message}`)
  err.code = 'ERR_PEER_WIRE_NATIVE_BINDING'
  err.cause = cause
  return err
}

module.exports = loadBinding()
