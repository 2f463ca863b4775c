// Type-level test of index.d.ts: only type-checked (`tsc -p __test__/tsconfig.json`), never run.
// Every `// @ts-expect-error` line must fail to type-check, or tsc reports an unused directive.

import pwp = require('..');
import pwpDefault from '..';
import type { Wire, Request, WireOptions, Extensions } from '..';
import * as net from 'net';
import { Duplex, pipeline } from 'stream';

// Exact-type assertion helpers.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): void {}
function expectType<T>(value: T): T {
    return value;
}

// ---------------------------------------------------------------------------
// The factory: callable with and without `new`, with optional options.

const w1: Wire = pwp();
const w2: pwp.Wire = new pwp();
const w3 = pwp({ speed: 10 });
const w4 = new pwp({});
const opts: WireOptions = { speed: 20 };
const w5 = pwpDefault(opts);
const w6 = new pwpDefault();
assertType<Equals<typeof w3, pwp.Wire>>();
assertType<Equals<typeof w4, Wire>>();
if ((w5 as unknown) instanceof pwp) {
    expectType<Wire>(w5);
}
// @ts-expect-error speed is a number of seconds
pwp({ speed: '5' });
// @ts-expect-error unknown option
pwp({ sped: 5 });
// @ts-expect-error options must be an object
pwp(5);

// Limits on what a peer may make the wire hold.
const guarded = pwp({ maxFrameLength: 4 * 1024 * 1024, maxPeerRequests: 500, maxBlockLength: 16384 });
expectType<number>(guarded.maxFrameLength);
expectType<number>(guarded.droppedRequests);
guarded.maxPeerRequests = 100;
// @ts-expect-error the frame limit is fixed when the wire is made
guarded.maxFrameLength = 1;
// @ts-expect-error a limit is a number of bytes
pwp({ maxFrameLength: '1MiB' });
guarded.on('close', () => {
    const err = guarded.protocolError;
    if (err && err.code === 'ERR_PEER_WIRE_FRAME_TOO_LARGE') console.error(err.message);
});
const hasFirst: boolean = guarded.peerPieces.get(0);
const pieceList: Array<boolean | undefined> = [...guarded.peerPieces];
void hasFirst;
void pieceList;

// Nagle's algorithm kept on the sockets the wire is piped to.
pwp({ noDelay: false });
// @ts-expect-error noDelay is a boolean
pwp({ noDelay: 1 });

// Encryption (MSE/PE): the initiator names its torrent, the responder the ones it serves.
const dialling = pwp({ encryption: 'require', infoHash: 'aa'.repeat(20) });
const accepting = pwp({ encryption: 'prefer', infoHashes: [Buffer.alloc(20), 'bb'.repeat(20)] });
expectType<'rc4' | 'plaintext' | null>(dialling.encryption);
accepting.on('encryption', (method) => expectType<'rc4' | 'plaintext'>(method));
accepting.on('close', () => {
    if (accepting.protocolError && accepting.protocolError.code === 'ERR_PEER_WIRE_MSE_UNKNOWN_TORRENT') console.error('not ours');
});
// @ts-expect-error encryption is 'off', 'prefer' or 'require'
pwp({ encryption: 'rc4' });
// @ts-expect-error the negotiated encryption is read-only
dialling.encryption = 'rc4';

// A Wire is a Duplex stream.
const asDuplex: Duplex = w1;
pipeline(w2, w6, (err) => {
    if (err) console.error(err.message);
});
void asDuplex;

// ---------------------------------------------------------------------------
// Typical server usage, as in the README.

