import type { PublicKeyRecord } from '../keys/keySchema.js';
import type { KeyStore } from '../keys/keyStore.js';
import { CliError, EXIT_FAILURE } from './exitCodes.js';

/**
 * The key an operator means: its id, or else its name when exactly one key has it (exact spelling first,
 * then ignoring case). A name shared by several keys is refused rather than guessed: the command would
 * act on the wrong teammate's key.
 */
export function findKey(store: KeyStore, reference: string): PublicKeyRecord {
  const byId = store.get(reference);
  if (byId !== undefined) return byId;
  const wanted = reference.trim();
  const records = store.list();
  let named = records.filter((record) => record.name === wanted);
  if (named.length === 0) {
    const lower = wanted.toLowerCase();
    named = records.filter((record) => record.name.toLowerCase() === lower);
  }
  const [only] = named;
  if (only !== undefined && named.length === 1) return only;
  if (named.length > 1) {
    const ids = named.map((record) => record.id).join(', ');
    throw new CliError(`${named.length} keys are named "${wanted}" (${ids}): give the id instead`, EXIT_FAILURE);
  }
  throw new CliError(`no key with id or name "${wanted}" (comfygate keys list shows them)`, EXIT_FAILURE);
}
