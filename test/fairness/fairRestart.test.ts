import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, stopProcess } from '../helpers/cli.js';
import { listeningUrl, withCliFixture } from '../helpers/cliFixture.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';

const fixture = withCliFixture('fair', { nodeDelayMs: 5 });

async function createKey(dataDir: string, name: string, role: string): Promise<string> {
  const created = await runCli(['keys', 'create', '--name', name, '--role', role, '--data-dir', dataDir]);
  expect(created.code).toBe(0);
  const key = /^(cgk_\w+)$/m.exec(created.stdout)?.[1];
  if (key === undefined) throw new Error(`no key in: ${created.stdout}`);
  return key;
}

async function startServe(dataDir: string) {
  const child = spawnCli(['serve', '--upstream', fixture.fake.url, '--port', '0', '--data-dir', dataDir]);
  return { child, url: await listeningUrl(child) };
}

/** Each spawn costs a second of tsx start-up, several on a loaded machine. */
describe('the fair order across a restart of the gate', { timeout: 120_000 }, () => {
  it("rebuilds from ComfyUI's queue: a restarted gate neither lets A jump its own queue nor B wait behind it", async () => {
    const dataDir = await fixture.freshDir();
    const admin = await createKey(dataDir, 'boss', 'admin');
    const a = await createKey(dataDir, 'A', 'creator');
    const b = await createKey(dataDir, 'B', 'creator');
    const labels = new Map<string, string>();
    const queue = async (url: string, key: string, letter: string): Promise<void> => {
      const res = await call<{ prompt_id: string }>(`${url}/api/prompt`, {
        headers: { 'x-api-key': key },
        json: { prompt: SMALL_PROMPT },
      });
      expect(res.status).toBe(200);
      labels.set(res.body.prompt_id, letter);
    };

    fixture.fake.holdQueue(true);
    const first = await startServe(dataDir);
    try {
      for (let i = 0; i < 5; i++) await queue(first.url, a, 'A');
    } finally {
      await stopProcess(first.child);
    }
    const second = await startServe(dataDir);
    try {
      await queue(second.url, b, 'B');
      await queue(second.url, a, 'a');
      fixture.fake.holdQueue(false);
      for (let i = 0; i < 400; i++) {
        const res = await call<{ queue_running: unknown[]; queue_pending: unknown[] }>(`${second.url}/api/queue`, {
          headers: { 'x-api-key': admin },
        });
        if (res.body.queue_running.length === 0 && res.body.queue_pending.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const history = await call<Record<string, { status: { messages: Array<[string, { timestamp: number }]> } }>>(
        `${second.url}/api/history`,
        { headers: { 'x-api-key': admin } }
      );
      const order = Object.entries(history.body)
        .filter(([id]) => labels.has(id))
        .map(([id, entry]) => ({
          letter: labels.get(id)!,
          at: entry.status.messages.find(([type]) => type === 'execution_start')![1].timestamp,
        }))
        .sort((x, y) => x.at - y.at)
        .map((s) => s.letter)
        .join('');
      // B after one more of A's; A's prompt queued after the restart after all of A's earlier ones.
      expect(order).toBe('ABAAAAa');
    } finally {
      await stopProcess(second.child);
    }
  });
});
