import { afterAll, beforeAll } from 'vitest';
import {
  startFakeComfy,
  type FakeComfy,
  type FakeComfyOptions,
  type RecordedRequest,
} from '../fixtures/fakeComfy/index.js';
import { call, type JsonResponse } from './http.js';
import { startTestGate, type TestGate, type TestGateOptions } from './testGate.js';

export interface GateAndComfy {
  fake: FakeComfy;
  gate: TestGate;
  /** One request to the gate as its first admin (the key the gate made at first start). */
  admin: <T = unknown>(
    method: string,
    path: string,
    json?: unknown,
    headers?: Record<string, string>
  ) => Promise<JsonResponse<T>>;
}

export interface GateAndComfyOptions {
  comfy?: FakeComfyOptions;
  gate?: Omit<TestGateOptions, 'upstream'>;
}

/**
 * A fake ComfyUI and a real gate in front of it, shared by the tests of one file (or of the
 * `describe` it is called in): started before the first test, stopped after the last, the gate
 * before the ComfyUI it forwards to. `fake` and `gate` stand in for the running pair from the
 * start, so a suite destructures them once at the top and its tests read `gate.url` as before.
 */
export function withGateAndComfy(options: GateAndComfyOptions = {}): GateAndComfy {
  const running: { fake?: FakeComfy; gate?: TestGate } = {};

  beforeAll(async () => {
    running.fake = await startFakeComfy(options.comfy);
    running.gate = await startTestGate({ ...options.gate, upstream: running.fake.url });
  });

  afterAll(async () => {
    await running.gate?.stop();
    await running.fake?.close();
  });

  const gate = startedLater(() => running.gate, 'gate');
  async function admin<T = unknown>(
    method: string,
    path: string,
    json?: unknown,
    headers: Record<string, string> = {}
  ): Promise<JsonResponse<T>> {
    return call<T>(`${gate.url}${path}`, { method, headers: { 'x-api-key': gate.adminKey, ...headers }, json });
  }
  return {
    fake: startedLater(() => running.fake, 'fake'),
    gate,
    admin,
  };
}

/**
 * What reached the fake ComfyUI on callers' behalf: `fake.requests` without the gate's own look at
 * `GET /queue` and `GET /history/{id}` (server/gpu/gpuMeter.ts), which runs in the background whenever
 * a prompt it waits for is queued, starts or ends, so it may land in the middle of a later test.
 */
export function callerRequests(fake: FakeComfy): RecordedRequest[] {
  return fake.requests.filter((r) => !(r.method === 'GET' && /^\/(queue$|history\/)/.test(r.rawUrl)));
}

/** Forwards every read and write to the instance `current` returns once beforeAll started it. */
function startedLater<T extends object>(current: () => T | undefined, name: string): T {
  const started = (): T => {
    const target = current();
    if (!target) throw new Error(`withGateAndComfy: ${name} is used before beforeAll started it`);
    return target;
  };
  return new Proxy({} as T, {
    get(_, property) {
      const target = started();
      const value: unknown = Reflect.get(target, property, target);
      // Methods run on the real instance: class private fields do not see through a proxy.
      return typeof value === 'function' ? (value as (this: T, ...args: unknown[]) => unknown).bind(target) : value;
    },
    set(_, property, value) {
      return Reflect.set(started(), property, value);
    },
    has(_, property) {
      return Reflect.has(started(), property);
    },
  });
}
