// Type definitions for peer-wire-native.
// API-compatible with peer-wire-protocol 0.7.1: the module export is a factory
// (usable with or without `new`) returning a `Wire`, a Duplex stream that speaks
// the BitTorrent peer wire protocol. Pipe a socket to it and it back to the socket:
//
//     socket.pipe(wire).pipe(socket)

/// <reference types="node" />

import { Duplex, Readable } from 'stream';

/**
 * Creates a new peer wire protocol stream. Can be called with or without `new`.
 * The export's name is also the wire's type (as a class's would be), and
 * `Wire.Wire` is the same type:
 *
 * @example
 * import Wire = require('peer-wire-native');
 * function seed(socket: net.Socket): Wire {
 *     const wire = new Wire(); // or Wire()
 *     socket.pipe(wire).pipe(socket);
 *     return wire;
 * }
 */
declare const Wire: Wire.WireProtocol;

/** A peer wire protocol connection: the type of what the export makes. */
type Wire = Wire.Wire;

declare namespace Wire {
    /** The module export: a factory/constructor for {@link Wire} streams. */
    interface WireProtocol {
        /** Creates a new wire (calling without `new` is the same as with it). */
        (opts?: WireOptions): Wire;
        /** Creates a new wire. */
        new (opts?: WireOptions): Wire;
        readonly prototype: Wire;
        /**
         * BEP 6's allowed-fast set: the `k` pieces (fewer if the torrent has fewer)
         * to offer with `allowedFast()` to the peer at `ip` (IPv4 or IPv6 text),
         * for the torrent of `infoHash` (20 bytes or 40 hex characters) with
         * `numPieces` pieces. `k` is at most 1024. Throws a `TypeError` or a
         * `RangeError` for a bad argument.
         */
        allowedFastSet(ip: string, infoHash: string | Uint8Array, numPieces: number, k: number): number[];
        /**
         * The bencode the wire reads a peer's extended handshake with (bounded
         * for bytes a peer chose) and writes extended messages with.
         */
        readonly bencode: Bencode;
    }

    /** Bounds on reading bencode: nesting depth (default 100) and values in all (default 10000). */
    interface BencodeLimits {
        maxDepth?: number;
        maxValues?: number;
    }

    /** A decoded bencode value: byte strings are Buffers, integers numbers. */
    type BencodeValue = Buffer | number | BencodeValue[] | { [key: string]: BencodeValue };

    interface Bencode {
        /**
         * Bencodes a value: strings and Uint8Arrays as byte strings, safe integers
         * (and booleans as 0 or 1), arrays as lists, other objects as dictionaries
         * (keys sorted as raw bytes; `undefined` and `null` values left out).
         * Throws a `TypeError` or `RangeError` for anything else.
         */
        encode(value: unknown): Buffer;
        /**
         * The value at the start of `bytes` (bytes after it are ignored). Strict
         * (BEP 3) and bounded: throws a `SyntaxError` for malformed bytes and a
         * `RangeError` past a limit, never hangs. Strings are copied out.
         */
        decode(bytes: Uint8Array, limits?: BencodeLimits): BencodeValue;
        /** Where the value starting at `bytes[at]` (default 0) ends, read as `decode` reads it. */
        end(bytes: Uint8Array, at?: number, limits?: BencodeLimits): number;
    }

