import { objectMembers, type JsonMember, type JsonPiece } from './jsonMembers.js';

const NOTHING: ReadonlySet<string> = new Set<string>();
const NO_MEMBERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A request body as the body checks see it: the bytes that came in, held once, and their top-level
 * members located in place (never parsed into objects); only the few small members a check needs are
 * parsed. A prompt can be 100 MB of workflow, so an edited body is forwarded as new pieces around
 * slices of the original bytes.
 */
export class InspectedBody {
  /** The top-level members of a JSON object body, or undefined when it is none. */
  readonly members: JsonMember[] | undefined;
  /** Top-level members the prompt's one edit drops (queue jumping, for callers who may not manage the queue). */
  remove: ReadonlySet<string> = NOTHING;
  /** Top-level members the prompt's one edit sets, as JSON text (the fair order's `number`); they win over `remove`. */
  addRaw: Readonly<Record<string, string>> = NO_MEMBERS;

  constructor(readonly bytes: Buffer) {
    this.members = membersOf(bytes);
  }

  /** The value of the last member named `key` (JSON's last one wins, in Python as in JavaScript). */
  value(key: string): unknown {
    const members = this.members;
    if (members === undefined) return undefined;
    const member = members.findLast((m) => m.key === key);
    return member === undefined ? undefined : this.#parsed(member);
  }

  /** Every member's value, in order. */
  values(): unknown[] {
    return this.members ? this.members.map((member) => this.#parsed(member)) : [];
  }

  /** Edited body pieces as bytes: new text encoded, kept ranges sliced (not copied) from the original. */
  asBuffers(pieces: readonly JsonPiece[]): Buffer[] {
    const bytes = this.bytes;
    return pieces.map((piece) =>
      typeof piece === 'string' ? Buffer.from(piece, 'utf8') : bytes.subarray(piece.start, piece.end)
    );
  }

  #parsed(member: JsonMember): unknown {
    try {
      return JSON.parse(this.bytes.toString('utf8', member.valueStart, member.valueEnd)) as unknown;
    } catch {
      return undefined;
    }
  }
}

function membersOf(bytes: Buffer): JsonMember[] | undefined {
  try {
    return objectMembers(bytes);
  } catch {
    // A key that is no valid JSON string: ComfyUI refuses the body itself.
    return undefined;
  }
}
