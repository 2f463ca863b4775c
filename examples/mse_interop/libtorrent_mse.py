#!/usr/bin/python3
"""A manual interop check, not part of `npm test`: libtorrent 2.0
(Debian's python3-libtorrent, run with /usr/bin/python3) against
examples/mse_peer.rs, both directions, loopback only.

  cargo build --example mse_peer && /usr/bin/python3 examples/mse_interop/libtorrent_mse.py

Each line: the case, mse_peer's exit code and JSON line (the negotiated
encryption, the BitTorrent handshake read inside it, the header of
libtorrent's next message: 20 = its extended handshake), libtorrent's
alerts about the peer. Each case uses a fresh session: libtorrent 2.0.8 did
not dial a second listener from a session that had just served other
connections from 127.0.0.1 (seen once, not investigated).
"""
import json, os, subprocess, sys, time, tempfile
import libtorrent as lt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX = os.path.join(ROOT, 'target', 'debug', 'examples', 'mse_peer')
d = tempfile.mkdtemp()
data = os.path.join(d, 'f.bin')
with open(data, 'wb') as f:
    f.write(os.urandom(3 * 16384 + 100))
fs = lt.file_storage(); lt.add_files(fs, data)
ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only if hasattr(lt.create_torrent, 'v1_only') else 0)
lt.set_piece_hashes(ct, d)
ti = lt.torrent_info(ct.generate())
ih = str(ti.info_hash())

def session(out_pol, in_pol, level):
    s = lt.session({'listen_interfaces': '127.0.0.1:0', 'outgoing_interfaces': '127.0.0.1',
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'out_enc_policy': out_pol, 'in_enc_policy': in_pol, 'allowed_enc_level': level, 'prefer_rc4': True,
        'alert_mask': lt.alert.category_t.all_categories})
    h = s.add_torrent({'ti': ti, 'save_path': d})
    h.force_recheck()
    for _ in range(100):
        if h.status().state == lt.torrent_status.seeding: break
        time.sleep(0.05)
    return s, h

def run(name, s, h, args, dial_back):
    p = subprocess.Popen([EX] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if dial_back:
        port = json.loads(p.stdout.readline())['port']
        h.connect_peer(('127.0.0.1', port))
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill(); out, err = p.communicate()
    alerts = [a.message() for a in s.pop_alerts() if 'encrypt' in a.message().lower()][-2:]
    print(name, 'exit', p.returncode, out.strip(), err.strip()[-300:], alerts[:3], flush=True)

FORCED, ENABLED, RC4, BOTH = 0, 1, 2, 3
cases = [
    ('we dial, lt pe_forced + pe_rc4, we require', (FORCED, FORCED, RC4), 'dial', 'require'),
    ('we dial, lt pe_forced + pe_rc4, we prefer', (FORCED, FORCED, RC4), 'dial', 'prefer'),
    ('lt pe_forced + pe_rc4 dials us, we require', (FORCED, FORCED, RC4), 'listen', 'require'),
    ('lt pe_forced + pe_rc4 dials us, we prefer', (FORCED, FORCED, RC4), 'listen', 'prefer'),
    ('lt default settings dial us, we prefer', (ENABLED, ENABLED, BOTH), 'listen', 'prefer'),
    ('lt pe_forced + pe_plaintext dials us, we prefer', (FORCED, FORCED, 1), 'listen', 'prefer'),
]
print('info hash', ih, flush=True)
for name, pols, how, policy in cases:
    s, h = session(*pols)
    if how == 'dial':
        run(name, s, h, ['dial', '127.0.0.1:%d' % s.listen_port(), ih, policy], False)
    else:
        run(name, s, h, ['listen', ih, policy], True)
    del h, s
