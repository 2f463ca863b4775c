'use strict'

// Small typed arrays carved from shared ArrayBuffers, as Node's Buffer pool
// serves small Buffers: a typed array of its own over 64 bytes gets a
// backing store of its own (a few hundred bytes of memory, and work for the
// collector), a view on a shared slab does not. A view is never handed out
// twice; a slab without room for the next is replaced, and lives while any
// of its views does. New slabs are zeroed.

// A function that carves views of `View` (Uint8Array, Uint32Array, …),
// `length` elements each, from slabs of `slabBytes`.
function carver (slabBytes, View) {
  let slab = null
  let at = slabBytes
  return function carve (length) {
    const bytes = length * View.BYTES_PER_ELEMENT
    if (slabBytes - at < bytes) {
      slab = new ArrayBuffer(slabBytes)
      at = 0
    }
    const view = new View(slab, at, length)
    at += bytes
    return view
  }
}

module.exports = { carver }
