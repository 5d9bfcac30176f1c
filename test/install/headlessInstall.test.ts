import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * `npm install && npm start` must work on a machine that cannot reach Electron's download host
 * (a headless server, a locked-down lab box) and without environment variables, and must not warn
 * about engines on the Node version the README names.
 */
const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: Record<string, string> | string[]; dev?: boolean }>;
};

describe('a headless install', () => {
  it('runs no install scripts, so Electron’s binary is never fetched by npm install', () => {
    const value = execFileSync('npm', ['config', 'get', 'ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
    }).trim();
    expect(value).toBe('true');
  });

  it('has no package whose engines exclude the Node version the README names', () => {
    const named = /Requires Node\.js (\d+\.\d+)/.exec(readme)?.[1];
    expect(named).toBeDefined();
    const version = `${named}.0`;
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const engines = entry.engines;
      const range = engines && !Array.isArray(engines) ? engines['node'] : undefined;
      if (range && !semver.satisfies(version, range)) refusing.push(`${path} (node ${range})`);
    }
    expect(refusing).toEqual([]);
  });
});
