// Reads and edits JSON as text, leaving every other byte alone. The gate must not round-trip a
// prompt, a queue or a history through JSON.parse/stringify: ComfyUI seeds are 64-bit integers that
// JavaScript numbers would silently round.

/**
 * JSON as a string, or as the UTF-8 bytes it arrived in (a request body, never decoded whole): its
 * structure is ASCII in both, and UTF-8 never uses an ASCII byte inside a multi-byte character.
 */
export type JsonText = string | Buffer;

/** One member of a JSON object as text: its key and where its value lies, `[valueStart, valueEnd)`. */
export interface JsonMember {
  key: string;
  valueStart: number;
  valueEnd: number;
  /** Where the member (its key) starts. */
  start: number;
}

/**
 * The members of the JSON object whose `{` is the first non-space character at or after `from`, or
 * undefined when the text there is no well-formed object. Values are located, never parsed.
 */
export function objectMembers(json: JsonText, from = 0, to = json.length): JsonMember[] | undefined {
  const open = skipSpace(json, from);
  if (codeAt(json, open) !== OPEN_BRACE) return undefined;
  const members: JsonMember[] = [];
  let i = skipSpace(json, open + 1);
  if (codeAt(json, i) === CLOSE_BRACE) return skipSpace(json, i + 1) === to ? members : undefined;
  for (;;) {
    const start = i;
    if (codeAt(json, i) !== QUOTE) return undefined;
    const keyEnd = skipString(json, i);
    if (keyEnd === -1) return undefined;
    const key = keyOf(json, i, keyEnd);
    i = skipSpace(json, keyEnd);
    if (codeAt(json, i) !== COLON) return undefined;
    const valueStart = skipSpace(json, i + 1);
    const valueEnd = skipValue(json, valueStart);
    if (valueEnd === -1) return undefined;
    members.push({ key, valueStart, valueEnd, start });
    i = skipSpace(json, valueEnd);
    if (codeAt(json, i) === COMMA) {
      i = skipSpace(json, i + 1);
      continue;
    }
    if (codeAt(json, i) === CLOSE_BRACE) return skipSpace(json, i + 1) === to ? members : undefined;
    return undefined;
  }
}

/** A member as it stands in `json`: key, colon and value. */
export function memberText(json: string, member: JsonMember): string {
  return json.slice(member.start, member.valueEnd);
}

/** The object `members` were read from, with one member's value replaced by `valueText`, order kept. */
export function withMemberValue(
  json: string,
  members: readonly JsonMember[],
  replaced: JsonMember,
  valueText: string
): string {
  const out = members.map((m) => (m === replaced ? `${JSON.stringify(m.key)}:${valueText}` : memberText(json, m)));
  return `{${out.join(',')}}`;
}

/** A parsed JSON value that is an object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `[start, end)` ranges of the items of the JSON array between `from` and `to`, or undefined. */
export function arrayItems(json: JsonText, from = 0, to = json.length): Array<[number, number]> | undefined {
  const open = skipSpace(json, from);
  if (codeAt(json, open) !== OPEN_BRACKET) return undefined;
  const items: Array<[number, number]> = [];
  let i = skipSpace(json, open + 1);
  if (codeAt(json, i) === CLOSE_BRACKET) return skipSpace(json, i + 1) === to ? items : undefined;
  for (;;) {
    const end = skipValue(json, i);
    if (end === -1) return undefined;
    items.push([i, end]);
    i = skipSpace(json, end);
    if (codeAt(json, i) === COMMA) {
      i = skipSpace(json, i + 1);
      continue;
    }
    if (codeAt(json, i) === CLOSE_BRACKET) return skipSpace(json, i + 1) === to ? items : undefined;
    return undefined;
  }
}

/** Part of an edited JSON text: new text, or the range of the source text kept as it is. */
export type JsonPiece = string | JsonRange;

/** `[start, end)` of the source text. */
export interface JsonRange {
  start: number;
  end: number;
}

