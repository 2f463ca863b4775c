#!/usr/bin/env node
'use strict'

// peer-wire-native's command: demo, fetch, seed (each in cli/commands/).
// Expected failures are one line on stderr and exit code 1 (2 for a usage
// error).

const { Failure } = require('../cli/failure')
const { USAGE, usage } = require('../cli/usage')
const { log } = require('../cli/output')
const { demo } = require('../cli/commands/demo')
const { fetch } = require('../cli/commands/fetch')
const { seed } = require('../cli/commands/seed')

async function main (argv) {
  const [command, ...args] = argv
  switch (command) {
    case 'demo': return demo(args)
    case 'fetch': return fetch(args)
    case 'seed': return seed(args)
    case '-h':
    case '--help':
    case 'help':
      log(USAGE)
      return
    case undefined: throw usage('no command given')
    default: throw usage(`unknown command ${JSON.stringify(command)}`)
  }
}

main(process.argv.slice(2)).then(() => {
  process.exit(0) // the last wire's sockets may still be closing
}, (err) => {
  if (err instanceof Failure) {
    process.stderr.write(`peer-wire-native: ${err.message}\n`)
    process.exit(err.exitCode)
  }
  if (err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`peer-wire-native: ${err.message}\n${USAGE}\n`)
    process.exit(2)
  }
  process.stderr.write(`peer-wire-native: unexpected error (a bug): ${err && err.stack}\n`)
  process.exit(1)
})
