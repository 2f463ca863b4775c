'use strict'

// RC4 alone on 16 KiB blocks, in a process of its own:
// `node rc4.js <native|btp|openssl> <MiB>` prints { ms }.
//   native:  peer-wire-native's RC4 (src/protocol/mse/rc4.rs), in place,
//            one N-API call per block, as the wire calls it;
//   btp:     bittorrent-protocol 5.0.9's JavaScript RC4, the one it runs on
//            stock Node (its mse.js `createRC4Cipher` fallback, copied here
//            verbatim: the package does not export it);
//   openssl: Node's OpenSSL RC4 (run with --openssl-legacy-provider; what
//            btp uses when Node has it), which allocates its output.

const crypto = require('node:crypto')

const BLOCK = 16384
const KEY = crypto.createHash('sha1').update('rc4 benchmark').digest()

// bittorrent-protocol 5.0.9, mse.js, createRC4Cipher without nativeRC4.
function btpRC4 (key) {
  const s = new Uint8Array(256)
  for (let i = 0; i < 256; i++) s[i] = i
  let j = 0
  for (let i = 0; i < 256; i++) {
    j = (j + s[i] + key[i % key.length]) & 0xff
    const tmp = s[i]
    s[i] = s[j]
    s[j] = tmp
  }
  let ii = 0
  let jj = 0
  for (let i = 0; i < 1024; i++) {
    ii = (ii + 1) & 0xff
    jj = (jj + s[ii]) & 0xff
    const tmp = s[ii]
    s[ii] = s[jj]
    s[jj] = tmp
  }
  return buf => {
    const out = new Uint8Array(buf.length)
    for (let i = 0; i < buf.length; i++) {
      ii = (ii + 1) & 0xff
      jj = (jj + s[ii]) & 0xff
      const tmp = s[ii]
      s[ii] = s[jj]
      s[jj] = tmp
      out[i] = buf[i] ^ s[(s[ii] + s[jj]) & 0xff]
    }
    return out
  }
}

// An established RC4 encryptor of ours: two MSE handshakes run against
// each other through the binding.
function nativeRC4 () {
  const native = require('../lib/native.js')
  const a = native.mseInitiator(KEY, true)
  const b = native.mseResponder(KEY, true)
  let toB = native.mseFeed(a, Buffer.alloc(0)).send
  let done = 0
  while (done < 2) {
    const pb = native.mseFeed(b, toB)
    if (pb.encryption) done++
    const pa = native.mseFeed(a, pb.send)
    if (pa.encryption) done++
    toB = pa.send
  }
  const enc = native.encryptorNew(a)
  return (buf) => { native.encryptorApply(enc, buf); return buf }
}

function openssl (key) {
  const c = crypto.createCipheriv('rc4', key, '')
  c.update(Buffer.alloc(1024))
  return (buf) => c.update(buf)
}

const [which, mib] = process.argv.slice(2)
const apply = which === 'native' ? nativeRC4() : which === 'btp' ? btpRC4(KEY) : openssl(KEY)
const block = crypto.randomBytes(BLOCK)
const blocks = Number(mib) * 1024 * 1024 / BLOCK
let sink = 0
const t0 = process.hrtime.bigint()
for (let k = 0; k < blocks; k++) sink ^= apply(block)[k & (BLOCK - 1)]
const ms = Number(process.hrtime.bigint() - t0) / 1e6
process.stdout.write(JSON.stringify({ ms, sink }) + '\n')
