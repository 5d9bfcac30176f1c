/**
 * Edits the top-level members of a JSON object as text, leaving every other byte alone. The gate
 * must not round-trip a prompt through JSON.parse/stringify: ComfyUI seeds are 64-bit integers that
 * JavaScript numbers would silently round.
 */
export function editTopLevelMembers(
  json: string,
  remove: ReadonlySet<string>,
  add: Readonly<Record<string, string>>
): string | undefined {
  const start = skipSpace(json, 0);
  if (json[start] !== '{') return undefined;
  const kept: string[] = [];
  let i = skipSpace(json, start + 1);
  if (json[i] === '}') {
    i++;
  } else {
    for (;;) {
      const memberStart = i;
      if (json[i] !== '"') return undefined;
      const keyEnd = skipString(json, i);
      if (keyEnd === -1) return undefined;
      const key = JSON.parse(json.slice(i, keyEnd)) as string;
      i = skipSpace(json, keyEnd);
      if (json[i] !== ':') return undefined;
      const valueEnd = skipValue(json, skipSpace(json, i + 1));
      if (valueEnd === -1) return undefined;
      if (!remove.has(key) && !(key in add)) kept.push(json.slice(memberStart, valueEnd));
      i = skipSpace(json, valueEnd);
      if (json[i] === ',') {
        i = skipSpace(json, i + 1);
        continue;
      }
      if (json[i] === '}') {
        i++;
        break;
      }
      return undefined;
    }
  }
  if (skipSpace(json, i) !== json.length) return undefined;
  const added = Object.entries(add).map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
  return `{${[...added, ...kept].join(',')}}`;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  return i;
}

/** Index just past the string starting at `i` (which is a quote), or -1. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') j++;
    else if (ch === '"') return j + 1;
  }
  return -1;
}

/** Index just past the value starting at `i`: strings, nested containers and bare literals. */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const ch = text[j];
      if (ch === '"') {
        j = skipString(text, j) - 1;
        if (j < 0) return -1;
      } else if (ch === '{' || ch === '[') {
        depth++;
      } else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !',}] \n\r\t'.includes(text[j]!)) j++;
  return j === i ? -1 : j;
}