    /** Options accepted by the factory. */
    interface WireOptions {
        /**
         * Length, in seconds, of the window over which `uploadSpeed()` and
         * `downloadSpeed()` are averaged: a whole number of quarter seconds
         * (else a `RangeError`). Defaults to 5.
         */
        speed?: number;
        /**
         * Largest message the peer may send, in bytes (the 4-byte length prefix,
         * i.e. the id byte and the body). A longer one is rejected from its prefix
         * alone, before any of it is buffered, with `'ERR_PEER_WIRE_FRAME_TOO_LARGE'`.
         * It also bounds `peerPieces` to `8 * (maxFrameLength - 1)` pieces, the
         * largest bitfield such a message can carry. An integer from 1 to 2^32 - 1;
         * defaults to 1048576 (1 MiB, libtorrent's bound).
         */
        maxFrameLength?: number;
        /**
         * Most requests from the peer that may wait for an answer (`peerRequests`);
         * further ones are dropped and counted in `droppedRequests`. Defaults to 2000
         * (libtorrent's `max_allowed_in_request_queue`).
         */
        maxPeerRequests?: number;
        /**
         * Longest block the peer may request, in bytes; longer requests, and requests
         * of length 0, are dropped and counted in `droppedRequests`. An integer from 1
         * to 2^32 - 1; defaults to 131072 (128 KiB).
         */
        maxBlockLength?: number;
        /**
         * Whether the wire turns Nagle's algorithm off (`setNoDelay(true)`) on a
         * socket it is piped to (`wire.pipe(socket)`) or from (`socket.pipe(wire)`):
         * any stream with a `setNoDelay` method, connected or not. The wire already
         * gathers small messages into one write, so Nagle only adds delayed-ACK
         * stalls. `false` leaves the socket as it is (0.7.1's behaviour). Defaults
         * to true.
         */
        noDelay?: boolean;
        /**
         * Message Stream Encryption (MSE/PE). `'off'` (the default): none, the
         * wire is peer-wire-protocol 0.7.1's. `'prefer'`: dialling, offer RC4 and
         * plaintext (the peer picks); accepting, select RC4 when offered, else
         * plaintext, and also accept a plain BitTorrent handshake. `'require'`:
         * RC4 only, both ways. Needs `infoHash` (a wire that dials) or
         * `infoHashes` (a wire that accepts).
         */
        encryption?: 'off' | 'prefer' | 'require';
        /** The torrent of a wire that dials (20 bytes or 40 hex digits): makes it the MSE initiator. */
        infoHash?: string | Uint8Array;
        /** The torrents a wire that accepts serves (20 bytes or 40 hex digits each): makes it the MSE responder. */
        infoHashes?: ReadonlyArray<string | Uint8Array>;
    }

    /** Extension flags exchanged in the handshake. */
    interface Extensions {
        /** The peer participates in the torrent DHT (BEP 5); it may send a `port` message. */
        dht: boolean;
        /** The peer supports the extension protocol (BEP 10), i.e. `extended` messages. */
        extended: boolean;
        /**
         * The peer's handshake set the fast extension bit (BEP 6). Present only on a
         * wire that asked for fast (`handshake(..., { fast: true })`; a responder
         * asking in its `'handshake'` listener gets it added to the same object
         * then); a wire that never asks gets `{ dht, extended }` exactly, as 0.7.1.
         */
        fast?: boolean;
    }

    /**
     * Extensions to advertise in our own handshake. The extension protocol bit
     * (`extended`) is always set, so only `dht` is configurable.
     */
    interface HandshakeExtensions {
        /** Advertise DHT support (then send your DHT port with `wire.port()`). */
        dht?: boolean;
        /**
         * Ask for the fast extension (BEP 6): sets bit 0x04 of reserved byte 7.
         * It is on (`hasFast`) once the peer's handshake set it too. A responder
         * must ask before or inside its `'handshake'` listener.
         */
        fast?: boolean;
    }

    /**
     * A BEP 10 extension as `wire.use()` takes it (bittorrent-protocol's contract:
     * ut_metadata, ut_pex, … work unmodified): a class whose prototype names the
     * extension, made with the wire. Every hook is optional.
     */
    interface Extension {
        /** The extension's name, as in the `m` dictionary of the extended handshake (`'ut_metadata'`). */
        readonly name: string;
        /** The peer's handshake arrived: its info hash and peer id as lowercase hex strings. */
        onHandshake?(infoHash: string, peerId: string, extensions: Extensions): void;
        /** The peer's extended handshake arrived and its `m` names this extension with a non-zero id. */
        onExtendedHandshake?(handshake: ExtendedHandshake): void;
        /** The peer sent a message to this extension's id (the payload after the id byte). */
        onMessage?(payload: Buffer): void;
    }

