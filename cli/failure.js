'use strict'

// An expected failure: the command prints its message as one line on stderr
// and exits non-zero, without a stack trace. Anything else is a bug.
class Failure extends Error {
  constructor (message, exitCode = 1) {
    super(message)
    this.name = 'Failure'
    this.exitCode = exitCode
  }
}

module.exports = { Failure }
