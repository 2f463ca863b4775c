'use strict'

// What a failed connection to a peer means, in one line.

function connectError (err, where) {
  switch (err.code) {
    case 'ECONNREFUSED': return `cannot connect to peer ${where}: connection refused (is a peer listening there?)`
    case 'ETIMEDOUT': return `cannot connect to peer ${where}: timed out`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return `cannot connect to peer ${where}: host unreachable`
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `cannot connect to peer ${where}: unknown host`
    default: return `cannot connect to peer ${where}: ${err.message}`
  }
}

module.exports = { connectError }
