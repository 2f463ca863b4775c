// Type-level test of index.d.ts (only type-checked, never run): with
// esModuleInterop, the default import's name is the wire's type too.

import Wire from '..';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): void {}

const made: Wire = new Wire();
const called: Wire = Wire({ speed: 5 });
const named: Wire.Wire = made;
assertType<Equals<typeof called, Wire>>();
assertType<Equals<ReturnType<typeof Wire>, Wire.Wire>>();
void named;
// @ts-expect-error the type is the wire, not the factory
const notTheFactory: Wire = Wire;
