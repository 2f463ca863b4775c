// Type-level test of index.d.ts (only type-checked, never run): an ES module
// importing the package by its name (module node16, through package.json
// "exports"); the default import's name is the wire's type.

import Wire from 'peer-wire-native';
import pwp = require('peer-wire-native');

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): void {}

const made: Wire = new Wire();
const called: Wire = Wire({ speed: 5 });
const named: Wire.Wire = made;
const other: pwp = pwp();
assertType<Equals<typeof called, Wire>>();
assertType<Equals<pwp, pwp.Wire>>();
assertType<Equals<Wire, pwp>>();
void [named, other];
// @ts-expect-error the type is the wire, not the factory
const notTheFactory: Wire = Wire;
