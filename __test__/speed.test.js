'use strict'

// uploadSpeed()/downloadSpeed() against the reference's (npm
// peer-wire-protocol 0.7.1, whose meters are speedometer 0.1's), reading
// for reading. Both count in quarter-second ticks of a module-wide clock
// (setInterval, 250 ms): each module is loaded afresh here with
// setInterval captured, so that the test moves both clocks itself, tick
// for tick, instead of waiting for them. Seeded random sequences of ticks
// and readings (with bytes, with 0, with nothing) go to meters of both
// wires made at the same tick, for several windows; the readings must be
// equal, also after the clock wraps.

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { Rng } = require('./rng.js')

const IMPL = require.resolve(process.env.PWN_IMPL || '..')
const REFERENCE = require.resolve('peer-wire-protocol')

// Loads `file` and every module it loads afresh, with setInterval
// captured: returns the module and `tick()`, which runs the callbacks the
// loading (or `then`, called while still captured) registered.
function withClock (file, then = (m) => m) {
  const dirs = [path.dirname(file), path.join(path.dirname(IMPL), 'lib'), path.dirname(require.resolve('speedometer'))]
  for (const key of Object.keys(require.cache)) {
    if (dirs.some((dir) => key.startsWith(dir + path.sep))) delete require.cache[key]
  }
  const callbacks = []
  const setInterval = global.setInterval
  global.setInterval = (fn) => {
    callbacks.push(fn)
    return { unref () {}, ref () {} }
  }
  try {
    return { made: require(file), tick: () => { for (const fn of callbacks) fn() } }
  } finally {
    global.setInterval = setInterval
  }
}

// A reference wire and ours, their meters made at the same tick of their
// clocks, which the caller advances together.
function pair (opts, ticksBefore) {
  const ref = withClock(REFERENCE)
  const impl = withClock(IMPL)
  const tick = () => {
    ref.tick()
    impl.tick()
  }
  for (let i = 0; i < ticksBefore; i++) tick()
  return { ref: ref.made(opts), impl: impl.made(opts), tick }
}

describe('speed meters read as 0.7.1 reads them', () => {
  for (const speed of [undefined, 1, 2.5, 5, 12]) {
    test(`window ${speed === undefined ? 'default' : speed + ' s'}`, () => {
      for (let seed = 1; seed <= 25; seed++) {
        const rng = new Rng(seed * 977 + (speed || 0))
        const w = pair(speed === undefined ? undefined : { speed }, rng.int(40))
        const log = []
        for (let step = 0; step < 300; step++) {
          const r = rng.next()
          if (r < 0.35) {
            // a pause: mostly short, sometimes longer than the window
            const ticks = rng.bool(0.9) ? rng.int(4) : rng.int(80)
            for (let i = 0; i < ticks; i++) w.tick()
            log.push(`+${ticks}`)
            continue
          }
          const name = rng.bool() ? 'uploadSpeed' : 'downloadSpeed'
          // a block (usually), nothing, or 0; the first bytes come late
          // in some sequences, after many readings
          const delta = step < rng.int(150) ? rng.pick([undefined, 0]) : rng.pick([undefined, 0, 16384, rng.int(100000)])
          const expected = w.ref[name](delta)
          const actual = w.impl[name](delta)
          log.push(`${name}(${delta}) = ${expected}`)
          assert.equal(actual, expected, `seed ${seed}, after: ${log.slice(-12).join(', ')}`)
        }
      }
    })
  }

  test('a clock that wraps (65536 ticks, about 4.5 hours) reads as theirs', () => {
    const w = pair(undefined, 0)
    const read = (delta) => {
      const expected = w.ref.downloadSpeed(delta)
      assert.equal(w.impl.downloadSpeed(delta), expected)
      return expected
    }
    read(16384)
    for (let i = 0; i < 65536 + 3; i++) w.tick()
    read(1000)
    for (let i = 0; i < 65536 - 2; i++) w.tick()
    read()
    read(5)
    // a meter that counted nothing until after the wrap
    const idle = pair(undefined, 0)
    for (let i = 0; i < 65536 + 2; i++) idle.tick()
    assert.equal(idle.impl.uploadSpeed(700), idle.ref.uploadSpeed(700))
  })
})

test('opts.speed: a whole number of quarter seconds, else a synchronous error', () => {
  const Wire = require(IMPL)
  // 0.7.1's speedometer grows its history until V8 aborts the process at
  // the first reading with 0.1, and by four entries a second with 1.3
  assert.throws(() => Wire({ speed: 0.1 }), RangeError)
  assert.throws(() => Wire({ speed: 1.3 }), RangeError)
  assert.throws(() => Wire({ speed: -5 }), RangeError)
  assert.throws(() => Wire({ speed: Infinity }), RangeError)
  assert.throws(() => Wire({ speed: '5' }), TypeError)
  // 0.7.1 reads a falsy speed as the default
  for (const speed of [0, null, undefined, false]) assert.equal(typeof Wire({ speed }).uploadSpeed(), 'number')
  assert.equal(Wire({ speed: 0.25 }).uploadSpeed(10), 10)
})
