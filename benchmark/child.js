'use strict'

// One run of one workload, in a process of its own, as a user's program
// meets the wire: cold (nothing compiled, nothing warmed up by an earlier
// run). `node --expose-gc child.js <workload> <impl short name> [json]`
// prints one JSON line: { ms }. The floors (`ceiling`, `count`, `copy`)
// take no implementation; nor does `floor`, bulk's floor in memory.

const crypto = require('node:crypto')
const { load } = require('./impls.js')
const W = require('./workloads.js')

const MiB = 1024 * 1024

async function main () {
  const [workload, short, json] = process.argv.slice(2)
  const opts = json ? JSON.parse(json) : {}
  const floor = short === 'ceiling' || short === 'count' || short === 'copy' || short === 'floor'
  const impl = floor ? null : (await load(short))[0]
  let ms
  if (workload === 'bulk') {
    const data = crypto.randomBytes(4 * MiB)
    ms = short === 'ceiling'
      ? await W.ceiling(opts)
      : short === 'floor' ? await W.bulkFloor({ ...opts, data }) : await W.bulk(impl, { ...opts, data })
  } else if (workload === 'reassembly') {
    const chunks = W.cut(W.pieceStream(opts.count), opts.size)
    ms = floor
      ? await W.reassemblyFloor(short === 'copy', { chunks, count: opts.count })
      : await W.reassembly(impl, { chunks, count: opts.count })
  } else if (workload === 'small') {
    ms = await W.small(impl, opts)
  } else {
    throw new Error(`no workload ${workload}`)
  }
  process.stdout.write(JSON.stringify({ ms }) + '\n')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
