'use strict'

// wire.peerPieces against the reference's (npm peer-wire-protocol 0.7.1):
// a sparse Array whose indexes are set by a have (true) and by a bitfield
// (true or false for every bit it carries), and which a user may also write.
// Seeded random sequences of incoming have/bitfield messages and of user
// writes (index, length, delete, push, pop, a named property) go to both
// wires; then every reflective operation a program can apply to an Array is
// run on both and compared, thrown errors included (a Proxy whose traps
// break an invariant throws a TypeError, which shows up here as a mismatch).
//
// The messages are built by hand and written into the wires: the
// reference's bitfield() cannot send on Node >= 18 (see the README).
// Indexes stay far below 8 * (maxFrameLength - 1), past which ours keeps
// nothing. Like differential.test.js, PWN_IMPL selects the module under test.

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')

const Ref = require('peer-wire-protocol')
const Impl = require(process.env.PWN_IMPL || '..')
const { handshakeBytes, u32, frame } = require('./peer.js')
const { Rng } = require('./rng.js')

// The seeded PRNG of the differential tests, with the draws these need.
class PiecesRng extends Rng {
  index () {
    const r = this.next()
    if (r < 0.6) return this.int(64)
    if (r < 0.9) return this.int(400)
    return this.int(3000)
  }

  bitfield () {
    const b = Buffer.alloc(this.pick([0, 1, 2, 3, 8, 20, 40]))
    const fill = this.pick(['random', 0, 0xff, 'sparse'])
    for (let i = 0; i < b.length; i++) {
      if (fill === 'random') b[i] = this.int(256)
      else if (fill === 'sparse') b[i] = this.bool(0.2) ? 1 << this.int(8) : 0
      else b[i] = fill
    }
    return b
  }
}

const VALUES = [true, false, undefined, null, 0, 1, 'yes']

function genOps (rng) {
  const ops = []
  const n = rng.range(0, 14)
  for (let k = 0; k < n; k++) {
    const r = rng.next()
    if (r < 0.35) ops.push(['have', rng.index()])
    else if (r < 0.6) ops.push(['bitfield', rng.bitfield()])
    else if (r < 0.7) ops.push(['set', rng.index(), rng.pick(VALUES)])
    else if (r < 0.78) ops.push(['delete', rng.index()])
    else if (r < 0.84) ops.push(['length', rng.pick([0, 1, 7, 8, 9, 30, 100, 500])])
    else if (r < 0.9) ops.push(['push', rng.pick(VALUES)])
    else if (r < 0.95) ops.push(['pop'])
    else ops.push(['named', rng.pick(['note', 'x'])])
  }
  return ops
}

function describeOp (op) {
  return op[0] === 'bitfield' ? `bitfield ${op[1].toString('hex')}` : util.inspect(op)
}

function wireAfter (W, ops) {
  const wire = W()
  wire.on('error', () => {})
  wire.write(handshakeBytes())
  const pp = wire.peerPieces
  for (const op of ops) {
    switch (op[0]) {
      case 'have': wire.write(frame(4, u32(op[1]))); break
      case 'bitfield': wire.write(frame(5, op[1])); break
      case 'set': pp[op[1]] = op[2]; break
      case 'delete': delete pp[op[1]]; break
      case 'length': pp.length = op[1]; break
      case 'push': pp.push(op[1]); break
      case 'pop': pp.pop(); break
      case 'named': pp[op[1]] = op[1].length; break
    }
  }
  return wire
}

// An operation's result, or the error it threw.
function attempt (fn) {
  try {
    return { value: fn() }
  } catch (err) {
    return { threw: `${err.name}: ${err.message}` }
  }
}