const server = net.createServer((socket) => {
    const wire = pwp();

    // pipe to and from the protocol
    socket.pipe(wire).pipe(socket);
    wire.peerAddress = `${socket.remoteAddress}:${socket.remotePort}`;

    wire.on('handshake', (infoHash, peerId, extensions) => {
        assertType<Equals<typeof infoHash, Buffer>>();
        assertType<Equals<typeof peerId, Buffer>>();
        const ext: Extensions = extensions;
        console.log(infoHash.toString('hex'), peerId.toString(), ext.dht, ext.extended);

        // Buffer arguments, and the hex-string/string forms.
        wire.handshake(Buffer.from('01234567890123456789'), Buffer.from('-NA0001-012345678901'));
        wire.handshake('0123456789abcdef0123456789abcdef01234567', '-NA0001-012345678901', { dht: true });
        wire.handshake(new Uint8Array(20), peerId, {});
        wire.handshake(infoHash, peerId, extensions);

        wire.bitfield(Buffer.alloc(4));
        wire.bitfield({ buffer: new Uint8Array(4) });
        wire.unchoke();
        wire.interested();
        wire.setKeepAlive(true);
        wire.setTimeout(5000, () => console.log('request timed out'));
        if (extensions.dht) wire.port(6881);
        if (extensions.extended) wire.extended(0, { m: { ut_metadata: 1 }, v: 'peer-wire-native' });
    });

    wire.on('unchoke', () => {
        console.log('peer is no longer choking us: ' + wire.peerChoking);
        wire.request(0, 0, 16384, (err, block) => {
            if (err) {
                const message: string = err.message;
                console.log(message);
                return;
            }
            if (block) {
                const bytes: number = block.length;
                console.log(block.toString('hex'), bytes);
            }
        });
        wire.request(0, 16384, 16384);
        wire.cancel(0, 16384, 16384);
    });

    wire.on('request', (index, offset, length, respond) => {
        assertType<Equals<typeof index, number>>();
        assertType<Equals<typeof offset, number>>();
        assertType<Equals<typeof length, number>>();
        // ... read piece ...
        respond(null, Buffer.alloc(length)); // respond back to the peer
        respond(null, new Uint8Array(length));
        respond(new Error('cannot read piece'));
        // @ts-expect-error the block must be bytes
        respond(null, 'block');
    });

    wire.on('piece', (index, offset, block) => {
        const b: Buffer = block;
        console.log(index + offset, b.readUInt8(0));
        wire.have(index);
    });

    wire.on('have', (index) => {
        const i: number = index;
        const has: boolean | undefined = wire.peerPieces[i];
        console.log(has === true);
    });

    wire.on('bitfield', (bitfield) => {
        expectType<Buffer>(bitfield);
        for (let i = 0; i < wire.peerPieces.length; i++) {
            if (wire.peerPieces[i]) wire.interested();
        }
    });

    wire.on('error', (err) => {
        const code: string | undefined = err.code;
        console.error(err.message, code);
        wire.destroy();
    });

    wire.on('close', () => console.log('closed'));
    wire.on('timeout', () => console.log('timeout'));
    wire.on('choke', () => wire.uninterested());
    wire.on('interested', () => wire.unchoke());
    wire.on('uninterested', () => wire.choke());
    wire.on('keep-alive', () => {});
    wire.on('cancel', (index, offset, length) => console.log(index + offset + length));
    wire.on('port', (port) => expectType<number>(port));
    wire.on('extended', (id, payload) => {
        expectType<number>(id);
        expectType<Buffer>(payload);
    });
    wire.on('unknownmessage', (body) => expectType<Buffer>(body));
    wire.on('upload', (bytes) => expectType<number>(bytes));
    wire.on('download', (bytes) => expectType<number>(bytes));
});
server.listen(6881);

// ---------------------------------------------------------------------------
// Every member.

const wire = pwp({ speed: 5 });

const amChoking: boolean = wire.amChoking;
const amInterested: boolean = wire.amInterested;
const peerChoking: boolean = wire.peerChoking;
const peerInterested: boolean = wire.peerInterested;
void [amChoking, amInterested, peerChoking, peerInterested];

const piece0: boolean | undefined = wire.peerPieces[0];
const pieceCount: number = wire.peerPieces.length;
void [piece0, pieceCount];
// @ts-expect-error peerPieces is read-only for users
wire.peerPieces[0] = true;
// @ts-expect-error indexes may be holes
const notUndefined: boolean = wire.peerPieces[1];

const dht: boolean | undefined = wire.peerExtensions.dht;
const extended: boolean | undefined = wire.peerExtensions.extended;
void [dht, extended];

wire.peerAddress = '127.0.0.1:6881';
wire.peerAddress = null;
const address: string | null = wire.peerAddress;
void address;
// @ts-expect-error peerAddress is a string
wire.peerAddress = 6881;

const requests: Request[] = wire.requests;
for (const req of requests) {
    const sum: number = req.piece + req.offset + req.length;
    req.callback(new Error('gone'), null);
    if (req.timeout !== null) clearTimeout(req.timeout);
    void sum;
}
for (const req of wire.peerRequests) {
    const sum: number = req.piece + req.offset + req.length;
    req.callback(null, new Uint8Array(req.length));
    void sum;
}

const uploaded: number = wire.uploaded;
const downloaded: number = wire.downloaded;
const up: number = wire.uploadSpeed();
const down: number = wire.downloadSpeed();
void [uploaded, downloaded, up, down];

wire.handshake(Buffer.alloc(20), Buffer.alloc(20));
wire.handshake('aa'.repeat(20), 'x'.repeat(20), { dht: false });
wire.choke();
wire.unchoke();
wire.interested();
wire.uninterested();
wire.have(1);
wire.bitfield(new Uint8Array([0xff]));
wire.request(1, 0, 16384, (err: Error | null, block?: Buffer | null) => void [err, block]);
wire.request(1, 0, 16384, () => {});
wire.piece(1, 0, Buffer.alloc(16384));
wire.piece(1, 0, new Uint8Array(16384));
wire.cancel(1, 0, 16384);
wire.extended(1, Buffer.from('d1:ai1ee'));
wire.extended(1, { msg_type: 0, piece: 0 });
wire.extended(1, [1, 'two']);
wire.extended(1, 'string');
wire.extended(1, 42);
wire.port(6881);
wire.setKeepAlive();
wire.setKeepAlive(false);
wire.setTimeout(1000);
wire.setTimeout(1000, () => {});
const destroyed: void = wire.destroy();
void destroyed;

