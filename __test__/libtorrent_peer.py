#!/usr/bin/python3
"""libtorrent-rasterbar as a test peer for peer-wire-native's tests.

Run with Debian's /usr/bin/python3 (python3-libtorrent). Loopback only:
libtorrent listens on 127.0.0.1 and connects from 127.0.0.1, with DHT, local
discovery, UPnP, NAT-PMP and uTP off, no trackers and plaintext connections.

  create PATH TORRENT [--piece-length N] [--v1-only]
      writes a .torrent for PATH (a file or a folder) made by libtorrent's
      create_torrent; prints one JSON line: info hash, piece length, sizes,
      piece hashes.
  seed TORRENT SAVE_PATH [--upload-limit BYTES_PER_SECOND]
      checks the data under SAVE_PATH and seeds it; prints JSON lines:
      {"event": "listening", "port": N}, {"event": "seeding"}, then peer
      events. Runs until its standard input closes.
  leech TORRENT SAVE_PATH HOST:PORT
      downloads from the peer at HOST:PORT into SAVE_PATH; prints JSON lines
      and exits 0 after {"event": "finished"}, 1 on a hash failure, a ban,
      the peer going away or the deadline.
  magnet INFO_HASH SAVE_PATH HOST:PORT
      the same, given only the torrent's v1 info hash (a magnet link): the
      metadata must come from the peer (ut_metadata); prints
      {"event": "metadata", ...} when libtorrent has it, then as leech.

Every command exits by itself after --deadline seconds (default 50) and when
its standard input closes, so a test that dies never leaves it behind.

--encryption (before the command) sets libtorrent's MSE/PE settings:
  plaintext (the default): out_enc_policy pe_disabled, in_enc_policy
      pe_enabled, allowed_enc_level pe_both;
  forced: both policies pe_forced, allowed_enc_level pe_rc4, prefer_rc4
      (RC4 only, both ways);
  default: libtorrent's own defaults (its outgoing connections open with MSE);
  disabled: both policies pe_disabled (no MSE at all, either way).
"""

import argparse
import json
import os
import sys
import threading
import time

try:
    import libtorrent as lt
except ImportError as err:  # the test turns this line into its failure message
    print(json.dumps({'event': 'error', 'message': 'cannot import libtorrent (%s): '
                      'install python3-libtorrent and run with /usr/bin/python3' % err}),
          flush=True)
    sys.exit(3)


def emit(**fields):
    print(json.dumps(fields), flush=True)


def done(code):
    # os._exit: the thread blocked reading stdin would make a normal exit abort
    sys.stdout.flush()
    os._exit(code)


ENCRYPTION = 'plaintext'  # see --encryption


def enc_settings():
    if ENCRYPTION == 'default':
        return {}
    if ENCRYPTION == 'disabled':
        return {
            'out_enc_policy': int(lt.enc_policy.pe_disabled),
            'in_enc_policy': int(lt.enc_policy.pe_disabled),
        }
    if ENCRYPTION == 'forced':
        return {
            'out_enc_policy': int(lt.enc_policy.pe_forced),
            'in_enc_policy': int(lt.enc_policy.pe_forced),
            'allowed_enc_level': int(lt.enc_level.pe_rc4),
            'prefer_rc4': True,
        }
    return {
        'out_enc_policy': int(lt.enc_policy.pe_disabled),
        'in_enc_policy': int(lt.enc_policy.pe_enabled),
        'allowed_enc_level': int(lt.enc_level.pe_both),
    }


def settings():
    return dict({
        'listen_interfaces': '127.0.0.1:0',
        'outgoing_interfaces': '127.0.0.1',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_incoming_utp': False,
        'enable_outgoing_utp': False,
        'enable_ip_notifier': False,
        'allow_multiple_connections_per_ip': True,
        'alert_mask': int(lt.alert_category.error | lt.alert_category.peer
                          | lt.alert_category.status | lt.alert_category.storage),
    }, **enc_settings())


def exit_on_stdin_close():
    def watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def create(args):
    fs = lt.file_storage()
    lt.add_files(fs, os.path.abspath(args.path))
    flags = lt.create_torrent.v1_only if args.v1_only else 0
    ct = lt.create_torrent(fs, args.piece_length, flags=flags)
    ct.set_creator('libtorrent %s' % lt.__version__)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(args.path)))
    data = lt.bencode(ct.generate())
    with open(args.torrent, 'wb') as f:
        f.write(data)
    info = lt.torrent_info(args.torrent)
    emit(event='created',
         version=lt.__version__,
         info_hash=str(info.info_hashes().v1),
         name=info.name(),
         piece_length=info.piece_length(),
         num_pieces=info.num_pieces(),
         total_size=info.total_size(),
         num_files=info.num_files(),
         pieces=[info.hash_for_piece(i).hex() for i in range(info.num_pieces())])


def peer_event(alert):
    return {'ip': alert.endpoint[0], 'port': alert.endpoint[1], 'message': alert.message()}


def start(args):
    ses = lt.session(settings())
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = os.path.abspath(args.save_path)
    handle = ses.add_torrent(atp)
    return ses, handle


