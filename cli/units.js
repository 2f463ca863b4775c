'use strict'

// Sizes as the command prints them.

// Bytes as MiB with one decimal: 1.5 for 1572864.
function mib (bytes) {
  return (bytes / 1048576).toFixed(1)
}

module.exports = { mib }