    /** What `wire.use()` takes: an {@link Extension} class, made with `new Extension(wire)`. */
    interface ExtensionConstructor<E extends Extension = Extension> {
        new (wire: Wire): E;
        readonly prototype: { readonly name: string };
    }

    /**
     * An extended handshake, decoded: byte strings are Buffers, integers numbers,
     * lists arrays, dictionaries objects with string keys.
     */
    interface ExtendedHandshake {
        /** Extension names and the ids to send them with (0: not supported). */
        m?: Record<string, number>;
        [key: string]: unknown;
    }

    /** Called when a request we sent completes: with the block, or with an error. */
    type RequestCallback = (err: Error | null, block?: Buffer | null) => void;

    /**
     * Handed to `'request'` listeners: call `respond(null, block)` to send the block
     * to the peer, or `respond(err)` to drop the request without answering (with
     * fast on, a reject is sent). Does
     * nothing if the request was cancelled meanwhile or we choked the peer.
     */
    type RespondCallback = (err: Error | null, block?: Uint8Array) => void;

    /** A pending block request (ours in `wire.requests`, the peer's in `wire.peerRequests`). */
    interface Request<Callback = RequestCallback> {
        /** Zero-based piece index. */
        piece: number;
        /** Byte offset of the block within the piece. */
        offset: number;
        /** Length of the block in bytes. */
        length: number;
        /** Completion callback (for peer requests: the `respond` function). */
        callback: Callback;
        /** Pending request timeout timer (only the head request has one), or `null`. */
        timeout: NodeJS.Timeout | null;
    }

    /** A request the peer sent us; its `callback` is the `respond` function. */
    type PeerRequest = Request<RespondCallback>;

    /**
     * Which pieces the peer has, stored as one bit per piece. It reads like the
     * array of booleans of peer-wire-protocol 0.7.1 (`Array.isArray()` is true, and
     * the Array methods work): `peerPieces[i]` is `true` if the peer has piece `i`,
     * `false` where its bitfield says it has not, `undefined` where nothing was
     * said. Indexes from `8 * (maxFrameLength - 1)` up are not kept (a `'have'`
     * for one is still emitted).
     *
     * After a fast `'have-all'`, every index reads `true` (`get(i)`, `[i]`, `i in`)
     * while the piece count is unknown (`length` is 0, no index is listed);
     * setting `length` to the piece count makes indexes 0 to `length - 1` true,
     * as a bitfield of ones would. After `'have-none'` nothing is had (as before
     * any bitfield); a later bitfield replaces either.
     */
    interface PeerPieces extends Iterable<boolean | undefined> {
        readonly [index: number]: boolean | undefined;
        /** One past the highest index set; settable (after `'have-all'`: the piece count). */
        length: number;
        /** Whether the peer has piece `index`: the fast way to ask (no index lookup through a proxy). */
        get(index: number): boolean;
    }

    /** The code of an error from a peer that broke the protocol. */
    type ProtocolErrorCode = 'ERR_PEER_WIRE_BAD_HANDSHAKE' | 'ERR_PEER_WIRE_FRAME_TOO_LARGE' | 'ERR_PEER_WIRE_BAD_LENGTH'
        | 'ERR_PEER_WIRE_FAST_NOT_NEGOTIATED' | MseErrorCode;

