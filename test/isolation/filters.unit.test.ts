// The pieces of team isolation that see ComfyUI answers the fake cannot produce: shapes from other
// ComfyUI builds, Windows paths, argv forms, and frames only custom nodes send.
import { describe, expect, it } from 'vitest';
import { PromptOwners } from '../../server/isolation/promptOwners.js';
import { redactArgv, redactExecutionError, redactPaths } from '../../server/isolation/redactErrors.js';
import { filterResponse } from '../../server/isolation/responseFilters.js';
import { isolatedFrame } from '../../server/ws/isolatedFrames.js';

function ownersOf(entries: Record<string, string>): PromptOwners {
  const owners = new PromptOwners();
  for (const [id, subject] of Object.entries(entries)) owners.record(id, subject);
  return owners;
}

function previewWithMetadata(metadata: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify(metadata));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(4, 0);
  head.writeUInt32BE(json.length, 4);
  return Buffer.concat([head, json, Buffer.from([0xff, 0xd8, 0xff])]);
}

describe('filterResponse', () => {
  it('refuses an answer of a shape it does not know instead of passing it on', () => {
    const owners = new PromptOwners();
    expect(filterResponse('queue', '[1,2]', 'k1', owners, null)).toBeUndefined();
    expect(filterResponse('queue', '{"queue_running": {"a": 1}}', 'k1', owners, null)).toBeUndefined();
    expect(filterResponse('history', '{"p1": [1]}', 'k1', owners, null)).toBeUndefined();
    expect(filterResponse('jobs', '{"items": []}', 'k1', owners, null)).toBeUndefined();
    expect(filterResponse('system_stats', 'not json', 'k1', owners, null)).toBeUndefined();
  });

  it("redacts system_stats' argv to flag names and passes every other byte as ComfyUI wrote it", () => {
    const owners = new PromptOwners();
    const stats =
      '{"system": {"os": "posix", "ram_free": 12345678901234567890, "argv": ["main.py", "--listen", "0.0.0.0",' +
      ' "--output-directory=/home/ann/out"], "python_version": "3.12"}, "devices": [{"name": "cpu", "vram_free": 1.0}]}';
    const filtered = filterResponse('system_stats', stats, 'k1', owners, null)!;
    expect(filtered).toBe(
      '{"system": {"os": "posix", "ram_free": 12345678901234567890, "argv": ["--listen","--output-directory"],' +
        ' "python_version": "3.12"}, "devices": [{"name": "cpu", "vram_free": 1.0}]}'
    );
    // The same argv with other figures around it: redacted again, not served from the previous answer.
    const later = stats.replace('12345678901234567890', '5').replace('"posix"', '"nt"');
    expect(JSON.parse(filterResponse('system_stats', later, 'k1', owners, null)!)).toEqual({
      system: { os: 'nt', ram_free: 5, argv: ['--listen', '--output-directory'], python_version: '3.12' },
      devices: [{ name: 'cpu', vram_free: 1 }],
    });
    expect(filterResponse('system_stats', '{"devices": []}', 'k1', owners, null)).toBe('{"devices": []}');
    expect(filterResponse('system_stats', '{"system": {"argv": ["a", "--b=c"]', 'k1', owners, null)).toBeUndefined();
    expect(filterResponse('system_stats', '{"system": {"argv": [1, }}', 'k1', owners, null)).toBeUndefined();
  });

  it('learns owners from the stamp, so a restarted gate still knows whose prompt is whose', () => {
    const owners = new PromptOwners();
    const queue =
      '{"queue_running": [[0, "p1", {}, {"comfygate_owner": "k1"}, ["9"]]],' +
      ' "queue_pending": [[1, "p2", {}, {"comfygate_owner": "k2"}, ["9"]], [2, "p3", {}, {}, ["9"]]]}';
    const mine = JSON.parse(filterResponse('queue', queue, 'k2', owners, null, undefined, () => 40)!) as Record<
      string,
      unknown
    >;
    expect(mine).toEqual({
      queue_running: [],
      queue_pending: [[1, 'p2', {}, { comfygate_owner: 'k2' }, ['9']]],
      comfygate_hidden: { running: 1, pending: 1 },
      comfygate: { running: false, position: 1, ahead: 1, startsInSeconds: 40 },
    });
    expect(owners.ownerOf('p1')).toBe('k1');
    expect(owners.owns('k2', 'p2')).toBe(true);
  });

  it("replaces ComfyUI's own comfygate_hidden- and comfygate-like members rather than trusting them", () => {
    const text = filterResponse(
      'queue',
      '{"queue_running": [], "queue_pending": [], "comfygate_hidden": {"running": 99}, "comfygate": {"position": 1}}',
      'k1',
      new PromptOwners(),
      null
    );
    expect(JSON.parse(text!)).toEqual({
      queue_running: [],
      queue_pending: [],
      comfygate_hidden: { running: 0, pending: 0 },
      comfygate: { running: false, position: null, ahead: null, startsInSeconds: null },
    });
  });

  it("keeps the caller's own jobs of the jobs API", () => {
    const owners = ownersOf({ j1: 'k1', j2: 'k2' });
    const text = filterResponse('jobs', '{"jobs": [{"id": "j1"}, {"id": "j2"}], "total": 2}', 'k1', owners, null);
    expect(JSON.parse(text!)).toEqual({ jobs: [{ id: 'j1' }], total: 2 });
  });
});