// Every reflective operation, by name; probe: the indexes (and other keys)
// asked about one by one.
function reflect (pp, probe) {
  const keys = ['length', 'note', 'x', 'get', '-1', '01', '1.5', '4294967294', '4294967295', ...probe.map(String)]
  const ops = {
    length: () => pp.length,
    index: () => probe.map((i) => pp[i]),
    keys: () => Object.keys(pp),
    values: () => Object.values(pp),
    entries: () => Object.entries(pp),
    forIn: () => { const out = []; for (const k in pp) out.push(k); return out },
    forOf: () => { const out = []; for (const v of pp) out.push(v); return out },
    spread: () => [...pp],
    ownKeys: () => Reflect.ownKeys(pp),
    names: () => Object.getOwnPropertyNames(pp),
    symbols: () => Object.getOwnPropertySymbols(pp),
    hasOwnProperty: () => keys.map((k) => Object.prototype.hasOwnProperty.call(pp, k)),
    hasOwnPropertyMethod: () => probe.map((i) => pp.hasOwnProperty(i)), // eslint-disable-line no-prototype-builtins
    hasOwn: () => keys.map((k) => Object.hasOwn(pp, k)),
    in: () => keys.map((k) => k in pp),
    propertyIsEnumerable: () => keys.map((k) => Object.prototype.propertyIsEnumerable.call(pp, k)),
    descriptor: () => keys.map((k) => Object.getOwnPropertyDescriptor(pp, k)),
    descriptors: () => Object.getOwnPropertyDescriptors(pp),
    json: () => JSON.stringify(pp),
    jsonNested: () => JSON.stringify({ pp }),
    isArray: () => Array.isArray(pp),
    instanceOfArray: () => pp instanceof Array,
    prototype: () => Object.getPrototypeOf(pp) === Array.prototype,
    constructor: () => pp.constructor === Array,
    toStringTag: () => Object.prototype.toString.call(pp),
    isExtensible: () => Object.isExtensible(pp),
    arrayFrom: () => Array.from(pp),
    arrayFromMap: () => Array.from(pp, (v, i) => [v, i]),
    forEach: () => { const out = []; pp.forEach((v, i, a) => out.push([v, i, a === pp])); return out },
    map: () => pp.map((v, i) => [v, i]),
    filter: () => pp.filter((v, i) => i % 2 === 0 || v),
    indexOf: () => [pp.indexOf(true), pp.indexOf(false), pp.indexOf(undefined), pp.indexOf(true, 5)],
    lastIndexOf: () => [pp.lastIndexOf(true), pp.lastIndexOf(false), pp.lastIndexOf(undefined)],
    includes: () => [pp.includes(true), pp.includes(false), pp.includes(undefined), pp.includes(null)],
    find: () => [pp.find((v) => v === false), pp.findIndex((v) => v === false), pp.findLast((v) => v), pp.findLastIndex((v) => v)],
    some: () => { const seen = []; return [pp.some((v, i) => { seen.push(i); return v === false }), seen] },
    every: () => { const seen = []; return [pp.every((v, i) => { seen.push(i); return v !== false }), seen] },
    reduce: () => pp.reduce((acc, v, i) => acc.concat([[v, i]]), []),
    reduceRight: () => pp.reduceRight((acc, v, i) => acc.concat([[v, i]]), []),
    slice: () => [pp.slice(), pp.slice(3, 12), pp.slice(-5)],
    concat: () => [].concat(pp, [1]),
    join: () => [pp.join(), String(pp), pp.toString()],
    at: () => [pp.at(0), pp.at(-1)],
    iterators: () => [[...pp.keys()], [...pp.values()], [...pp.entries()]],
    flat: () => pp.flat(),
    toSorted: () => pp.toSorted(),
    inspect: () => util.inspect(pp),
    inspectShort: () => [-1, 0, 1, 3, null].map((n) => util.inspect(pp, { maxArrayLength: n, breakLength: Infinity })),
    inspectNested: () => util.inspect({ a: { pp } }, { depth: 1 }),
    inspectDeep: () => util.inspect({ a: [pp] }, { compact: false }),
    inspectColors: () => util.inspect(pp, { colors: true }),
    format: () => util.format('%O %j %s', pp, pp, pp), // not %o: it shows proxies (see the README)
    deepEqual: () => util.isDeepStrictEqual(pp, [...pp]),
    deepEqualKeys: () => util.isDeepStrictEqual(pp, Object.assign([], pp))
  }
  const out = {}
  for (const [name, fn] of Object.entries(ops)) out[name] = attempt(fn)
  return out
}

