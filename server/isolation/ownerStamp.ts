import {
  arrayItems,
  editedMembers,
  objectMembers,
  type JsonMember,
  type JsonPiece,
  type JsonText,
} from '../pipeline/jsonMembers.js';

/**
 * The member the gate writes into every prompt's `extra_data`. ComfyUI keeps `extra_data` in the
 * queue item and in the history entry, so ownership survives a restart of the gate; a caller's own
 * value is always replaced, so it cannot be forged.
 */
export const OWNER_FIELD = 'comfygate_owner';

const DROP_OWNER = new Set([OWNER_FIELD]);

/**
 * The `POST /prompt` body `members` were read from, as pieces (see jsonMembers.ts), with the owner
 * stamped into `extra_data` (created when missing); undefined when `extra_data` is not an object
 * (ComfyUI refuses such a prompt itself).
 */
export function stampOwner(
  body: JsonText,
  members: readonly JsonMember[],
  subject: string,
  remove: ReadonlySet<string>,
  add: Readonly<Record<string, string>>,
  addRaw: Readonly<Record<string, string>> = {}
): JsonPiece[] | undefined {
  const extra = members.findLast((m) => m.key === 'extra_data');
  let extraData: string | JsonPiece[] = `{${JSON.stringify(OWNER_FIELD)}:${JSON.stringify(subject)}}`;
  if (extra) {
    const extraMembers = objectMembers(body, extra.valueStart, extra.valueEnd);
    if (extraMembers === undefined) return undefined;
    extraData = editedMembers(extraMembers, DROP_OWNER, { [OWNER_FIELD]: subject });
  }
  return editedMembers(members, remove, add, { ...addRaw, extra_data: extraData });
}

/**
 * The owner stamped in a queue item or history `prompt` tuple (`[number, prompt_id, prompt,
 * extra_data, outputs]`) found in `json` between `start` and `end`; undefined when unstamped.
 */
export function ownerOfTuple(json: string, start: number, end: number): string | undefined {
  const items = arrayItems(json, start, end);
  const extra = items?.[3];
  if (!extra) return undefined;
  const members = objectMembers(json, extra[0], extra[1]);
  const owner = members?.find((m) => m.key === OWNER_FIELD);
  if (!owner) return undefined;
  const value: unknown = JSON.parse(json.slice(owner.valueStart, owner.valueEnd));
  return typeof value === 'string' ? value : undefined;
}

/** The prompt id (second item) of a queue tuple, when it is a string. */
export function promptIdOfTuple(json: string, start: number, end: number): string | undefined {
  const id = arrayItems(json, start, end)?.[1];
  if (!id || json[id[0]] !== '"') return undefined;
  return JSON.parse(json.slice(id[0], id[1])) as string;
}

/** The priority number (first item) of a queue tuple, when it is a finite number. */
export function numberOfTuple(json: string, start: number, end: number): number | undefined {
  const first = arrayItems(json, start, end)?.[0];
  if (!first) return undefined;
  const value = Number(json.slice(first[0], first[1]));
  return json[first[0]] !== '"' && Number.isFinite(value) ? value : undefined;
}