describe('the jobs API of newer ComfyUI builds', () => {
  const failed =
    '{"id": "j1", "status": "failed", "priority": 3, "execution_error": {"node_id": "2", "exception_type": "OSError",' +
    ' "exception_message": "cannot read /srv/comfy/input/a.png", "traceback": ["  File \\"/srv/comfy/nodes.py\\""]}}';

  it("redacts the errors of the caller's own jobs in the list and in a single job", () => {
    const owners = ownersOf({ j1: 'k1' });
    const list = filterResponse('jobs', `{"jobs": [${failed}], "pagination": {"total": 1}}`, 'k1', owners, null);
    const job = (JSON.parse(list!) as { jobs: Array<{ execution_error: Record<string, unknown> }> }).jobs[0]!;
    expect(job.execution_error).toEqual({
      node_id: '2',
      exception_type: 'OSError',
      exception_message: 'cannot read …/a.png',
      traceback: [],
    });
    const single = JSON.parse(filterResponse('job', failed, 'k1', owners, null)!) as typeof job;
    expect(single.execution_error['traceback']).toEqual([]);
  });

  it('refuses a value the locator accepts but JSON does not, instead of throwing', () => {
    expect(filterResponse('job', '{"execution_error": {"a": 01}}', 'k1', new PromptOwners(), null)).toBeUndefined();
  });
});

describe('redaction', () => {
  it('cuts POSIX and Windows paths down to the file name', () => {
    expect(redactPaths("No such file: '/home/comfy/ComfyUI/models/checkpoints/x.safetensors'")).toBe(
      "No such file: '…/x.safetensors'"
    );
    expect(redactPaths('at C:\\Users\\ana\\ComfyUI\\nodes.py line 3')).toBe('at …/nodes.py line 3');
    expect(redactPaths('ratio 3/4 is fine')).toBe('ratio 3/4 is fine');
  });

  it('keeps what failed, drops the traceback', () => {
    expect(
      redactExecutionError({
        node_id: '2',
        exception_type: 'OSError',
        exception_message: 'cannot open /srv/comfy/input/a.png',
        traceback: ['  File "/srv/comfy/nodes.py", line 1'],
      })
    ).toEqual({ node_id: '2', exception_type: 'OSError', exception_message: 'cannot open …/a.png', traceback: [] });
  });

  it('keeps only flag names of argv, in both flag forms', () => {
    expect(redactArgv(['main.py', '--listen=0.0.0.0', '--output-directory', '/data/out', '--multi-user'])).toEqual([
      '--listen',
      '--output-directory',
      '--multi-user',
    ]);
    expect(redactArgv('main.py --listen')).toEqual([]);
  });
});

describe('isolatedFrame', () => {
  const owners = ownersOf({ mine: 'k1', theirs: 'k2' });

  it("drops another caller's event 4 preview and keeps the caller's own", () => {
    const state = { ownPromptRunning: true };
    expect(isolatedFrame(previewWithMetadata({ prompt_id: 'theirs' }), true, 'k1', owners, state)).toBeNull();
    const own = previewWithMetadata({ prompt_id: 'mine' });
    expect(isolatedFrame(own, true, 'k1', owners, state)).toBe(own);
    const truncated = own.subarray(0, 12);
    expect(isolatedFrame(truncated, true, 'k1', owners, state)).toBeNull();
  });

  it('passes frames that name no prompt only while the caller’s own prompt runs', () => {
    const state = { ownPromptRunning: false };
    const legacyPreview = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xd8]);
    const component = Buffer.from('{"type": "display_component", "data": {"node_id": "5"}}');
    expect(isolatedFrame(legacyPreview, true, 'k1', owners, state)).toBeNull();
    expect(isolatedFrame(component, false, 'k1', owners, state)).toBeNull();
    const start = Buffer.from('{"type": "execution_start", "data": {"prompt_id": "mine"}}');
    expect(isolatedFrame(start, false, 'k1', owners, state)).toBe(start);
    expect(state.ownPromptRunning).toBe(true);
    expect(isolatedFrame(legacyPreview, true, 'k1', owners, state)).toBe(legacyPreview);
    expect(isolatedFrame(component, false, 'k1', owners, state)).toBe(component);
    const done = Buffer.from('{"type": "executing", "data": {"node": null, "prompt_id": "mine"}}');
    expect(isolatedFrame(done, false, 'k1', owners, state)).toBe(done);
    expect(state.ownPromptRunning).toBe(false);
    const status = Buffer.from('{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 2}}}}');
    expect(isolatedFrame(status, false, 'k1', owners, state)).toBe(status);
  });
});