// The indexes the ops mention, their neighbours, and everything up to a bit
// past the end of the shorter arrays.
function probeFor (ops, length) {
  const s = new Set([0, 1, 2])
  for (let i = 0; i < Math.min(length + 3, 600); i++) s.add(i)
  for (const op of ops) {
    if (typeof op[1] === 'number') for (const i of [op[1] - 1, op[1], op[1] + 1]) if (i >= 0) s.add(i)
  }
  s.add(length)
  return [...s].sort((a, b) => a - b)
}

// Runs `cases` random sequences; reports the first few that differ.
function compare (seed, cases, check) {
  const rng = new PiecesRng(seed)
  const bad = []
  for (let c = 0; c < cases && bad.length < 3; c++) {
    const caseSeed = rng.u32()
    const ops = genOps(new PiecesRng(caseSeed))
    const problem = check(ops)
    if (problem) bad.push(`case seed ${caseSeed}, ops:\n    ${ops.map(describeOp).join('\n    ')}\n  ${problem}`)
  }
  assert.ok(bad.length === 0, bad.join('\n\n'))
}

// Where two results first differ, e.g. "value[3][1]: false -> undefined".
function firstDifference (a, b, path = '') {
  if (util.isDeepStrictEqual(a, b)) return null
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Reflect.ownKeys(a), ...Reflect.ownKeys(b)])) {
      const found = firstDifference(a[key], b[key], `${path}[${String(key)}]`)
      if (found) return found
    }
  }
  const show = (v) => util.inspect(v, { depth: 3, breakLength: Infinity, maxArrayLength: 12 })
  return `${path}: ${show(a)} -> ${show(b)}`
}

// The operations whose results differ, each with where (reference -> ours).
function diff (expected, actual) {
  const out = []
  for (const name of Object.keys(expected)) {
    const found = firstDifference(expected[name], actual[name])
    if (found) out.push(`${name}${found}`)
  }
  return out.join('\n  ')
}

describe('peerPieces answers every reflective operation as 0.7.1 does', () => {
  test('after random haves, bitfields and user writes (300 sequences)', () => {
    compare(404, 300, (ops) => {
      const ref = wireAfter(Ref, ops).peerPieces
      const ours = wireAfter(Impl, ops).peerPieces
      const probe = probeFor(ops, Math.max(ref.length, ours.length))
      const expected = reflect(ref, probe)
      const actual = reflect(ours, probe)
      const problem = diff(expected, actual)
      if (problem) return problem
      assert.deepStrictEqual(actual, expected)
      return null
    })
  })

  test('Array methods that write (fill, reverse, splice, sort, copyWithin, unshift, shift) (200 sequences)', () => {
    const writers = [
      (pp) => pp.fill(true, 2, 9),
      (pp) => pp.reverse(),
      (pp) => pp.splice(1, 3, false, 'x'),
      (pp) => pp.sort(),
      (pp) => pp.copyWithin(0, 4, 12),
      (pp) => pp.unshift(false, true),
      (pp) => pp.shift()
    ]
    compare(405, 200, (ops) => {
      for (const [k, write] of writers.entries()) {
        const ref = wireAfter(Ref, ops).peerPieces
        const ours = wireAfter(Impl, ops).peerPieces
        const returned = [attempt(() => write(ref)), attempt(() => write(ours))]
        const probe = probeFor(ops, Math.max(ref.length, ours.length))
        const expected = { returned: returned[0] === ref ? 'itself' : returned[0], spread: [...ref], keys: Object.keys(ref), length: ref.length }
        const actual = { returned: returned[1] === ours ? 'itself' : returned[1], spread: [...ours], keys: Object.keys(ours), length: ours.length }
        expected.index = probe.map((i) => ref[i])
        actual.index = probe.map((i) => ours[i])
        const problem = diff(expected, actual)
        if (problem) return `writer ${writers[k]}: ${problem}`
      }
      return null
    })
  })
})

