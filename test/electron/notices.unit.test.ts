import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBackendNotices } from '../../electron/notify/backendNotices.js';
import { noticeContent, type GateNotice } from '../../electron/notify/gateNotices.js';
import { createUpstreamNotices } from '../../electron/notify/upstreamNotices.js';
import type { NotificationSettings } from '../../server/settings/settingsSchema.js';

const ALL_ON: NotificationSettings = { comfyDown: true, firstUse: true, lockout: true, quota: true };
const UPSTREAM = 'http://127.0.0.1:8188';

const NOTICES: Record<GateNotice['kind'], GateNotice> = {
  comfyDown: { kind: 'comfyDown', upstreamUrl: UPSTREAM },
  comfyUp: { kind: 'comfyUp', upstreamUrl: UPSTREAM },
  backendDown: { kind: 'backendDown', label: 'gpu1', url: 'http://127.0.0.1:8190' },
  backendUp: { kind: 'backendUp', label: 'gpu1', url: 'http://127.0.0.1:8190' },
  firstUse: { kind: 'firstUse', key: { id: 'k1', name: 'Ana laptop' } },
  lockout: { kind: 'lockout', ip: '192.168.1.44', until: Date.now() + 15 * 60_000 },
  quota: { kind: 'quota', key: { id: 'k2', name: 'Ben', limit: 20, measure: 'prompts' } },
};

describe('noticeContent: gate event → notification, per setting', () => {
  it.each([
    ['comfyDown', /ComfyUI is not answering/, /127\.0\.0\.1:8188/, ''],
    ['comfyUp', /ComfyUI is back/, /127\.0\.0\.1:8188/, ''],
    [
      'backendDown',
      /ComfyUI backend "gpu1" is not answering/,
      /8190 stopped answering\. New prompts go to the other/,
      '',
    ],
    ['backendUp', /ComfyUI backend "gpu1" is back/, /8190 answers again/, ''],
    ['firstUse', /Key "Ana laptop" used for the first time/, /started using/, '#/keys'],
    ['lockout', /Locked out 192\.168\.1\.44/, /Too many wrong keys/, '#/audit'],
    ['quota', /Key "Ben" reached its daily quota/, /20 prompts today/, '#/usage'],
  ] as const)('%s with its switch on: a notification naming what happened', (kind, title, body, route) => {
    const content = noticeContent(NOTICES[kind], ALL_ON);
    expect(content?.title).toMatch(title);
    expect(content?.body).toMatch(body);
    expect(content?.route).toBe(route);
  });

  it.each([
    ['comfyDown', ['comfyDown', 'comfyUp', 'backendDown', 'backendUp']],
    ['firstUse', ['firstUse']],
    ['lockout', ['lockout']],
    ['quota', ['quota']],
  ] as const)('switching %s off silences exactly its notices', (setting, silenced) => {
    const settings = { ...ALL_ON, [setting]: false };
    for (const notice of Object.values(NOTICES)) {
      const shown = noticeContent(notice, settings) !== null;
      expect(shown, notice.kind).toBe(!(silenced as readonly string[]).includes(notice.kind));
    }
  });
});

it('a key that reached its GPU seconds per day is told in seconds of GPU time', () => {
  const content = noticeContent(
    { kind: 'quota', key: { id: 'k2', name: 'Ben', limit: 3600, measure: 'gpuSeconds' } },
    ALL_ON
  );
  expect(content?.body).toMatch(/3600 seconds of GPU time today/);
});

describe('createUpstreamNotices: ComfyUI down and back, without flapping', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    const notify = vi.fn<(notice: GateNotice) => void>();
    const notices = createUpstreamNotices({
      upstreamUrl: UPSTREAM,
      graceMs: 15_000,
      notify,
      setTimer: (run, ms) => setTimeout(run, ms),
      clearTimer: (timer) => clearTimeout(timer),
    });
    const kinds = () => notify.mock.calls.map(([notice]) => notice.kind);
    return { notices, kinds };
  }

  it('says "down" once ComfyUI stayed down for the grace period, then "back" when it answers', () => {
    const { notices, kinds } = setup();
    notices.reachability(true);
    notices.reachability(false);
    vi.advanceTimersByTime(14_999);
    expect(kinds()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(kinds()).toEqual(['comfyDown']);
    notices.reachability(false);
    vi.advanceTimersByTime(60_000);
    expect(kinds()).toEqual(['comfyDown']);
    notices.reachability(true);
    expect(kinds()).toEqual(['comfyDown', 'comfyUp']);
  });

  it('a restart within the grace period (down, up, down, up) says nothing', () => {
    const { notices, kinds } = setup();
    notices.reachability(true);
    for (let i = 0; i < 5; i++) {
      notices.reachability(false);
      vi.advanceTimersByTime(5_000);
      notices.reachability(true);
    }
    vi.advanceTimersByTime(60_000);
    expect(kinds()).toEqual([]);
  });

  it('ComfyUI not running when the app starts is not news (the tray shows it); its first answer neither', () => {
    const { notices, kinds } = setup();
    notices.reachability(false);
    vi.advanceTimersByTime(60_000);
    notices.reachability(true);
    expect(kinds()).toEqual([]);
  });

  it('dispose drops a pending "down"', () => {
    const { notices, kinds } = setup();
    notices.reachability(true);
    notices.reachability(false);
    notices.dispose();
    vi.advanceTimersByTime(60_000);
    expect(kinds()).toEqual([]);
  });
});

describe('createBackendNotices: one of several ComfyUIs down and back, named', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('names the backend that stayed down while the others run, then says it is back; the others say nothing', () => {
    const notify = vi.fn<(notice: GateNotice) => void>();
    const notices = createBackendNotices({
      graceMs: 15_000,
      notify,
      setTimer: (run, ms) => setTimeout(run, ms),
      clearTimer: (timer) => clearTimeout(timer),
    });
    const gpu0 = { url: 'http://127.0.0.1:8188', label: 'gpu0' };
    const gpu1 = { url: 'http://127.0.0.1:8190', label: 'gpu1' };
    notices.reachability({ ...gpu0, reachable: true });
    notices.reachability({ ...gpu1, reachable: true });
    notices.reachability({ ...gpu1, reachable: false });
    vi.advanceTimersByTime(14_999);
    expect(notify).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    notices.reachability({ ...gpu1, reachable: true });
    // gpu0 restarts within the grace period: not news.
    notices.reachability({ ...gpu0, reachable: false });
    vi.advanceTimersByTime(5_000);
    notices.reachability({ ...gpu0, reachable: true });
    vi.advanceTimersByTime(60_000);
    expect(notify.mock.calls.map(([notice]) => notice)).toEqual([
      { kind: 'backendDown', ...gpu1 },
      { kind: 'backendUp', ...gpu1 },
    ]);
    notices.dispose();
  });
});
