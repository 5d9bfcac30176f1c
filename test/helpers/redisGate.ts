import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnCli } from './cli.js';
import { listeningUrl } from './cliFixture.js';

export interface RedisGate {
  child: ChildProcessWithoutNullStreams;
  url: string;
  dataDir: string;
}

/** A real `comfygate serve --redis` process with its own data dir, in front of the given ComfyUIs, auth required. */
export async function spawnRedisGate(
  dataDir: string,
  redisUrl: string,
  upstreams: readonly string[]
): Promise<RedisGate> {
  const child = spawnCli([
    'serve',
    ...upstreams.flatMap((url) => ['--upstream', url]),
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--redis',
    redisUrl,
    '--auth',
    'required',
  ]);
  return { child, url: await listeningUrl(child), dataDir };
}