def seed(args):
    ses, handle = start(args)
    if args.upload_limit:
        handle.set_upload_limit(args.upload_limit)  # per torrent: applies to loopback peers too
    emit(event='listening', port=ses.listen_port(), version=lt.__version__)
    seeding = False
    deadline = time.monotonic() + args.deadline
    while time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.peer_connect_alert) or isinstance(a, lt.incoming_connection_alert):
                emit(event='connect', message=a.message())
            elif isinstance(a, lt.peer_disconnected_alert):
                emit(event='disconnect', **peer_event(a))
            elif isinstance(a, lt.invalid_request_alert):
                emit(event='invalid_request', message=a.message())
            elif isinstance(a, lt.torrent_error_alert) or isinstance(a, lt.file_error_alert):
                emit(event='error', message=a.message())
        st = handle.status()
        if not seeding and st.is_seeding:
            seeding = True
            emit(event='seeding', pieces=st.num_pieces)
    emit(event='error', message='deadline of %s s reached' % args.deadline)
    done(1)


def leech(args):
    ses, handle = start(args)
    download(args, ses, handle)


def magnet(args):
    ses = lt.session(settings())
    atp = lt.parse_magnet_uri('magnet:?xt=urn:btih:%s' % args.info_hash)
    atp.save_path = os.path.abspath(args.save_path)
    handle = ses.add_torrent(atp)
    download(args, ses, handle)


def download(args, ses, handle):
    host, port = args.peer.rsplit(':', 1)
    emit(event='listening', port=ses.listen_port(), version=lt.__version__)
    deadline = time.monotonic() + args.deadline
    connected = False
    hash_failures = 0
    while time.monotonic() < deadline:
        st = handle.status()
        if not connected and st.state in (lt.torrent_status.downloading_metadata, lt.torrent_status.downloading,
                                           lt.torrent_status.seeding, lt.torrent_status.finished):
            handle.connect_peer((host, int(port)))
            connected = True
            emit(event='connecting', peer=args.peer)
        if st.is_finished or st.is_seeding:
            # libtorrent has checked every piece against its SHA-1 hash. The
            # piece count of a status can lag its finished flag: give it a
            # moment (at most 2 s) to catch up before reporting it.
            total = handle.torrent_file().num_pieces()
            for _ in range(20):
                if st.num_pieces >= total:
                    break
                time.sleep(0.1)
                st = handle.status()
            emit(event='finished', pieces=st.num_pieces, total=total,
                 downloaded=st.total_payload_download, hash_failures=hash_failures)
            handle.flush_cache()
            ses.pause()
            done(0)
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.metadata_received_alert):
                ti = handle.torrent_file()
                emit(event='metadata', info_hash=str(ti.info_hashes().v1), name=ti.name(),
                     num_pieces=ti.num_pieces(), metadata_size=ti.metadata_size())
            elif isinstance(a, lt.metadata_failed_alert):
                emit(event='error', message=a.message())
                done(1)
            elif isinstance(a, lt.hash_failed_alert):
                hash_failures += 1
                emit(event='hash_failed', piece=a.piece_index, message=a.message())
            elif isinstance(a, lt.peer_ban_alert):
                emit(event='banned', **peer_event(a))
                done(1)
            elif isinstance(a, lt.peer_connect_alert):
                emit(event='connect', **peer_event(a))
            elif isinstance(a, lt.peer_disconnected_alert):
                emit(event='disconnect', **peer_event(a))
                st = handle.status()
                if not (st.is_finished or st.is_seeding):
                    emit(event='error', message='the peer went away before the download finished: '
                         + a.message())
                    done(1)
            elif isinstance(a, lt.peer_error_alert):
                emit(event='peer_error', **peer_event(a))
            elif isinstance(a, lt.torrent_error_alert) or isinstance(a, lt.file_error_alert):
                emit(event='error', message=a.message())
                done(1)
    st = handle.status()
    ti = handle.torrent_file()  # None while a magnet's metadata is missing
    emit(event='error', message='deadline of %s s reached with %d of %s pieces'
         % (args.deadline, st.num_pieces, ti.num_pieces() if ti else 'unknown'))
    done(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--deadline', type=float, default=50)
    parser.add_argument('--encryption', choices=['plaintext', 'forced', 'default', 'disabled'], default='plaintext')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('create')
    p.add_argument('path')
    p.add_argument('torrent')
    p.add_argument('--piece-length', type=int, default=32768)
    p.add_argument('--v1-only', action='store_true')
    p = sub.add_parser('seed')
    p.add_argument('torrent')
    p.add_argument('save_path')
    p.add_argument('--upload-limit', type=int, default=0)
    p = sub.add_parser('leech')
    p.add_argument('torrent')
    p.add_argument('save_path')
    p.add_argument('peer')
    p = sub.add_parser('magnet')
    p.add_argument('info_hash')
    p.add_argument('save_path')
    p.add_argument('peer')
    args = parser.parse_args()
    global ENCRYPTION
    ENCRYPTION = args.encryption
    if args.command == 'create':
        create(args)
        return
    exit_on_stdin_close()
    {'seed': seed, 'leech': leech, 'magnet': magnet}[args.command](args)


if __name__ == '__main__':
    main()
