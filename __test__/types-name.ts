// Type-level test of index.d.ts (only type-checked, never run): the export's
// own name is the wire's type, as a class's name would be. Checked in every
// module setting: `npm run test:types` runs tsc with each __test__/tsconfig*.json
// (module commonjs and node16, esModuleInterop on and off).

import Wire = require('..');
import * as net from 'net';
import { Duplex } from 'stream';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): void {}

function seed(socket: net.Socket): Wire {
    const wire = new Wire();
    socket.pipe(wire).pipe(socket);
    wire.on('handshake', (infoHash) => wire.handshake(infoHash, Buffer.alloc(20)));
    return wire;
}

const made = new Wire({ speed: 5 });
const called = Wire();
assertType<Equals<typeof made, Wire>>();
assertType<Equals<typeof called, Wire>>();
assertType<Equals<Wire, Wire.Wire>>();
assertType<Equals<InstanceType<typeof Wire>, Wire>>();

const wires: Wire[] = [seed(new net.Socket()), made, called];
const named: Wire.Wire = wires[0];
const duplex: Duplex = named;
const options: Wire.WireOptions = { maxFrameLength: 1 << 20 };
const pending: Wire.Request[] = called.requests;
const pieces: Wire.PeerPieces = made.peerPieces;
if (duplex instanceof Wire) { const back: Wire = duplex; void back; }
void [options, pending, pieces];

// @ts-expect-error the type is the wire, not the factory
const notTheFactory: Wire = Wire;
// @ts-expect-error a Duplex is not a wire
const notAWire: Wire = new Duplex();
