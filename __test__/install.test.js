'use strict'

// `npm install peer-wire-native` as users run it, end to end, on this machine.
//
// A real npm registry (verdaccio, __test__/registry.js) is started on
// 127.0.0.1 with its storage in a temporary folder and no uplinks: it serves
// only what this test publishes to it. The release is then made the way
// package.json says (`npm run artifacts`, `npm run prepublishOnly`, that is
// `napi artifacts` and `napi pre-publish`, then `npm publish`) from a staged
// copy of the package as `npm pack` makes it, and the runtime dependencies
// are published from this repository's node_modules. Then, in fresh projects
// whose PATH has no cargo or rustc:
//
// - `npm install peer-wire-native`, and
// - `npm install peer-wire-protocol@npm:peer-wire-native buffer-from`
//
// each get the binary of this host's platform package and no other, and
// require(), import, the TypeScript typings (CommonJS and ESM) and the bin
// work from the installed package; the reference's own tests
// (peer-wire-protocol 0.7.1's tests/test-*.js) pass with
// require('peer-wire-protocol') resolving to the alias. A platform with no
// binary, a platform package left out and a broken binary each fail with an
// error naming the platform.
//
// Only this host's binary is real (the one `npm run build` made). The napi CLI
// insists on an artifact for every target in package.json `napi.targets`, so
// the others are published to this throwaway registry as placeholder files;
// the test checks that npm installs none of them here.
//
// The registry is stopped and the temporary folder removed whatever the
// outcome (after hooks, and on exit); every child process has a timeout.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const { spawn } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const NAME = PKG.name
const BINARY = PKG.napi.binaryName
const BIN = path.join(ROOT, 'node_modules', '.bin')
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const REF_TESTS = path.join(ROOT, 'node_modules', 'peer-wire-protocol', 'tests')

const STEP_TIMEOUT = 60000 // one npm or napi command
const RUN_TIMEOUT = 30000 // one node program in an installed project
const REGISTRY_TIMEOUT = 30000 // verdaccio starting

// This host's platform as napi names it (the suffix of the platform packages
// and of the binary's file name), and as the load error words it.
function hostPlatform () {
  const { platform, arch } = process
  if (platform === 'win32') return `${platform}-${arch}-msvc`
  if (platform !== 'linux') return `${platform}-${arch}`
  const report = process.report.getReport()
  return `${platform}-${arch}-${report.header.glibcVersionRuntime ? 'gnu' : 'musl'}`
}
function label (platform) {
  return platform.replace(/-gnu$/, ' (glibc)').replace(/-musl$/, ' (musl)').replace(/-msvc$/, '')
}
const HOST = hostPlatform()
// The platform packages, one folder per target (napi create-npm-dirs).
const PLATFORMS = fs.readdirSync(path.join(ROOT, 'npm')).sort()
const HOST_BINARY = path.join(ROOT, `${BINARY}.${HOST}.node`)

// Runs a command; resolves with its output, rejects with all of it (and why)
// when it fails or outlives its timeout. Each runs in a process group of its
// own, so that a timeout (or this process ending) kills what it started too,
// such as the `npm publish` that `napi pre-publish` runs.
const active = new Set()
function killGroup (child) {
  try {
    process.kill(process.platform === 'win32' ? child.pid : -child.pid, 'SIGKILL')
  } catch {}
}
function run (file, args, { cwd, env, timeout = STEP_TIMEOUT } = {}) {
  const command = `\`${[file, ...args].join(' ')}\` in ${cwd}`
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, detached: process.platform !== 'win32', stdio: ['ignore', 'pipe', 'pipe'] })
    active.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (data) => { stdout += data })
    child.stderr.setEncoding('utf8').on('data', (data) => { stderr += data })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child)
    }, timeout)
    child.on('error', (err) => {
      clearTimeout(timer)
      active.delete(child)
      reject(new Error(`${command} did not start: ${err.message}`))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      active.delete(child)
      if (code === 0 && !timedOut) return resolve({ stdout, stderr })
      const why = timedOut ? `killed after its ${timeout} ms timeout` : `exit code ${code}${signal ? `, signal ${signal}` : ''}`
      reject(new Error(`${command} failed (${why})\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    })
  })
}

// Runs a command that must fail; resolves with its output.
function runFailing (file, args, opts) {
  return run(file, args, opts).then(
    ({ stdout, stderr }) => { throw new Error(`\`${[file, ...args].join(' ')}\` succeeded but should have failed\nstdout:\n${stdout}\nstderr:\n${stderr}`) },
    (err) => err.message
  )
}

