import { ipcRenderer, type IpcRendererEvent } from 'electron';
import type { InvokeChannel, InvokeParams, InvokeResponse, PushChannel, PushPayload } from './contract.js';

/** The preload's only use of `ipcRenderer`: calls are typed by the contract. */
export function invoke<C extends InvokeChannel>(channel: C, ...params: InvokeParams<C>): Promise<InvokeResponse<C>> {
  return ipcRenderer.invoke(channel, ...params) as Promise<InvokeResponse<C>>;
}

/**
 * Listens to a push channel; returns the unsubscribe function (a React effect must return it).
 * The listener gets the payload only: the IPC event object never reaches the page.
 */
export function onPush<C extends PushChannel>(channel: C, listener: (payload: PushPayload<C>) => void): () => void {
  const wrapped = (_event: IpcRendererEvent, payload: PushPayload<C>): void => listener(payload);
  ipcRenderer.on(channel, wrapped);
  return () => {
    ipcRenderer.removeListener(channel, wrapped);
  };
}
