//! An MSE peer over TCP, for checking the handshake against other clients
//! (libtorrent, bittorrent-protocol): it runs MSE, exchanges BitTorrent
//! handshakes inside the negotiated stream, reads the peer's first message
//! header, and prints one JSON line.
//!
//! ```sh
//! cargo run --example mse_peer -- dial 127.0.0.1:6881 INFO_HASH_HEX require
//! cargo run --example mse_peer -- listen INFO_HASH_HEX prefer   # prints the port first
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use peer_wire_native::protocol::mse::{os_rng, Cipher, MseHandshake, Policy};
use peer_wire_native::protocol::{Handshake, HANDSHAKE_LEN};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hash(s: &str) -> [u8; 20] {
    assert_eq!(s.len(), 40, "an info hash is 40 hex digits");
    std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let policy = |s: &str| match s {
        "off" => Policy::Off,
        "prefer" => Policy::Prefer,
        "require" => Policy::Require,
        _ => panic!("policy: off, prefer or require"),
    };
    let (mut sock, mut mse, ih) = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["dial", addr, ih, p] => {
            let ih = parse_hash(ih);
            let sock = TcpStream::connect(addr)?;
            (sock, MseHandshake::initiator(ih, policy(p), os_rng), ih)
        }
        ["listen", ih, p] => {
            let ih = parse_hash(ih);
            let listener = TcpListener::bind("127.0.0.1:0")?;
            println!("{{\"port\":{}}}", listener.local_addr()?.port());
            let (sock, _) = listener.accept()?;
            (sock, MseHandshake::responder(&[ih], policy(p), os_rng), ih)
        }
        _ => panic!("usage: dial HOST:PORT INFO_HASH POLICY | listen INFO_HASH POLICY"),
    };
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;

    // The MSE handshake.
    let mut buf = [0u8; 4096];
    let mut input: &[u8] = &[];
    let mut stream = Vec::new();
    let established = loop {
        let p = mse.feed(input)?;
        sock.write_all(&p.send)?;
        stream.extend_from_slice(&p.received);
        if let Some(est) = p.established {
            break est;
        }
        let n = sock.read(&mut buf)?;
        if n == 0 {
            return Err("the peer closed during the MSE handshake".into());
        }
        input = &buf[..n];
    };
    let mut cipher: Option<Cipher> = established.cipher;

    // The BitTorrent handshake inside the stream, then the header of the
    // peer's first message (4-byte length, id).
    let mut ours = Vec::new();
    Handshake::new(ih, *b"-PW0001-mse-example-", true).encode(&mut ours);
    if let Some(c) = cipher.as_mut() {
        c.encrypt.apply(&mut ours);
    }
    sock.write_all(&ours)?;
    while stream.len() < HANDSHAKE_LEN + 5 {
        let n = sock.read(&mut buf)?;
        if n == 0 {
            return Err("the peer closed after the MSE handshake".into());
        }
        let start = stream.len();
        stream.extend_from_slice(&buf[..n]);
        if let Some(c) = cipher.as_mut() {
            c.decrypt.apply(&mut stream[start..]);
        }
    }
    let theirs = Handshake::decode(stream[..HANDSHAKE_LEN].try_into()?)?;
    let next = &stream[HANDSHAKE_LEN..HANDSHAKE_LEN + 5];
    println!(
        "{{\"encryption\":\"{}\",\"mse_info_hash\":{},\"info_hash\":\"{}\",\"peer_id\":\"{}\",\"next_len\":{},\"next_id\":{}}}",
        if cipher.is_some() { "rc4" } else { "plaintext" },
        established
            .info_hash
            .map_or("null".to_string(), |h| format!("\"{}\"", hex(&h))),
        hex(&theirs.info_hash),
        String::from_utf8_lossy(&theirs.peer_id).escape_default(),
        u32::from_be_bytes([next[0], next[1], next[2], next[3]]),
        next[4],
    );
    Ok(())
}