function request (method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body))
    const req = http.request(url, {
      method,
      timeout: 10000,
      headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {}
    }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)))
    req.on('error', reject)
    req.end(data)
  })
}

function readJson (file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

// The package folder Node would find for `name` from `fromDir`.
function packageDir (name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name)
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate
    if (dir === path.dirname(dir)) throw new Error(`${name} is not installed (looked from ${fromDir})`)
  }
}

// The installed folders of these packages and of everything they depend on.
function dependencyClosure (names) {
  const dirs = new Map() // name@version -> folder
  const queue = names.map((name) => [name, ROOT])
  while (queue.length) {
    const [name, from] = queue.shift()
    const dir = packageDir(name, from)
    const manifest = readJson(path.join(dir, 'package.json'))
    const id = `${manifest.name}@${manifest.version}`
    if (dirs.has(id)) continue
    dirs.set(id, dir)
    for (const dep of Object.keys(manifest.dependencies || {})) queue.push([dep, dir])
  }
  return [...dirs.values()]
}

// Runs `fn` over `items`, `limit` at a time.
async function eachLimit (items, limit, fn) {
  const queue = items.slice()
  const workers = Array.from({ length: limit }, async () => {
    while (queue.length) await fn(queue.shift())
  })
  await Promise.all(workers)
}

let TMP = null // everything this test writes
let registry = null // the verdaccio child process
let registryLog = ''
let REGISTRY = null // its URL
let ENV = null // the environment of every npm/node child: no Rust, this registry only

function stopRegistry () {
  if (registry && registry.exitCode === null && registry.signalCode === null) registry.kill('SIGKILL')
}
function removeTmp () {
  if (TMP) fs.rmSync(TMP, { recursive: true, force: true })
}
// If the run is cut short, the registry and the files still go. (Killed
// outright, the registry still exits: it watches its IPC channel.)
function cleanUp () {
  for (const child of active) killGroup(child)
  stopRegistry()
  removeTmp()
}
process.on('exit', cleanUp)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp()
    process.kill(process.pid, signal)
  })
}

function startRegistry (dir) {
  return new Promise((resolve, reject) => {
    registry = spawn(process.execPath, [path.join(__dirname, 'registry.js'), dir], {
      cwd: ROOT,
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    let out = ''
    const timer = setTimeout(() => fail(new Error(`the registry did not start within ${REGISTRY_TIMEOUT} ms`)), REGISTRY_TIMEOUT)
    function fail (err) {
      clearTimeout(timer)
      stopRegistry()
      reject(new Error(`${err.message}\nregistry output:\n${registryLog}`))
    }
    registry.stdout.on('data', (chunk) => {
      registryLog += chunk
      if (REGISTRY) return
      out += chunk
      const line = out.split('\n')[0]
      if (out.includes('\n')) {
        clearTimeout(timer)
        try {
          const { port } = JSON.parse(line)
          REGISTRY = `http://127.0.0.1:${port}/`
          resolve()
        } catch (err) {
          fail(err)
        }
      }
    })
    registry.stderr.on('data', (chunk) => { registryLog += chunk })
    registry.on('error', fail)
    registry.on('exit', (code, signal) => {
      if (!REGISTRY) fail(new Error(`the registry exited (code ${code}, signal ${signal}) before listening`))
    })
  })
}

// A PATH with node, npm and npx, and without any folder holding cargo or
// rustc: a user's machine with no Rust toolchain. Also without what `npm
// test` put in front (this repository's node_modules/.bin, npm's
// node-gyp-bin): the projects get nothing from here.
function pathWithoutRust (binDir) {
  const rust = ['cargo', 'rustc', 'rustup'].flatMap((tool) => process.platform === 'win32' ? [tool + '.exe'] : [tool])
  const dirs = (process.env.PATH || '').split(path.delimiter).filter((dir) =>
    dir && !rust.some((tool) => fs.existsSync(path.join(dir, tool))) &&
    !(path.resolve(dir) + path.sep).startsWith(ROOT + path.sep) && path.basename(dir) !== 'node-gyp-bin')
  fs.mkdirSync(binDir, { recursive: true })
  fs.symlinkSync(process.execPath, path.join(binDir, 'node'))
  for (const tool of ['npm', 'npx']) {
    const found = (process.env.PATH || '').split(path.delimiter).map((dir) => path.join(dir, tool)).find((file) => fs.existsSync(file))
    assert.ok(found, `${tool} is not on PATH`)
    fs.symlinkSync(found, path.join(binDir, tool))
  }
  return [binDir, ...dirs].join(path.delimiter)
}

function childEnv (pathValue) {
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    // npm run's own settings (npm_config_*, npm_package_*, ...) and the test
    // runner's would leak into the child npm and node processes.
    if (/^npm_/i.test(key) || key === 'NODE_TEST_CONTEXT' || key === 'NODE_OPTIONS') continue
    env[key] = value
  }
  env.PATH = pathValue
  env.npm_config_userconfig = path.join(TMP, 'npmrc')
  env.npm_config_globalconfig = path.join(TMP, 'global-npmrc')
  env.npm_config_cache = path.join(TMP, 'npm-cache')
  env.TMPDIR = path.join(TMP, 'tmp')
  return env
}

const npm = (args, cwd, opts) => run('npm', args, { cwd, env: ENV, ...opts })

// Writes a fresh project and installs `specs` into it from the registry.
async function project (name, specs) {
  const dir = path.join(TMP, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }, null, 2))
  await npm(['install', '--no-audit', '--no-fund', ...specs], dir)
  return dir
}

