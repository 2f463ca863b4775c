'use strict'

// Argument checks: bad input from the caller is a synchronous TypeError or
// RangeError, never a value silently wrapped into 32 bits.

const util = require('util')

const U32 = 0xffffffff // the largest value of a message's 32-bit fields

function checkInteger (name, value, min, max) {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${typeof value}`)
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
}

function checkBoolean (name, value) {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name} must be a boolean, got ${value === null ? 'null' : typeof value}`)
  }
}

function checkUint (name, value, max = U32) {
  checkInteger(name, value, 0, max)
}

function isBytes (value) {
  return value instanceof Uint8Array
}

function checkBytes (name, value) {
  if (!isBytes(value)) {
    throw new TypeError(`${name} must be a Buffer or Uint8Array, got ${util.inspect(value, { depth: 0 })}`)
  }
}

function checkCallback (callback) {
  if (callback != null && typeof callback !== 'function') throw new TypeError('callback must be a function')
}

module.exports = { U32, checkInteger, checkBoolean, checkUint, isBytes, checkBytes, checkCallback }