describe('peerPieces writes a program may make', () => {
  for (const [label, W] of [['ours', Impl], ['reference', Ref]]) {
    test(`setting length: shrinking deletes, an invalid length throws a RangeError [${label}]`, () => {
      const wire = wireAfter(W, [['bitfield', Buffer.from([0xf0, 0x0f])], ['have', 20]])
      const pp = wire.peerPieces
      assert.equal(pp.length, 21)
      pp.length = 6
      assert.deepEqual(Object.keys(pp), ['0', '1', '2', '3', '4', '5'])
      pp.length = 10
      assert.deepEqual([...pp], [true, true, true, true, false, false, undefined, undefined, undefined, undefined])
      assert.equal(8 in pp, false)
      assert.throws(() => { pp.length = -1 }, RangeError)
      assert.throws(() => { pp.length = 1.5 }, RangeError)
      pp.length = '3'
      assert.equal(pp.length, 3)
      assert.deepEqual(Object.getOwnPropertyDescriptor(pp, 'length'), { value: 3, writable: true, enumerable: false, configurable: false })
    })

    test(`delete makes a hole, also inside a bitfield; a new bitfield fills it [${label}]`, () => {
      const wire = wireAfter(W, [['bitfield', Buffer.from([0x80])]])
      const pp = wire.peerPieces
      assert.equal(delete pp[0], true)
      assert.equal(delete pp[3], true)
      assert.equal(pp[3], undefined)
      assert.equal(3 in pp, false)
      assert.equal(Object.prototype.hasOwnProperty.call(pp, 0), false)
      assert.deepEqual(Object.keys(pp), ['1', '2', '4', '5', '6', '7'])
      assert.equal(pp.length, 8)
      wire.write(frame(5, Buffer.from([0x01])))
      assert.deepEqual(Object.entries(pp).map(([k, v]) => k + v), ['0false', '1false', '2false', '3false', '4false', '5false', '6false', '7true'])
    })

    test(`a value that is not a boolean reads back as written; a have or bitfield replaces it [${label}]`, () => {
      const wire = wireAfter(W, [])
      const pp = wire.peerPieces
      pp[4] = 'yes'
      pp[2] = undefined
      pp[9] = false
      assert.deepEqual(Object.entries(pp), [['2', undefined], ['4', 'yes'], ['9', false]])
      assert.equal(pp.length, 10)
      wire.write(frame(4, u32(4)))
      wire.write(frame(5, Buffer.from([0])))
      assert.deepEqual(Object.entries(pp), [['0', false], ['1', false], ['2', false], ['3', false], ['4', false], ['5', false], ['6', false], ['7', false], ['9', false]])
    })

    test(`Object.defineProperty of a plain data property works like an assignment [${label}]`, () => {
      const pp = wireAfter(W, []).peerPieces
      Object.defineProperty(pp, 3, { value: true, writable: true, enumerable: true, configurable: true })
      assert.equal(pp[3], true)
      assert.equal(pp.length, 4)
      Object.defineProperty(pp, 'length', { value: 2 })
      assert.deepEqual(Object.keys(pp), [])
      assert.equal(pp.length, 2)
    })
  }

  test('util.inspect with showProxy, and util.format(\'%o\') (which sets it), show the same array inside the proxy', { skip: Impl === Ref && 'the reference is no proxy' }, () => {
    const pp = wireAfter(Impl, [['bitfield', Buffer.from([0x40])], ['have', 12], ['named', 'note']]).peerPieces
    const compact = (text) => text.replace(/\s+/g, '')
    const shown = compact(util.inspect(wireAfter(Ref, [['bitfield', Buffer.from([0x40])], ['have', 12], ['named', 'note']]).peerPieces))
    assert.ok(compact(util.inspect(pp, { showProxy: true })).startsWith(`Proxy[${shown},`))
    assert.ok(util.format('%o', pp).includes('note: 4'))
  })

  test('peerPieces.get(i) reads the bits: true where a have or a truthy write set them', { skip: Impl === Ref && 'the reference has no get()' }, () => {
    const wire = wireAfter(Impl, [['bitfield', Buffer.from([0x40])], ['have', 12]])
    const pp = wire.peerPieces
    pp[3] = 'yes'
    pp[1] = 0
    assert.deepEqual([0, 1, 2, 3, 12, 13].map((i) => pp.get(i)), [false, false, false, true, true, false])
  })
})