// Methods return void, not the wire.
const handshakeResult: void = wire.handshake(Buffer.alloc(20), Buffer.alloc(20));
void handshakeResult;
// @ts-expect-error destroy() returns undefined at runtime, it does not chain
wire.destroy().on('close', () => {});

// Wrong argument types are rejected.
// @ts-expect-error piece index is a number
wire.have('1');
// @ts-expect-error extensions is an object
wire.handshake(Buffer.alloc(20), Buffer.alloc(20), true);
// @ts-expect-error infoHash is a string or bytes
wire.handshake(20, Buffer.alloc(20));
// @ts-expect-error the request callback receives (err, block)
wire.request(0, 0, 16384, (err: string) => {});
// @ts-expect-error length is required
wire.request(0, 0);
// @ts-expect-error the block must be bytes
wire.piece(0, 0, 'data');
// @ts-expect-error bitfield takes bytes
wire.bitfield([1, 0, 1]);
// @ts-expect-error port is a number
wire.port('6881');
// @ts-expect-error cancel needs index, offset, length
wire.cancel(0, 0);
// @ts-expect-error an extended message goes to a numeric id or an extension's name
wire.extended(true, {});
// @ts-expect-error amChoking is a boolean
wire.amChoking = 'yes';
// @ts-expect-error uploaded is a number
const uploadedStr: string = wire.uploaded;

// ---------------------------------------------------------------------------
// Event methods: all of them are typed the same way, and chain.

const onHave = (index: number): void => void index;
const onPiece = (index: number, offset: number, block: Buffer): void => void [index, offset, block];

const chained: Wire = wire
    .on('have', onHave)
    .once('piece', onPiece)
    .addListener('choke', () => {})
    .prependListener('unchoke', () => {})
    .prependOnceListener('handshake', (infoHash, peerId, extensions) => {
        expectType<Buffer>(infoHash);
        expectType<Buffer>(peerId);
        expectType<boolean>(extensions.dht);
    })
    .removeListener('have', onHave)
    .off('piece', onPiece);
void chained;

wire.once('request', (index, offset, length, respond) => respond(null, Buffer.alloc(length + index + offset)));
wire.addListener('download', (bytes) => expectType<number>(bytes));
wire.prependListener('error', (err) => expectType<string | undefined>(err.code));
wire.prependOnceListener('timeout', () => {});

// Listeners may ignore trailing arguments.
wire.on('handshake', () => {});
wire.on('request', (index) => void index);

// Inherited stream events keep working.
wire.on('data', (chunk) => expectType<Buffer>(chunk));
wire.on('end', () => {});
wire.on('finish', () => {});
wire.on('drain', () => {});
wire.on('pipe', (src) => src.unpipe(wire));
wire.once('readable', () => wire.read());
// Unknown events fall back to an untyped listener.
wire.on('some-other-event', (...args: any[]) => void args);
wire.on(Symbol('custom'), () => {});
const dynamicName: string = 'have';
wire.on(dynamicName, (x: unknown) => void x);

// emit() is typed too.
const emitted: boolean = wire.emit('have', 1);
wire.emit('handshake', Buffer.alloc(20), Buffer.alloc(20), { dht: true, extended: true });
wire.emit('request', 0, 0, 16384, (err, block) => void [err, block]);
wire.emit('piece', 0, 0, Buffer.alloc(1));
wire.emit('choke');
wire.emit('error', Object.assign(new Error('bad'), { code: 'EBAD' }));
wire.emit('close');
wire.emit('custom', 1, 2, 3);
void emitted;

// Wrong listener or emit types are rejected.
// @ts-expect-error 'have' passes a number
wire.on('have', (i: string) => {});
// @ts-expect-error 'piece' passes a Buffer block
wire.once('piece', (index: number, offset: number, block: string) => {});
// @ts-expect-error 'handshake' passes Buffers
wire.addListener('handshake', (infoHash: string) => {});
// @ts-expect-error 'port' passes one number
wire.prependListener('port', (port: number, extra: number) => {});
// @ts-expect-error 'choke' has no arguments
wire.prependOnceListener('choke', (reason: string) => {});
// @ts-expect-error 'download' passes a number
wire.off('download', (bytes: Buffer) => {});
// @ts-expect-error 'bitfield' passes a Buffer
wire.removeListener('bitfield', (bitfield: boolean[]) => {});
// @ts-expect-error 'have' takes a number
wire.emit('have', '1');
// @ts-expect-error 'piece' needs index, offset and block
wire.emit('piece', 0, 0);
// @ts-expect-error 'handshake' extensions need both flags
wire.emit('handshake', Buffer.alloc(20), Buffer.alloc(20), { dht: true });
wire.on('request', (index, offset, length, respond) => {
    // @ts-expect-error respond's first argument is an error or null
    respond('no');
});
wire.on('handshake', (infoHash) => {
    // @ts-expect-error infoHash is a Buffer, not a string
    infoHash.toUpperCase();
});

