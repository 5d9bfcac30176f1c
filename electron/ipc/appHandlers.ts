import { z } from 'zod';
import { authModeSchema, type GateHandle } from '../../server/contract/desktop.js';
import { IPC_CHANNELS, type DesktopState, type ShareAddress } from './contract.js';
import { handleInvokes, type InvokeHandlers } from './mainIpc.js';

export interface AppHandlerDeps {
  gate: Pick<GateHandle, 'setMode' | 'setPaused'>;
  state(): DesktopState;
  copyShareUrl(): ShareAddress;
  openComfyUI(): Promise<void>;
}

/** The handler for every invoke channel (the mapped type makes a missing one a compile error). */
export function appHandlers(deps: AppHandlerDeps): InvokeHandlers {
  return {
    [IPC_CHANNELS.getState]: { params: z.tuple([]), handle: () => deps.state() },
    [IPC_CHANNELS.setMode]: {
      params: z.tuple([authModeSchema]),
      handle: async (mode) => {
        await deps.gate.setMode(mode);
        return deps.state();
      },
    },
    [IPC_CHANNELS.setPaused]: {
      params: z.tuple([z.boolean()]),
      handle: (paused) => {
        deps.gate.setPaused(paused);
        return deps.state();
      },
    },
    [IPC_CHANNELS.copyShareUrl]: { params: z.tuple([]), handle: () => deps.copyShareUrl() },
    [IPC_CHANNELS.openComfyUI]: { params: z.tuple([]), handle: () => deps.openComfyUI() },
  };
}

/** Registers the handlers for the dashboard; returns the function that removes them. */
export function registerAppHandlers(deps: AppHandlerDeps, isTrustedSender: (frameUrl: string) => boolean): () => void {
  return handleInvokes(appHandlers(deps), isTrustedSender);
}
