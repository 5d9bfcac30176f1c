import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { appHandlers, registerAppHandlers } from '../../electron/ipc/appHandlers.js';
import {
  DESKTOP_API_NAME,
  IPC_CHANNELS,
  type AssertCoverage,
  type DesktopState,
  type InvokeChannel,
  type InvokeParams,
  type InvokeResponse,
  type IpcChannel,
  type IpcContract,
  type Push,
  type PushChannel,
  type PushPayload,
  type ShareAddress,
} from '../../electron/ipc/contract.js';
import type { DesktopApi } from '../../electron/preload.js';
import type { AuthMode } from '../../server/settings/settingsSchema.js';
import { contextBridge, invokeAs, ipcHandlers, ipcMain, ipcRenderer, resetElectronMock } from './electronMock.js';
import { desktopState } from './fixtures.js';

vi.mock('electron', async () => (await import('./electronMock.js')).electronModule);

beforeEach(resetElectronMock);

describe('IPC contract (compile time)', () => {
  it('has a contract for every channel and no contract for an unknown one', () => {
    expectTypeOf<Exclude<IpcChannel, keyof IpcContract>>().toBeNever();
    expectTypeOf<Exclude<keyof IpcContract, IpcChannel>>().toBeNever();
    expectTypeOf<IpcContract>().not.toBeNever();
  });

  it('refuses a map with a channel missing or an extra one', () => {
    type WithoutGetState = Omit<IpcContract, 'app:get-state'>;
    // @ts-expect-error a channel without a contract does not compile
    expectTypeOf<AssertCoverage<WithoutGetState>>().toBeNever();
    expectTypeOf<AssertCoverage<IpcContract & { 'app:extra': Push<void> }>>().toBeNever();
  });

  it('splits channels by direction and types their payloads', () => {
    expectTypeOf<PushChannel>().toEqualTypeOf<'app:state-changed'>();
    expectTypeOf<InvokeChannel>().toEqualTypeOf<Exclude<IpcChannel, 'app:state-changed'>>();
    expectTypeOf<InvokeParams<'app:set-mode'>>().toEqualTypeOf<[mode: AuthMode]>();
    expectTypeOf<InvokeParams<'app:get-state'>>().toEqualTypeOf<[]>();
    expectTypeOf<InvokeResponse<'app:copy-share-url'>>().toEqualTypeOf<ShareAddress>();
    expectTypeOf<PushPayload<'app:state-changed'>>().toEqualTypeOf<DesktopState>();
  });

  it('types the preload API from its value', () => {
    expectTypeOf<DesktopApi['setMode']>().parameters.toEqualTypeOf<[mode: AuthMode]>();
    expectTypeOf<DesktopApi['getState']>().returns.toEqualTypeOf<Promise<DesktopState>>();
    expectTypeOf<DesktopApi['onStateChanged']>().returns.toEqualTypeOf<() => void>();
  });
});