    /** Why an MSE/PE handshake failed (see the README, "Encryption (MSE/PE)"). */
    type MseErrorCode = 'ERR_PEER_WIRE_MSE_PLAINTEXT_REFUSED' | 'ERR_PEER_WIRE_MSE_UNKNOWN_TORRENT'
        | 'ERR_PEER_WIRE_MSE_SYNC' | 'ERR_PEER_WIRE_MSE_BAD_PAD' | 'ERR_PEER_WIRE_MSE_BAD_VC'
        | 'ERR_PEER_WIRE_MSE_BAD_KEY' | 'ERR_PEER_WIRE_MSE_CRYPTO_SELECT' | 'ERR_PEER_WIRE_MSE_CRYPTO_PROVIDE';

    /** An error emitted by a wire; `code` is set when the error has a specific cause. */
    interface WireError extends Error {
        code?: ProtocolErrorCode | string;
    }

    /** Listener signatures of the events a {@link Wire} emits. */
    interface WireEvents {
        /** The peer's handshake arrived (infoHash and peerId are 20-byte buffers). */
        handshake: (infoHash: Buffer, peerId: Buffer, extensions: Extensions) => void;
        /** The peer is now choking us (our pending requests fail with an error, unless fast is on: then they wait for a piece or a reject). */
        choke: () => void;
        /** The peer is no longer choking us. */
        unchoke: () => void;
        /** The peer is now interested in us. */
        interested: () => void;
        /** The peer is no longer interested in us. */
        uninterested: () => void;
        /** The peer sent a keep-alive message (can be ignored). */
        'keep-alive': () => void;
        /** The peer has piece `index`. */
        have: (index: number) => void;
        /** The peer sent its bitfield (`peerPieces` is already updated). */
        bitfield: (bitfield: Buffer) => void;
        /** The peer requests a block; answer it with `respond(null, block)`. Not emitted while we choke the peer (with fast: unless we allowed the piece fast; other requests are rejected). */
        request: (index: number, offset: number, length: number, respond: RespondCallback) => void;
        /** The peer cancelled one of its requests. */
        cancel: (index: number, offset: number, length: number) => void;
        /** The peer sent a block (emitted after the matching request callback ran). */
        piece: (index: number, offset: number, block: Buffer) => void;
        /** The peer sent its DHT port. */
        port: (port: number) => void;
        /** The peer sent an extension protocol message (`payload` is the raw, still bencoded, body). */
        extended: (id: number, payload: Buffer) => void;
        /** The peer sent a message with an unknown id (`body` starts with that id). */
        unknownmessage: (body: Buffer) => void;
        /** Fast (BEP 6): the peer has every piece (`peerPieces` reads all true, see {@link PeerPieces}). */
        'have-all': () => void;
        /** Fast (BEP 6): the peer has no piece. */
        'have-none': () => void;
        /** Fast (BEP 6): the peer suggests we download piece `index`. */
        suggest: (index: number) => void;
        /** Fast (BEP 6): the peer will not answer this request (its callback got "request was rejected" first). */
        reject: (index: number, offset: number, length: number) => void;
        /** Fast (BEP 6): we may request piece `index` even while the peer chokes us (`peerAllowedFastSet`). */
        'allowed-fast': (index: number) => void;
        /** We sent a block of `bytes` bytes. */
        upload: (bytes: number) => void;
        /** We received a block of `bytes` bytes. */
        download: (bytes: number) => void;
        /** The head request timed out (its callback got an error), see `setTimeout()`. */
        timeout: () => void;
        /**
         * The peer broke the protocol (`code` is `'ERR_PEER_WIRE_BAD_HANDSHAKE'`,
         * `'ERR_PEER_WIRE_FRAME_TOO_LARGE'`, `'ERR_PEER_WIRE_BAD_LENGTH'` or, on a
         * wire that asked for fast, `'ERR_PEER_WIRE_FAST_NOT_NEGOTIATED'`, or, on a
         * wire with `encryption`, an {@link MseErrorCode}, and the
         * message names the limit and the value). Parsing has stopped; the wire is
         * destroyed right after (`'close'`, then pending request callbacks get
         * "wire is closed"). Emitted only when someone listens, so code written for
         * peer-wire-protocol, which never emitted `'error'`, is not crashed by it;
         * the error is kept in `wire.protocolError` either way.
         */
        error: (err: WireError) => void;
        /** The wire was destroyed or closed. */
        close: () => void;
        /** MSE/PE was negotiated (a wire made with `encryption`): once, before any message. */
        encryption: (method: 'rc4' | 'plaintext') => void;

