import { ipcMain, type WebContents } from 'electron';
import type { ZodType } from 'zod';
import type { InvokeChannel, InvokeParams, InvokeResponse, PushChannel, PushPayload } from './contract.js';

/** One handler per invoke channel, with a schema for its parameters: whatever a renderer sends is checked. */
export type InvokeHandlers = {
  [C in InvokeChannel]: {
    params: ZodType<InvokeParams<C>>;
    handle: (...params: InvokeParams<C>) => InvokeResponse<C> | Promise<InvokeResponse<C>>;
  };
};

/**
 * The main process's only use of `ipcMain`. Registers every handler; a call from any frame that is
 * not the dashboard (`isTrustedSender` on the sending frame's URL) or with bad parameters is refused.
 * Returns a function that removes the handlers again.
 */
export function handleInvokes(handlers: InvokeHandlers, isTrustedSender: (frameUrl: string) => boolean): () => void {
  const channels = Object.keys(handlers) as InvokeChannel[];
  for (const channel of channels) {
    const { params, handle } = handlers[channel] as {
      params: ZodType<unknown[]>;
      handle: (...params: unknown[]) => unknown;
    };
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      const frameUrl = event.senderFrame?.url ?? '';
      if (!isTrustedSender(frameUrl)) throw new Error(`${channel} refused: only the ComfyGate dashboard may call it`);
      const parsed = params.safeParse(args);
      if (!parsed.success) throw new Error(`${channel} refused: invalid parameters`);
      return handle(...parsed.data);
    });
  }
  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
  };
}

/** Sends a push message to one window, unless it is already gone. */
export function push<C extends PushChannel>(contents: WebContents, channel: C, payload: PushPayload<C>): void {
  if (!contents.isDestroyed()) contents.send(channel, payload);
}
