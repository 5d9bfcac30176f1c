import type { GateEvents, GateHandle } from '../../server/contract/desktop.js';

/** What the tray app does on each event of the gate it started. */
export type GateListeners = { [E in keyof GateEvents]?: (...args: GateEvents[E]) => void };

/** Listens to the gate's events; returns how to stop (the tray goes before the gate stops). */
export function listenToGate(events: GateHandle['events'], listeners: GateListeners): () => void {
  const names = Object.keys(listeners) as Array<keyof GateEvents>;
  // One cast per call: TypeScript cannot pair a key of a mapped type with its own value's type in a loop.
  const on = (name: keyof GateEvents): ((...args: never[]) => void) => listeners[name] as (...args: never[]) => void;
  for (const name of names) events.on(name, on(name));
  return () => {
    for (const name of names) events.off(name, on(name));
  };
}