        // Inherited stream events.
        /** Outgoing protocol data is available (when consumed in flowing mode). */
        data: (chunk: Buffer) => void;
        /** The readable side ended. */
        end: () => void;
        /** The writable side finished: the wire is closed. */
        finish: () => void;
        /** The writable side can accept more data. */
        drain: () => void;
        /** Reading was paused. */
        pause: () => void;
        /** Reading was resumed. */
        resume: () => void;
        /** Outgoing data can be read. */
        readable: () => void;
        /** A readable stream was piped into the wire. */
        pipe: (src: Readable) => void;
        /** A readable stream was unpiped from the wire. */
        unpipe: (src: Readable) => void;
    }

    /** Event names with a typed listener signature. */
    type WireEventName = keyof WireEvents;

    /**
     * A peer wire protocol connection: a Duplex stream you pipe a socket into and
     * back out to the socket.
     */
    interface Wire extends Duplex {
        /** Are we choking the peer? Initially `true`. */
        amChoking: boolean;
        /** Are we interested in the peer? Initially `false`. */
        amInterested: boolean;
        /** Is the peer choking us? Initially `true`. */
        peerChoking: boolean;
        /** Is the peer interested in us? Initially `false`. */
        peerInterested: boolean;
        /** Which pieces the peer has: `peerPieces[i]` is `true` if the peer has piece `i`. */
        peerPieces: PeerPieces;
        /** Extensions the peer advertised in its handshake (empty until the handshake arrives). */
        peerExtensions: Partial<Extensions>;
        /** The peer's address; never set by the wire itself, free for the user. Initially `null`. */
        peerAddress: string | null;
        /** Both handshakes set the fast extension bit (BEP 6). */
        readonly hasFast: boolean;
        /** Fast: the pieces the peer allowed us to request while it chokes us, in arrival order (the last 100). */
        readonly peerAllowedFastSet: readonly number[];
        /** Requests we sent that are still pending (oldest first). */
        requests: Request[];
        /** Requests the peer sent that we have not answered yet (oldest first). */
        peerRequests: PeerRequest[];
        /** Number of block bytes uploaded to the peer. */
        uploaded: number;
        /** Number of block bytes downloaded from the peer. */
        downloaded: number;
        /**
         * Requests from the peer dropped without reaching a `'request'` listener:
         * of length 0, longer than `maxBlockLength`, or past `maxPeerRequests`.
         */
        droppedRequests: number;
        /** Why the peer's bytes were rejected, once they were; `null` until then. */
        protocolError: WireError | null;
        /** The limit in force (see {@link WireOptions.maxFrameLength}). */
        readonly maxFrameLength: number;
        /**
         * MSE/PE: `null` until negotiated (and always on a wire without
         * `encryption`, or whose MSE handshake failed), then `'rc4'` or `'plaintext'`.
         */
        readonly encryption: 'rc4' | 'plaintext' | null;
        /** The limit in force (see {@link WireOptions.maxPeerRequests}); may be changed at any time. */
        maxPeerRequests: number;
        /** The limit in force (see {@link WireOptions.maxBlockLength}); may be changed at any time. */
        maxBlockLength: number;

        /** Current upload speed, in bytes per second. */
        uploadSpeed(): number;
        /** Current download speed, in bytes per second. */
        downloadSpeed(): number;

