import { describe, expect, it } from 'vitest';
import { editTopLevelMembers, objectMembers } from '../../server/pipeline/jsonMembers.js';

const NONE = new Set<string>();

describe('editTopLevelMembers', () => {
  it('removes and adds top-level members while every other byte stays', () => {
    const text =
      '{"prompt": {"3": {"inputs": {"seed": 18446744073709551615, "s": "a,}b"}}}, "front": true, "number": 1.5}';
    const out = editTopLevelMembers(text, new Set(['front', 'number']), { prompt_id: 'p1' });
    expect(out).toBe('{"prompt_id":"p1","prompt": {"3": {"inputs": {"seed": 18446744073709551615, "s": "a,}b"}}}}');
  });

  it('replaces a member given in `add` instead of duplicating it', () => {
    expect(editTopLevelMembers('{ "client_id" : "" , "x":[1,{"y":"]"}] }', NONE, { client_id: 'c' })).toBe(
      '{"client_id":"c","x":[1,{"y":"]"}]}'
    );
  });

  it('handles escaped quotes in keys and strings, and empty objects', () => {
    expect(editTopLevelMembers('{"a\\"b": "c\\"}"}', NONE, {})).toBe('{"a\\"b": "c\\"}"}');
    expect(editTopLevelMembers(' {} ', NONE, { a: 'b' })).toBe('{"a":"b"}');
  });

  it.each(['[1]', '{"a":}', '{"a":1,}', '{"a":1} x', '"str"', '{"a" 1}'])('gives up on %s', (text) => {
    expect(editTopLevelMembers(text, NONE, {})).toBeUndefined();
  });
});

describe('objectMembers', () => {
  it('reads each key as JSON.parse does, in text and in bytes', () => {
    const text = '{"plain": 1, "a\\"b": 2, "\\u0061rgv": 3, "ünï😀": 4, "": 5}';
    for (const json of [text, Buffer.from(text)]) {
      expect(objectMembers(json)?.map((m) => m.key)).toEqual(Object.keys(JSON.parse(text) as object));
    }
  });

  it('refuses a key with a raw control character, as JSON.parse does', () => {
    expect(() => objectMembers('{"a\tb": 1}')).toThrow(SyntaxError);
  });
});
