import { describe, expect, it } from 'vitest';
import {
  backendErrorsFrom,
  backendsDraft,
  parseBackends,
  sameBackends,
  type BackendDraft,
} from '../../renderer/src/lib/backendsDraft.js';

const row = (url: string, label = '', weight = ''): BackendDraft => ({ url, label, weight });

describe('the ComfyUIs typed in Settings', () => {
  it('shows the saved list, or the one saved address, or one empty row for discovery', () => {
    expect(
      backendsDraft({ upstreams: [{ url: 'http://a:1', label: 'gpu0', weight: 2 }, { url: 'http://b:1' }] })
    ).toEqual([row('http://a:1', 'gpu0', '2'), row('http://b:1')]);
    expect(backendsDraft({ upstream: 'http://a:1' })).toEqual([row('http://a:1')]);
    expect(backendsDraft({})).toEqual([row('')]);
  });

  it('saves one plain address as upstream and anything more as upstreams', () => {
    expect(parseBackends([row(' http://a:1 ')]).patch).toEqual({ upstream: 'http://a:1', upstreams: null });
    expect(parseBackends([row('')]).patch).toEqual({ upstream: null, upstreams: null });
    expect(parseBackends([row('http://a:1', 'gpu0')]).patch).toEqual({
      upstreams: [{ url: 'http://a:1', label: 'gpu0' }],
    });
    expect(parseBackends([row('http://a:1', '', '2'), row('http://b:1', 'b')]).patch).toEqual({
      upstreams: [
        { url: 'http://a:1', weight: 2 },
        { url: 'http://b:1', label: 'b' },
      ],
    });
  });

  it('tells an empty address, a bad weight and a URL listed twice beside the box', () => {
    const { errors } = parseBackends([row('http://a:1', '', '0'), row(''), row('http://a:1/', '', 'x')]);
    expect(errors).toEqual([
      { weight: 'A number above 0 and up to 1000, or empty for 1' },
      { url: 'The ComfyUI’s address, or remove this row' },
      { url: 'Listed twice: each ComfyUI once', weight: 'A number above 0 and up to 1000, or empty for 1' },
    ]);
  });

  it('places the gate’s field problems on their rows', () => {
    expect(backendErrorsFrom({ 'upstreams.1.url': 'bad', 'upstreams.0.weight': 'big', host: 'x' }, 2)).toEqual([
      { weight: 'big' },
      { url: 'bad' },
    ]);
    expect(backendErrorsFrom({ upstream: 'bad' }, 1)).toEqual([{ url: 'bad' }]);
    expect(sameBackends([row('http://a:1 ')], [row('http://a:1')])).toBe(true);
  });
});
