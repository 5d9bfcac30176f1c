/**
 * The one IPC contract between the desktop app's main process and the dashboard window's preload.
 * Types only apart from the channel names, and no imports that carry code: both the main process
 * and the sandboxed preload bundle include this file.
 */
import type { ShareAddress, AuthMode } from '../../server/contract/desktop.js';

export type { ShareAddress };

/** Every channel, namespaced `app:`. A channel here without a contract below fails to compile. */
export const IPC_CHANNELS = {
  getState: 'app:get-state',
  setMode: 'app:set-mode',
  setPaused: 'app:set-paused',
  copyShareUrl: 'app:copy-share-url',
  openComfyUI: 'app:open-comfyui',
  stateChanged: 'app:state-changed',
} as const;

export type IpcChannel = (typeof IPC_CHANNELS)[keyof typeof IPC_CHANNELS];

/** What the desktop app knows and shows (tray and dashboard). Nothing secret. */
export interface DesktopState {
  mode: AuthMode;
  /** Sharing paused: only this computer gets through. */
  paused: boolean;
  /** The sharing switch: listening on the network, or on this computer only. */
  network: boolean;
  upstream: { url: string; reachable: boolean | undefined };
  keys: number;
  requestsToday: number;
  share: ShareAddress;
  /** A URL where ComfyUI answers without the gate (teammates could go around it), or null. */
  bypassUrl: string | null;
  /** Start at login; null where the app cannot register itself (run from source). */
  openAtLogin: boolean | null;
}

/** The renderer calls, the main process answers. */
export interface Invoke<Params extends unknown[], Response> {
  kind: 'invoke';
  params: Params;
  response: Response;
}

/** The main process sends, the renderer listens. */
export interface Push<Payload> {
  kind: 'push';
  payload: Payload;
}

type Contract = Invoke<unknown[], unknown> | Push<unknown>;

/**
 * Every channel has a contract (a missing one breaks the constraint) and the map names no other
 * channel (an extra one turns the whole map into `never`).
 */
export type AssertCoverage<T extends Record<IpcChannel, Contract>> =
  Exclude<keyof T, IpcChannel> extends never ? T : never;

export type IpcContract = AssertCoverage<{
  'app:get-state': Invoke<[], DesktopState>;
  'app:set-mode': Invoke<[mode: AuthMode], DesktopState>;
  'app:set-paused': Invoke<[paused: boolean], DesktopState>;
  /** Copies the share URL to the clipboard and says what was copied. */
  'app:copy-share-url': Invoke<[], ShareAddress>;
  /** Opens ComfyUI through the gate in its own window, signed in as this computer. */
  'app:open-comfyui': Invoke<[], void>;
  'app:state-changed': Push<DesktopState>;
}>;

export type InvokeChannel = {
  [C in IpcChannel]: IpcContract[C] extends Invoke<unknown[], unknown> ? C : never;
}[IpcChannel];
export type PushChannel = Exclude<IpcChannel, InvokeChannel>;

export type InvokeParams<C extends InvokeChannel> = IpcContract[C] extends Invoke<infer P, unknown> ? P : never;
export type InvokeResponse<C extends InvokeChannel> = IpcContract[C] extends Invoke<unknown[], infer R> ? R : never;
export type PushPayload<C extends PushChannel> = IpcContract[C] extends Push<infer P> ? P : never;

/** The name the preload API has on `window` in the dashboard. */
export const DESKTOP_API_NAME = 'comfygateDesktop';