// ---------------------------------------------------------------------------
// BEP 10 extensions: use(), the hooks, extended(name, ...), the state.

class Echo implements pwp.Extension {
    get name(): string {
        return 'ut_echo';
    }
    constructor(readonly wire: Wire) {
        wire.extendedHandshake.echo_version = 1;
    }
    onHandshake(infoHash: string, peerId: string, extensions: Extensions): void {
        console.log(infoHash.toLowerCase(), peerId, extensions.extended);
    }
    onExtendedHandshake(handshake: pwp.ExtendedHandshake): void {
        if (handshake.m && handshake.m.ut_echo) this.wire.extended('ut_echo', { hello: 1 });
    }
    onMessage(payload: Buffer): void {
        this.wire.extended('ut_echo', payload);
    }
}
const extWire = pwp();
extWire.use(Echo);
const ctor: pwp.ExtensionConstructor = Echo;
extWire.use(ctor);
// a class with hooks only (JS modules set prototype.name); typed as the JS modules are
class Hooks {
    onMessage(payload: Buffer): void {
        void payload;
    }
}
(Hooks.prototype as unknown as { name: string }).name = 'ut_hooks';
extWire.use(Hooks as unknown as pwp.ExtensionConstructor);
const ourName: string = extWire.extendedMapping[1];
const theirId: number = extWire.peerExtendedMapping.ut_echo;
const size: unknown = extWire.peerExtendedHandshake.metadata_size;
extWire.extendedHandshake.v = 'peer-wire-native';
extWire.extended('ut_echo', new Uint8Array([1, 2]));
extWire.extended('ut_echo', new DataView(new ArrayBuffer(2)));
extWire.extended(3, { msg_type: 0, piece: 0 });
void ourName;
void theirId;
void size;
// @ts-expect-error an extension needs a name
const nameless: pwp.Extension = { onMessage() {} };
// @ts-expect-error use() takes the class, not an instance
extWire.use(new Echo(extWire));
// @ts-expect-error onHandshake gets hex strings, not Buffers
const wrongHook: pwp.Extension = { name: 'x', onHandshake(infoHash: Buffer) {} };
void nameless;
void wrongHook;

// The fast extension (BEP 6)
const fastWire = pwp();
fastWire.handshake(Buffer.alloc(20), Buffer.alloc(20), { fast: true, dht: true });
fastWire.on('handshake', (infoHash, peerId, extensions) => {
    const peerFast: boolean | undefined = extensions.fast;
    void peerFast;
    if (fastWire.hasFast) fastWire.haveNone();
});
fastWire.on('have-all', () => {
    fastWire.peerPieces.length = 1313;
});
fastWire.on('have-none', () => {});
fastWire.on('suggest', (index) => fastWire.request(index, 0, 16384));
fastWire.on('reject', (index: number, offset: number, length: number) => void [index, offset, length]);
fastWire.on('allowed-fast', (index: number) => void index);
fastWire.haveAll();
fastWire.suggest(1);
fastWire.reject(1, 0, 16384);
fastWire.allowedFast(2);
const allowedByPeer: readonly number[] = fastWire.peerAllowedFastSet;
const set: number[] = pwp.allowedFastSet('80.4.4.200', Buffer.alloc(20, 0xaa), 1313, 7);
const code: pwp.ProtocolErrorCode = 'ERR_PEER_WIRE_FAST_NOT_NEGOTIATED';
void allowedByPeer;
void set;
void code;
// @ts-expect-error the peer's allowed-fast set is the wire's to keep
fastWire.peerAllowedFastSet.push(3);
// @ts-expect-error reject names a block
fastWire.reject(1);
// @ts-expect-error hasFast is read-only
fastWire.hasFast = true;

// bencode, bounded
const encoded: Buffer = pwp.bencode.encode({ m: { ut_metadata: 1 }, v: 'x' });
const decoded: pwp.BencodeValue = pwp.bencode.decode(encoded, { maxDepth: 4, maxValues: 100 });
const endsAt: number = pwp.bencode.end(encoded, 0);
void decoded;
void endsAt;
// @ts-expect-error decode reads bytes, not text
pwp.bencode.decode('d1:ai1ee');
