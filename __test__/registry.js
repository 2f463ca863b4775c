'use strict'

// A throwaway npm registry for install.test.js: verdaccio, started as a child
// process, listening on 127.0.0.1 on a port the system picks, with its
// storage and users in DIR, no uplinks (it serves only what is published to
// it) and no web UI.
//
//   node __test__/registry.js DIR
//
// Prints one line, `{"port":N}`, once it listens. Exits on SIGTERM/SIGINT,
// and when its parent goes away (the IPC channel closes), so that a killed
// test run does not leave it behind.

const fs = require('node:fs')
const path = require('node:path')
const { runServer } = require('verdaccio')

const dir = path.resolve(process.argv[2] || '')
if (!process.argv[2] || !fs.existsSync(dir)) {
  console.error('usage: node __test__/registry.js DIR (an existing folder)')
  process.exit(2)
}

const config = path.join(dir, 'config.yaml')
fs.writeFileSync(config, [
  `storage: ${JSON.stringify(path.join(dir, 'storage'))}`,
  'auth:',
  '  htpasswd:',
  `    file: ${JSON.stringify(path.join(dir, 'htpasswd'))}`,
  '    max_users: 10',
  'uplinks: {}',
  'packages:',
  "  '**':",
  '    access: $all',
  '    publish: $authenticated',
  '    unpublish: $authenticated',
  'web:',
  '  enable: false',
  'log:',
  '  type: stdout',
  '  format: pretty',
  '  level: warn',
  ''
].join('\n'))

function stop () {
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.on('disconnect', stop)

runServer(config).then((app) => {
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n')
  })
  server.on('error', (err) => {
    console.error(err)
    process.exit(1)
  })
}, (err) => {
  console.error(err)
  process.exit(1)
})