// A handshake and a have between two wires piped to each other, and the
// binary that served them: the same program as CommonJS and as ESM.
const SMOKE_BODY = `
const loaded = () => Object.keys(require.cache).filter((file) => file.endsWith('.node'))
const a = pwp()
const b = pwp()
a.pipe(b).pipe(a)
const timer = setTimeout(() => { console.error('no have within 10 s'); process.exit(1) }, 10000)
b.on('handshake', (infoHash, peerId) => {
  b.handshake(infoHash, peerId)
  a.have(7)
})
b.on('have', (index) => {
  clearTimeout(timer)
  console.log(JSON.stringify({ type: typeof pwp, index, modules: loaded(), main: require.resolve(MODULE) }))
  a.destroy()
  b.destroy()
})
a.handshake(Buffer.alloc(20, 1), Buffer.alloc(20, 2))
`
function smokeCjs (module) {
  return `'use strict'\nconst MODULE = ${JSON.stringify(module)}\nconst pwp = require(MODULE)\n${SMOKE_BODY}`
}
function smokeEsm (module) {
  return `import pwp from ${JSON.stringify(module)}\nimport { createRequire } from 'node:module'\n` +
    `const require = createRequire(import.meta.url)\nconst MODULE = ${JSON.stringify(module)}\n` +
    `if (require(MODULE) !== pwp) throw new Error('import and require give different objects')\n${SMOKE_BODY}`
}

// TypeScript against the installed typings, with @types/node from this
// repository: a CommonJS file (`import = require`) and an ES module (`import
// pwp from`), resolved through package.json "exports" (node16), each naming
// the wire's type after the import and with a mistake that must be caught (so
// the typings are really in use).
function typesCheck (module) {
  const body = `
const wire = pwp({ maxFrameLength: 1 << 20 })
const duplex: Duplex = wire
wire.handshake(Buffer.alloc(20), Buffer.alloc(20), { dht: true })
wire.on('have', (index: number) => { wire.request(index, 0, 16384, (err, block) => { if (!err && block) console.log(block.length) }) })
const choking: boolean = wire.peerChoking
const named: pwp = wire // the export's name is the wire's type
duplex.end()
console.log(choking, named.amChoking)
// @ts-expect-error a piece index is a number
wire.have('7')
`
  return {
    'check.ts': `import pwp = require(${JSON.stringify(module)})\nimport { Duplex } from 'stream'\n${body}`,
    'check-esm.mts': `import pwp from ${JSON.stringify(module)}\nimport { Duplex } from 'node:stream'\n${body}`,
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'node16',
        moduleResolution: 'node16',
        target: 'es2020',
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        skipLibCheck: false
      },
      files: ['check.ts', 'check-esm.mts']
    }, null, 2)
  }
}

