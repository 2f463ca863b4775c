//! MSE speed: RC4 on 16 KiB blocks (MiB/s) and the Diffie-Hellman work of
//! a handshake (µs), as `cargo run --release --example mse_speed`.
//!
//! Compare with OpenSSL's RC4 in the same sitting (Node 20 needs the
//! legacy provider for it):
//!
//! ```sh
//! node --openssl-legacy-provider -e 'const c=require("crypto"),
//!   x=c.createCipheriv("rc4",Buffer.alloc(20,7),null),b=Buffer.alloc(16384);
//!   let t=process.hrtime.bigint();for(let i=0;i<50000;i++)x.update(b);
//!   console.log(50000*16384/(Number(process.hrtime.bigint()-t)/1e9)/1048576)'
//! ```

use std::hint::black_box;
use std::time::Instant;

use peer_wire_native::protocol::mse::{os_rng, MseHandshake, Policy, Rc4};

fn best_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> T
where
    T: PartialOrd,
{
    let mut best = f();
    for _ in 1..rounds {
        let x = f();
        if x > best {
            best = x;
        }
    }
    best
}

fn main() {
    const BLOCK: usize = 16 * 1024;
    const BLOCKS: usize = 20_000;
    let mut rc4 = Rc4::new(&[7; 20]);
    let mut block = vec![0u8; BLOCK];
    for _ in 0..1000 {
        rc4.apply(&mut block);
    }
    let mibs = best_of(5, || {
        let t = Instant::now();
        for _ in 0..BLOCKS {
            rc4.apply(black_box(&mut block));
        }
        (BLOCKS * BLOCK) as f64 / t.elapsed().as_secs_f64() / (1024.0 * 1024.0)
    });
    println!("rc4: {mibs:.0} MiB/s on 16 KiB blocks (best of 5)");

    // One side's DH: a key pair (G^X) at construction, the shared secret
    // (Y^X) on the peer's key. A whole in-memory pair does both twice.
    const PAIRS: usize = 500;
    let ih = [0x5a; 20];
    let t = Instant::now();
    for _ in 0..PAIRS {
        black_box(MseHandshake::initiator(ih, Policy::Require, os_rng));
    }
    let keypair_us = t.elapsed().as_secs_f64() * 1e6 / PAIRS as f64;
    let t = Instant::now();
    for _ in 0..PAIRS {
        let mut i = MseHandshake::initiator(ih, Policy::Require, os_rng);
        let mut r = MseHandshake::responder(&[ih], Policy::Require, os_rng);
        let ya = i.feed(&[]).unwrap().send;
        let yb = r.feed(&ya).unwrap().send;
        let step3 = i.feed(&yb).unwrap().send;
        let step4 = r.feed(&step3).unwrap();
        let done = i.feed(&step4.send).unwrap();
        assert!(step4.established.is_some() && done.established.is_some());
    }
    let pair_us = t.elapsed().as_secs_f64() * 1e6 / PAIRS as f64;
    println!(
        "dh: {keypair_us:.0} µs for a key pair (one side's construction); \
         a whole handshake pair in memory {pair_us:.0} µs, {:.0} µs a side",
        pair_us / 2.0
    );
}
