// A manual interop check, not part of `npm test`: bittorrent-protocol
// 5.0.9's MSE (its startEncryption / 'crypto-infohash' + setInfoHash) against
// examples/mse_peer.rs, both roles, over loopback TCP.
//
//   cargo build --example mse_peer && node examples/mse_interop/btp.mjs
//   node --openssl-legacy-provider examples/mse_interop/btp.mjs   # btp's native RC4
//
// btp sends a handshake the moment handshake() is called, encrypted or not:
// as initiator it must wait for 'crypto-handshake'.
import Protocol from 'bittorrent-protocol'
import net from 'node:net'
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'

const EX = fileURLToPath(new URL('../../target/debug/examples/mse_peer', import.meta.url))
const ih = crypto.randomBytes(20).toString('hex')
const id = Buffer.from('-BT0509-interop-test').toString('hex')
console.log('btp nativeRC4', Protocol.nativeRC4)

function runEx (args) {
  const p = spawn(EX, args)
  let out = ''; let err = ''
  p.stdout.on('data', d => { out += d })
  p.stderr.on('data', d => { err += d })
  const done = new Promise(resolve => p.on('exit', code => resolve({ code, out: out.trim(), err: err.trim().slice(-300) })))
  return { p, done, firstLine: () => new Promise(resolve => { const t = setInterval(() => { if (out.includes('\n')) { clearInterval(t); resolve(out.split('\n')[0]) } }, 10) }) }
}

async function btpInitiator (pe, policy) {
  const ex = runEx(['listen', ih, policy])
  const { port } = JSON.parse(await ex.firstLine())
  const socket = net.connect(port, '127.0.0.1')
  const wire = new Protocol('tcpOutgoing', pe)
  socket.pipe(wire).pipe(socket)
  let got = null
  wire.on('handshake', (h, peer) => { got = { h, peer: Buffer.from(peer, 'hex').toString() }; wire.interested() })
  wire.on('error', e => console.log('btp error', e.message))
  wire.on('crypto-handshake', () => wire.handshake(ih, id))
  wire.startEncryption(ih)
  const r = await ex.done
  console.log(`btp initiator (pe ${pe}) -> us (${policy}):`, r.code, r.out.split('\n').pop(), r.err, 'btp saw', JSON.stringify(got), 'btp encrypted', wire._encryptor?.encryptionMethod)
  socket.destroy()
}

async function btpResponder (pe, policy) {
  let wire
  let got = null
  const server = net.createServer(socket => {
    wire = new Protocol('tcpIncoming', pe)
    socket.pipe(wire).pipe(socket)
    wire.on('crypto-infohash', () => wire.setInfoHash(ih))
    wire.on('handshake', (h, peer) => { got = { h, peer: Buffer.from(peer, 'hex').toString() }; wire.handshake(ih, id); wire.interested() })
    wire.on('error', e => console.log('btp error', e.message))
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const ex = runEx(['dial', `127.0.0.1:${server.address().port}`, ih, policy])
  const r = await ex.done
  console.log(`us (${policy}) -> btp responder (pe ${pe}):`, r.code, r.out, r.err, 'btp saw', JSON.stringify(got), 'btp method', wire?._encryptor?.encryptionMethod)
  server.close()
}

await btpInitiator(2, 'require')
await btpInitiator(1, 'prefer')
await btpResponder(2, 'require')
await btpResponder(1, 'prefer')
process.exit(0)