        /**
         * Sends our handshake; this must be the first message. `infoHash` is 20 bytes
         * (or a 40-char hex string), `peerId` is 20 bytes (or a 20-char string).
         * Throws a `RangeError` if either is not 20 bytes long, a `TypeError` if
         * either is neither bytes nor a string.
         */
        handshake(infoHash: string | Uint8Array, peerId: string | Uint8Array, extensions?: HandshakeExtensions): void;
        /**
         * Chokes the peer (drops its pending requests; with fast, sends a reject for
         * each, except those for pieces we allowed fast). No-op if already choking.
         */
        choke(): void;
        /** Fast (BEP 6): we have every piece (instead of a bitfield). Each fast method throws `Error('fast extension is disabled')` (`code` `'ERR_PEER_WIRE_FAST_DISABLED'`) unless `hasFast`. */
        haveAll(): void;
        /** Fast: we have no piece (instead of a bitfield). */
        haveNone(): void;
        /** Fast: suggests the peer download piece `index`. */
        suggest(index: number): void;
        /** Fast: we will not answer the peer's request (it is removed from `peerRequests`). */
        reject(index: number, offset: number, length: number): void;
        /** Fast: the peer may request piece `index` while we choke it (we serve it: `'request'` is emitted). */
        allowedFast(index: number): void;
        /** Unchokes the peer. No-op if not choking. */
        unchoke(): void;
        /** Tells the peer we are interested. No-op if already interested. */
        interested(): void;
        /** Tells the peer we are no longer interested. No-op if not interested. */
        uninterested(): void;
        /** Sends a have message: we have piece `index`. */
        have(index: number): void;
        /** Sends our bitfield (a buffer, or a bitfield object exposing its `buffer`). */
        bitfield(bitfield: Uint8Array | { buffer: Uint8Array }): void;
        /**
         * Requests a block from the peer. `callback` gets the block, or an error if the
         * wire is closed, the peer chokes us, the request is cancelled or times out.
         * With fast on, a piece in `peerAllowedFastSet` may be requested while the
         * peer chokes us, a choke does not fail pending requests, and a reject
         * fails its request with "request was rejected".
         */
        request(index: number, offset: number, length: number, callback?: RequestCallback): void;
        /** Sends a block to the peer (counts towards `uploaded`, emits `'upload'`). */
        piece(index: number, offset: number, block: Uint8Array): void;
        /** Cancels a pending request (its callback gets an error) and tells the peer. */
        cancel(index: number, offset: number, length: number): void;
        /**
         * Sends an extension protocol message with extended message id `id`. A buffer is
         * sent as is; anything else is bencoded first.
         */
        extended(id: number, message: Uint8Array | Record<string, unknown> | unknown[] | string | number): void;
        /**
         * Sends a message to the peer's extension `name` (BEP 10), with the id the
         * peer gave it in its extended handshake. A Uint8Array or any other
         * ArrayBuffer view is sent as is; anything else is bencoded first. Throws
         * `Error('Unrecognized extension: NAME')` if the peer did not name it (or
         * gave it id 0).
         */
        extended(name: string, message: ArrayBufferView | Record<string, unknown> | unknown[] | string | number): void;
        /**
         * Uses a BEP 10 extension (bittorrent-protocol's `use()`): makes
         * `new Extension(wire)`, gives it our next id (1, 2, … in call order) and
         * keeps it as `wire[name]`. Once it is called, our extended handshake
         * (`extendedHandshake` and `m`) is sent when both handshakes are done.
         * Throws if the prototype has no `name`, or the name is a property of the
         * wire already.
         */
        use(Extension: ExtensionConstructor): void;
        /** Our extensions: our id -> name (`{ 1: 'ut_metadata' }`). */
        extendedMapping: Record<number, string>;
        /** The extended handshake we send, without `m` (added from `extendedMapping`); extensions may add to it. */
        extendedHandshake: Record<string, unknown>;
        /** The peer's extended handshake, as decoded (`{}` until it arrives, decoded only once `use()` was called). */
        peerExtendedHandshake: ExtendedHandshake;
        /** The peer's extensions: name -> the id to send them with (0: not supported). */
        peerExtendedMapping: Record<string, number>;
        /** Sends our DHT port. */
        port(port: number): void;
        /** Starts (default) or, with `false`, stops sending a keep-alive every 60 seconds. */
        setKeepAlive(enable?: boolean): void;
        /**
         * Sets the request timeout: if the head request takes longer than `ms`
         * milliseconds its callback gets an error and `'timeout'` is emitted.
         * `onTimeout`, if given, is added as a `'timeout'` listener.
         */
        setTimeout(ms: number, onTimeout?: () => void): void;
        /**
         * Closes the wire: emits `'close'` and ends it. Pending request callbacks get a
         * "wire is closed" error. Unlike `stream.Duplex#destroy()`, any `error` argument
         * is ignored (no `'error'` is emitted) and nothing is returned.
         */
        destroy(error?: Error): void;
        /**
         * Never selected by a call (the signature above always matches first): it only
         * keeps `Wire` assignable to `stream.Duplex`, whose `destroy()` returns `this`.
         * At runtime `destroy()` returns `undefined`.
         */
        destroy(error?: Error): this;

