/**
 * The four Reflect metadata calls @peculiar/x509's dependency injection (tsyringe) makes, which it
 * requires from a polyfill (normally reflect-metadata). Installed only where none is, before the
 * library loads; nothing else of the gate uses it.
 */
type Key = unknown;
type Property = string | symbol | undefined;

const store = new WeakMap<object, Map<Property, Map<Key, unknown>>>();

function ownMap(target: object, property: Property, create: boolean): Map<Key, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (entries === undefined && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

const polyfill = {
  defineMetadata(key: Key, value: unknown, target: object, property?: Property): void {
    ownMap(target, property, true)?.set(key, value);
  },
  getOwnMetadata(key: Key, target: object, property?: Property): unknown {
    return ownMap(target, property, false)?.get(key);
  },
  getMetadata(key: Key, target: object, property?: Property): unknown {
    for (
      let current: object | null = target;
      current !== null;
      current = Object.getPrototypeOf(current) as object | null
    ) {
      const entries = ownMap(current, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  },
  metadata(key: Key, value: unknown) {
    return (target: object, property?: Property): void => polyfill.defineMetadata(key, value, target, property);
  },
};

export function installReflectMetadata(): void {
  if ('getMetadata' in Reflect) return;
  Object.assign(Reflect, polyfill);
}