/**
 * The object `members` were read from, as pieces: members named in `remove`, `add` or `addRaw` are
 * left out, `add` and `addRaw` members come first. Kept members are ranges of the source, so a
 * caller holding the source as bytes forwards them without copying. `add` values are strings;
 * `addRaw` values are JSON text or pieces, put in as they are.
 */
export function editedMembers(
  members: readonly JsonMember[],
  remove: ReadonlySet<string>,
  add: Readonly<Record<string, string>>,
  addRaw: Readonly<Record<string, string | readonly JsonPiece[]>> = {}
): JsonPiece[] {
  const pieces: JsonPiece[] = [];
  let text = '{';
  for (const [key, value] of Object.entries(add)) {
    text += `${text === '{' ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  for (const [key, value] of Object.entries(addRaw)) {
    text += `${text === '{' ? '' : ','}${JSON.stringify(key)}:`;
    if (typeof value === 'string') {
      text += value;
      continue;
    }
    pieces.push(text, ...value);
    text = '';
  }
  let first = pieces.length === 0 && text === '{';
  for (const member of members) {
    if (remove.has(member.key) || member.key in add || member.key in addRaw) continue;
    if (!first) text += ',';
    first = false;
    if (text !== '') pieces.push(text);
    text = '';
    pieces.push({ start: member.start, end: member.valueEnd });
  }
  pieces.push(text + '}');
  return pieces;
}

/** The pieces as one text, ranges taken from `json`. */
export function joinPieces(json: string, pieces: readonly JsonPiece[]): string {
  let out = '';
  for (const piece of pieces) out += typeof piece === 'string' ? piece : json.slice(piece.start, piece.end);
  return out;
}

/**
 * Removes and adds top-level members of a JSON object as text, leaving every other byte alone.
 * `add` values are strings; `addRaw` values are JSON text put in as they are.
 */
export function editTopLevelMembers(
  json: string,
  remove: ReadonlySet<string>,
  add: Readonly<Record<string, string>>,
  addRaw: Readonly<Record<string, string>> = {}
): string | undefined {
  const members = objectMembers(json);
  return members && joinPieces(json, editedMembers(members, remove, add, addRaw));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The character code (a byte, for bytes) at `i`; NaN past the end, as charCodeAt answers. */
function codeAt(text: JsonText, i: number): number {
  return typeof text === 'string' ? text.charCodeAt(i) : (text[i] ?? Number.NaN);
}

/** The text between `start` and `end`, decoded when `text` is bytes. */
function textOf(text: JsonText, start: number, end: number): string {
  return typeof text === 'string' ? text.slice(start, end) : text.toString('utf8', start, end);
}

/**
 * The key whose quoted text lies in `[start, end)`. Keys are nearly always plain (no escape, no control character),
 * and then their text between the quotes is the key: JSON.parse only for the rest (it also refuses what is invalid).
 */
function keyOf(text: JsonText, start: number, end: number): string {
  for (let j = start + 1; j < end - 1; j++) {
    const code = codeAt(text, j);
    if (code === BACKSLASH || code < 0x20) return JSON.parse(textOf(text, start, end)) as string;
  }
  return textOf(text, start + 1, end - 1);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function skipSpace(text: JsonText, i: number): number {
  while (i < text.length && isSpace(codeAt(text, i))) i++;
  return i;
}

/** Index just past the string starting at `i` (which is a quote), or -1. */
function skipString(text: JsonText, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const code = codeAt(text, j);
    if (code === BACKSLASH) j++;
    else if (code === QUOTE) return j + 1;
  }
  return -1;
}

/** Index just past the value starting at `i`: strings, nested containers and bare literals. */
function skipValue(text: JsonText, i: number): number {
  const first = codeAt(text, i);
  if (first === QUOTE) return skipString(text, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const code = codeAt(text, j);
      if (code === QUOTE) {
        j = skipString(text, j) - 1;
        if (j < 0) return -1;
      } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        depth++;
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !endsLiteral(codeAt(text, j))) j++;
  return j === i ? -1 : j;
}

function endsLiteral(code: number): boolean {
  return code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || isSpace(code);
}