// What the installed project must do, whichever name it requires.
function installedChecks (getDir, module) {
  test('the platform package of this host is installed, and no other', () => {
    const dir = getDir()
    const installed = fs.readdirSync(path.join(dir, 'node_modules')).filter((name) => name.startsWith(NAME + '-')).sort()
    assert.deepEqual(installed, [`${NAME}-${HOST}`])
    const manifest = readJson(path.join(dir, 'node_modules', module, 'package.json'))
    assert.equal(manifest.name, NAME)
    assert.equal(manifest.version, PKG.version)
  })

  for (const [file, source] of [['smoke.cjs', smokeCjs(module)], ['smoke.mjs', smokeEsm(module)]]) {
    test(`${file.endsWith('.mjs') ? 'import' : 'require()'} works, with the binary of ${NAME}-${HOST}`, async () => {
      const dir = getDir()
      fs.writeFileSync(path.join(dir, file), source)
      const { stdout } = await run('node', [file], { cwd: dir, env: ENV, timeout: RUN_TIMEOUT })
      const result = JSON.parse(stdout)
      assert.equal(result.type, 'function')
      assert.equal(result.index, 7)
      assert.deepEqual(result.modules, [path.join(fs.realpathSync(dir), 'node_modules', `${NAME}-${HOST}`, `${BINARY}.${HOST}.node`)])
      assert.equal(result.main, path.join(fs.realpathSync(dir), 'node_modules', module, 'index.js'))
    })
  }

  test('TypeScript type-checks against the installed typings (CommonJS and ESM)', async () => {
    const dir = getDir()
    for (const [file, source] of Object.entries(typesCheck(module))) fs.writeFileSync(path.join(dir, file), source)
    await run('node', [TSC, '-p', 'tsconfig.json'], { cwd: dir, env: ENV })
  })

  test(`the bin runs: npx ${NAME} demo`, async () => {
    const dir = getDir()
    const { stdout } = await run('npx', ['--no', NAME, 'demo', '--size', '8'], { cwd: dir, env: ENV, timeout: RUN_TIMEOUT })
    assert.match(stdout, /verified: all 32 pieces passed SHA-1, payload SHA-1 [0-9a-f]{40} matches/)
  })
}

test('in a source checkout, a platform with no binary says to build it', async () => {
  const script = "Object.defineProperty(process, 'platform', { value: 'freebsd' }); require(process.argv[1])"
  const message = await runFailing(process.execPath, ['-e', script, ROOT], { cwd: ROOT, timeout: RUN_TIMEOUT })
  assert.match(message, new RegExp(`peer-wire-native: no native binary for freebsd-${process.arch} in this source checkout: build it with \`npm run build\``))
})

