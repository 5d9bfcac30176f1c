import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gateConfigSchema, type GateConfigInput } from '../../server/config/schema.js';
import { startGate, type GateHandle } from '../../server/gate.js';
import type { AuthMode } from '../../server/settings/settingsSchema.js';

export interface TestGate extends GateHandle {
  dataDir: string;
  /** The admin key the gate made at first start. */
  adminKey: string;
  /** `host:port` as a browser on the gate's own origin would send it. */
  host: string;
}

export type TestGateOptions = Partial<GateConfigInput> & {
  upstream: string;
  mode?: AuthMode;
  legacyApiKey?: string;
  /** Built dashboard files to serve at /gate/ (the e2e tests build it into a temporary folder). */
  dashboardDir?: string;
};

/**
 * A real gate on a random loopback port with its own temporary data dir. Protection is `off`
 * unless the test asks for a mode, so proxy tests see plain pass-through.
 */
export async function startTestGate({
  mode = 'off',
  legacyApiKey,
  dashboardDir,
  ...config
}: TestGateOptions): Promise<TestGate> {
  const dataDir = config.dataDir ?? (await mkdtemp(join(tmpdir(), 'comfygate-test-')));
  const gate = await startGate({
    config: gateConfigSchema.parse({ host: '127.0.0.1', port: 0, logLevel: 'silent', ...config, dataDir }),
    mode,
    legacyApiKey,
    dashboardDir,
  });
  if (!gate.initialAdminKey) throw new Error('expected a fresh data dir with no keys');
  return {
    get url() {
      return gate.url;
    },
    events: gate.events,
    initialAdminKey: gate.initialAdminKey,
    setMode: (mode) => gate.setMode(mode),
    setPaused: (paused) => gate.setPaused(paused),
    setSharing: (network) => gate.setSharing(network),
    ownerSession: () => gate.ownerSession(),
    adminKey: gate.initialAdminKey,
    dataDir,
    host: new URL(gate.url).host,
    get state() {
      return gate.state;
    },
    async stop() {
      await gate.stop();
      // A data dir the test passed in is the test's to inspect and remove.
      if (!config.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `check` holds, polling; fails with `message` after `timeoutMs`. */
export async function eventually(check: () => boolean, message: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