        /** Adds a listener for `event` (typed for the events in {@link WireEvents}). */
        addListener<E extends WireEventName>(event: E, listener: WireEvents[E]): this;
        /** Any event not in {@link WireEvents}: untyped listener. */
        addListener<E extends string | symbol>(event: Exclude<E, WireEventName>, listener: (...args: any[]) => void): this;
        /** Adds a listener for `event` (typed for the events in {@link WireEvents}). */
        on<E extends WireEventName>(event: E, listener: WireEvents[E]): this;
        /** Any event not in {@link WireEvents}: untyped listener. */
        on<E extends string | symbol>(event: Exclude<E, WireEventName>, listener: (...args: any[]) => void): this;
        /** Adds a one-time listener for `event` (typed for the events in {@link WireEvents}). */
        once<E extends WireEventName>(event: E, listener: WireEvents[E]): this;
        /** Any event not in {@link WireEvents}: untyped listener. */
        once<E extends string | symbol>(event: Exclude<E, WireEventName>, listener: (...args: any[]) => void): this;
        /** Adds a listener for `event` at the front of the listener list. */
        prependListener<E extends WireEventName>(event: E, listener: WireEvents[E]): this;
        /** Any event not in {@link WireEvents}: untyped listener. */
        prependListener<E extends string | symbol>(event: Exclude<E, WireEventName>, listener: (...args: any[]) => void): this;
        /** Adds a one-time listener for `event` at the front of the listener list. */
        prependOnceListener<E extends WireEventName>(event: E, listener: WireEvents[E]): this;
        /** Any event not in {@link WireEvents}: untyped listener. */
        prependOnceListener<E extends string | symbol>(event: Exclude<E, WireEventName>, listener: (...args: any[]) => void): this;
        /** Removes a listener previously added for `event`. */
        removeListener<E extends WireEventName>(event: E, listener: WireEvents[E]): this;
        /** Any event not in {@link WireEvents}: untyped listener. */
        removeListener<E extends string | symbol>(event: Exclude<E, WireEventName>, listener: (...args: any[]) => void): this;
        /** Alias of `removeListener()`. */
        off<E extends WireEventName>(event: E, listener: WireEvents[E]): this;
        /** Any event not in {@link WireEvents}: untyped listener. */
        off<E extends string | symbol>(event: Exclude<E, WireEventName>, listener: (...args: any[]) => void): this;
        /** Emits `event` with the given arguments (typed for the events in {@link WireEvents}). */
        emit<E extends WireEventName>(event: E, ...args: Parameters<WireEvents[E]>): boolean;
        /** Any event not in {@link WireEvents}: untyped listener. */
        emit<E extends string | symbol>(event: Exclude<E, WireEventName>, ...args: any[]): boolean;
    }
}

export = Wire;