describe('npm install from a registry', { skip: PLATFORMS.includes(HOST) ? false : `no target in package.json napi.targets for this host (${HOST})` }, () => {
  let manifest // the main package's packument, as the registry serves it

  before(async () => {
    assert.ok(fs.existsSync(HOST_BINARY), `${path.basename(HOST_BINARY)} is missing: run \`npm run build\` first`)
    TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'pwn-install-'))
    for (const dir of ['registry', 'tmp', 'deps']) fs.mkdirSync(path.join(TMP, dir))
    fs.writeFileSync(path.join(TMP, 'global-npmrc'), '')
    ENV = childEnv(pathWithoutRust(path.join(TMP, 'bin')))
    for (const tool of ['cargo', 'rustc']) {
      const found = ENV.PATH.split(path.delimiter).find((dir) => fs.existsSync(path.join(dir, tool)))
      assert.equal(found, undefined, `${tool} is still on the test's PATH`)
    }

    await startRegistry(path.join(TMP, 'registry'))
    const user = await request('PUT', `${REGISTRY}-/user/org.couchdb.user:publisher`, { name: 'publisher', password: 'publisher-password' })
    assert.equal(user.status, 201, `creating the registry user: ${user.body}`)
    const { host } = new URL(REGISTRY)
    fs.writeFileSync(path.join(TMP, 'npmrc'), [
      `registry=${REGISTRY}`,
      `//${host}/:_authToken=${JSON.parse(user.body).token}`,
      'audit=false',
      'fund=false',
      'update-notifier=false',
      // a local registry answers at once or not at all
      'fetch-retry-mintimeout=1000',
      'fetch-retry-maxtimeout=5000',
      ''
    ].join('\n'))
    ENV.npm_config_registry = REGISTRY

    // The runtime dependencies (and buffer-from, which the reference's tests
    // require), packed from this repository's node_modules.
    const deps = dependencyClosure([...Object.keys(PKG.dependencies || {}), 'buffer-from'])
    const packed = JSON.parse((await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', path.join(TMP, 'deps'), ...deps.map((dir) => './' + path.relative(ROOT, dir))], ROOT)).stdout)
    await eachLimit(packed, 3, (pack) =>
      npm(['publish', './' + pack.filename, '--ignore-scripts', '--registry', REGISTRY], path.join(TMP, 'deps')))

    // The release, from the package as npm packs it plus npm/ and the
    // artifacts: this host's binary, and placeholders for the other targets.
    const stage = path.join(TMP, 'stage')
    fs.mkdirSync(path.join(stage, 'artifacts'), { recursive: true })
    const [main] = JSON.parse((await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', TMP], ROOT)).stdout)
    await run('tar', ['-xzf', path.join(TMP, main.filename), '-C', stage, '--strip-components=1'], { cwd: TMP, env: ENV })
    fs.cpSync(path.join(ROOT, 'npm'), path.join(stage, 'npm'), { recursive: true })
    for (const platform of PLATFORMS) {
      const artifact = path.join(stage, 'artifacts', `${BINARY}.${platform}.node`)
      if (platform === HOST) fs.copyFileSync(HOST_BINARY, artifact)
      else fs.writeFileSync(artifact, `placeholder for ${platform}: not a binary (install.test.js)\n`)
    }
    // napi is run from this repository's node_modules.
    const releaseEnv = { ...ENV, PATH: BIN + path.delimiter + ENV.PATH }
    await run('npm', ['run', 'artifacts'], { cwd: stage, env: releaseEnv })
    await run('npm', ['run', 'prepublishOnly'], { cwd: stage, env: releaseEnv })
    // `prepare` (the source build) is for the repository; the stage has no
    // sources. Its prepublishOnly ran just above.
    await run('npm', ['publish', '--ignore-scripts', '--registry', REGISTRY], { cwd: stage, env: releaseEnv })

    const res = await request('GET', `${REGISTRY}${NAME}`)
    assert.equal(res.status, 200, `GET ${NAME}: ${res.body}`)
    manifest = JSON.parse(res.body)
  }, { timeout: 4 * STEP_TIMEOUT })

  after(async () => {
    if (registry && registry.exitCode === null && registry.signalCode === null) {
      const exited = new Promise((resolve) => registry.once('exit', resolve))
      registry.kill('SIGTERM')
      const timer = setTimeout(stopRegistry, 5000)
      await exited
      clearTimeout(timer)
    }
    removeTmp()
  })

  test('the published package: optionalDependencies on every platform package, no install scripts', async () => {
    const published = manifest.versions[PKG.version]
    const expected = Object.fromEntries(PLATFORMS.map((platform) => [`${NAME}-${platform}`, PKG.version]))
    assert.deepEqual(published.optionalDependencies, expected)
    assert.deepEqual(published.dependencies, PKG.dependencies)
    for (const script of ['preinstall', 'install', 'postinstall']) {
      assert.equal((published.scripts || {})[script], undefined, `a registry install would run scripts.${script}`)
    }
    for (const field of ['engines', 'license', 'repository', 'types', 'exports', 'bin']) {
      assert.deepEqual(published[field], PKG[field], field)
    }
    for (const platform of PLATFORMS) {
      const res = await request('GET', `${REGISTRY}${NAME}-${platform}`)
      assert.equal(res.status, 200, `GET ${NAME}-${platform}`)
      const pkg = JSON.parse(res.body).versions[PKG.version]
      assert.ok(pkg.os && pkg.os.length === 1 && pkg.cpu && pkg.cpu.length === 1, `${pkg.name} declares its os and cpu`)
      assert.equal(pkg.main, `${BINARY}.${platform}.node`)
    }
  })

  test('the published tarball holds what users need and nothing else', async () => {
    const tarball = manifest.versions[PKG.version].dist.tarball
    const res = await request('GET', tarball)
    assert.equal(res.status, 200)
    const file = path.join(TMP, 'published.tgz')
    fs.writeFileSync(file, res.body)
    const files = (await run('tar', ['-tzf', file], { cwd: TMP, env: ENV })).stdout
      .split('\n').filter(Boolean).map((entry) => entry.replace(/^package\//, '')).sort()
    for (const needed of ['package.json', 'README.md', 'index.js', 'index.d.ts', 'binding.js', PKG.bin[NAME]]) {
      assert.ok(files.includes(needed), `${needed} is published`)
    }
    const unwanted = files.filter((f) =>
      /^(src|__test__|benchmark|fuzz|target|npm|artifacts|\.ci)\//.test(f) || /\.(rs|node|toml|lock|tgz)$/.test(f))
    assert.deepEqual(unwanted, [], 'no tests, benchmarks, Rust sources, build output or binaries')
    // Every relative require() in the published JavaScript finds a published
    // file (but in napi's loader, binding.js, whose local files are fallbacks:
    // a binary built in place, a WebAssembly build).
    const root = fs.mkdtempSync(path.join(TMP, 'published-'))
    await run('tar', ['-xzf', file, '-C', root, '--strip-components=1'], { cwd: TMP, env: ENV })
    for (const js of files.filter((f) => f.endsWith('.js') && f !== 'binding.js')) {
      const source = fs.readFileSync(path.join(root, js), 'utf8')
      for (const [, spec] of source.matchAll(/require\(\s*'(\.{1,2}(?:\/[^']*)?)'\s*\)/g)) {
        const target = path.relative(root, path.resolve(root, path.dirname(js), spec))
        const candidates = spec === '..' || spec === '.'
          ? [path.join(target, readJson(path.join(root, target, 'package.json')).main || 'index.js')]
          : [target, target + '.js', target + '.json', path.join(target, 'index.js')]
        assert.ok(candidates.some((c) => files.includes(c.split(path.sep).join('/'))), `${js}: require('${spec}') finds no published file`)
      }
    }
  })

  describe('npm install peer-wire-native', () => {
    let dir
    before(async () => { dir = await project('direct', [NAME]) }, { timeout: STEP_TIMEOUT })
    installedChecks(() => dir, NAME)

    test('an unsupported platform, a broken binary or a skipped platform package: an error naming the platform', async () => {
      const fake = "Object.defineProperty(process, 'platform', { value: 'freebsd' }); Object.defineProperty(process, 'arch', { value: 'riscv64' }); require('peer-wire-native')"
      let message = await runFailing('node', ['-e', fake], { cwd: dir, env: ENV, timeout: RUN_TIMEOUT })
      assert.match(message, /peer-wire-native: no prebuilt binary for freebsd-riscv64\. There are prebuilt binaries for /)
      for (const platform of PLATFORMS) assert.ok(message.includes(label(platform)), `the error lists ${label(platform)}`)

      const binary = path.join(dir, 'node_modules', `${NAME}-${HOST}`, `${BINARY}.${HOST}.node`)
      const good = fs.readFileSync(binary)
      fs.writeFileSync(binary, 'not a binary\n')
      try {
        message = await runFailing('node', ['-e', "require('peer-wire-native')"], { cwd: dir, env: ENV, timeout: RUN_TIMEOUT })
      } finally {
        fs.writeFileSync(binary, good)
      }
      assert.ok(message.includes(`peer-wire-native: the prebuilt binary for ${label(HOST)}, from ${NAME}-${HOST}, failed to load: `), message)

      // What npm leaves when told to skip optional dependencies.
      await npm(['install', '--no-audit', '--no-fund', '--omit=optional'], dir)
      assert.equal(fs.existsSync(path.join(dir, 'node_modules', `${NAME}-${HOST}`)), false)
      message = await runFailing('node', ['-e', "require('peer-wire-native')"], { cwd: dir, env: ENV, timeout: RUN_TIMEOUT })
      assert.ok(message.includes(`peer-wire-native: the prebuilt binary for ${label(HOST)} is missing: its package, ${NAME}-${HOST}, is an optional dependency that was not installed.`), message)
    })
  })

  describe('npm install peer-wire-protocol@npm:peer-wire-native', () => {
    let dir
    before(async () => { dir = await project('alias', [`peer-wire-protocol@npm:${NAME}`, 'buffer-from']) }, { timeout: STEP_TIMEOUT })
    installedChecks(() => dir, 'peer-wire-protocol')

    // peer-wire-protocol 0.7.1's own tests, with require('../index') made
    // require('peer-wire-protocol'), run from the project.
    const files = fs.readdirSync(REF_TESTS).filter((f) => /^test-.*\.js$/.test(f)).sort()
    test('the reference ships the 4 expected test files', () => {
      assert.deepEqual(files, ['test-notimeout.js', 'test-protocol.js', 'test-timeout-destroy.js', 'test-timeout.js'])
    })
    describe('the reference\'s tests, with require(\'peer-wire-protocol\')', { concurrency: true }, () => {
      for (const file of files) {
        test(file, async () => {
          const source = fs.readFileSync(path.join(REF_TESTS, file), 'utf8')
          const re = /require\((['"])\.\.\/index\1\)/g
          assert.equal((source.match(re) || []).length, 1, `${file}: expected exactly one require('../index')`)
          fs.writeFileSync(path.join(dir, file), source.replace(re, "require('peer-wire-protocol')"))
          await run('node', [file], { cwd: dir, env: ENV, timeout: RUN_TIMEOUT })
        })
      }
    })
  })
})