describe('IPC handlers (main process)', () => {
  const DASHBOARD = 'http://127.0.0.1:8189/gate/#/keys';
  const isTrusted = (url: string) => url.startsWith('http://127.0.0.1:8189/gate/');

  function setup() {
    const deps = {
      gate: { setMode: vi.fn(() => Promise.resolve()), setPaused: vi.fn() },
      state: vi.fn(() => desktopState()),
      copyShareUrl: vi.fn(() => desktopState().share),
      openComfyUI: vi.fn(() => Promise.resolve()),
    };
    return { deps, dispose: registerAppHandlers(deps, isTrusted) };
  }

  it('handles exactly the invoke channels, and removes them again', () => {
    const { dispose } = setup();
    const invokeChannels = Object.values(IPC_CHANNELS).filter((c) => c !== IPC_CHANNELS.stateChanged);
    expect([...ipcHandlers.keys()].sort()).toEqual(invokeChannels.sort());
    expect(Object.keys(appHandlers(setup().deps)).sort()).toEqual(invokeChannels.sort());
    dispose();
    expect(ipcMain.removeHandler).toHaveBeenCalledTimes(invokeChannels.length);
  });

  it('app:set-mode sets the mode on the gate and answers with the new state', async () => {
    const { deps } = setup();
    await expect(invokeAs(DASHBOARD, 'app:set-mode', 'optional')).resolves.toEqual(desktopState());
    expect(deps.gate.setMode).toHaveBeenCalledWith('optional');
  });

  it('app:set-paused, app:get-state, app:copy-share-url and app:open-comfyui reach their functions', async () => {
    const { deps } = setup();
    await invokeAs(DASHBOARD, 'app:set-paused', true);
    expect(deps.gate.setPaused).toHaveBeenCalledWith(true);
    await expect(invokeAs(DASHBOARD, 'app:get-state')).resolves.toMatchObject({ mode: 'required' });
    await expect(invokeAs(DASHBOARD, 'app:copy-share-url')).resolves.toMatchObject({
      url: 'http://192.168.1.20:8189/',
    });
    await invokeAs(DASHBOARD, 'app:open-comfyui');
    expect(deps.openComfyUI).toHaveBeenCalledOnce();
  });

  it('refuses bad parameters before they reach the gate', async () => {
    const { deps } = setup();
    await expect(invokeAs(DASHBOARD, 'app:set-mode', 'wide-open')).rejects.toThrow(/invalid parameters/);
    await expect(invokeAs(DASHBOARD, 'app:set-paused', 'yes')).rejects.toThrow(/invalid parameters/);
    await expect(invokeAs(DASHBOARD, 'app:get-state', 1)).rejects.toThrow(/invalid parameters/);
    expect(deps.gate.setMode).not.toHaveBeenCalled();
    expect(deps.gate.setPaused).not.toHaveBeenCalled();
  });

  it('refuses callers that are not the dashboard (ComfyUI pages, other sites)', async () => {
    const { deps } = setup();
    await expect(invokeAs('http://127.0.0.1:8189/', 'app:set-mode', 'off')).rejects.toThrow(
      /only the ComfyGate dashboard/
    );
    await expect(invokeAs('https://evil.example/', 'app:get-state')).rejects.toThrow(/refused/);
    expect(deps.gate.setMode).not.toHaveBeenCalled();
  });
});

describe('preload', () => {
  it('exposes one API object whose calls go over the contract’s channels', async () => {
    vi.resetModules();
    await import('../../electron/preload.js');
    expect(contextBridge.exposeInMainWorld).toHaveBeenCalledOnce();
    const [name, api] = contextBridge.exposeInMainWorld.mock.calls[0] ?? [];
    expect(name).toBe(DESKTOP_API_NAME);
    const desktop = api as DesktopApi;

    await desktop.setMode('required');
    await desktop.getState();
    await desktop.copyShareUrl();
    expect(ipcRenderer.invoke.mock.calls).toEqual([
      ['app:set-mode', 'required'],
      ['app:get-state'],
      ['app:copy-share-url'],
    ]);
  });

  it('passes only the payload of a push to the page, and unsubscribes', async () => {
    vi.resetModules();
    await import('../../electron/preload.js');
    const desktop = contextBridge.exposeInMainWorld.mock.calls[0]?.[1] as DesktopApi;
    const listener = vi.fn();
    const unsubscribe = desktop.onStateChanged(listener);
    ipcRenderer.emit('app:state-changed', { sender: 'secret ipc event' }, desktopState());
    expect(listener).toHaveBeenCalledExactlyOnceWith(desktopState());
    unsubscribe();
    ipcRenderer.emit('app:state-changed', {}, desktopState());
    expect(listener).toHaveBeenCalledOnce();
  });

  it('bundles to one sandbox-safe CommonJS file that needs nothing but electron', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'comfygate-preload-'));
    try {
      const config = fileURLToPath(new URL('../../electron/vite.preload.config.ts', import.meta.url));
      await build({ configFile: config, logLevel: 'silent', build: { outDir } });
      const bundle = await readFile(join(outDir, 'preload.cjs'), 'utf8');
      expect([...bundle.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1])).toEqual(['electron']);
      // A sandboxed preload runs without `exports` or `module` in scope.
      expect(bundle).not.toMatch(/\bexports\b|\bmodule\.exports\b|\bimport\s/);
      expect(bundle).toContain('app:state-changed');
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
