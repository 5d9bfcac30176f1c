import { expect } from 'vitest';
import { call, type JsonResponse } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';

type Admin = <T = unknown>(method: string, path: string, json?: unknown) => Promise<JsonResponse<T>>;

export interface HistoryEntry {
  status: { status_str: string; messages: Array<[string, { timestamp?: number }]> };
}

export interface PromptAnswer {
  prompt_id?: string;
  error?: { code: string; type: string; message: string; extra_info: unknown };
  node_errors?: unknown;
}

export async function keyWith(admin: Admin, body: Record<string, unknown>): Promise<{ key: string; id: string }> {
  const res = await admin<{ key: string; id: string }>('POST', '/gate/api/keys', body);
  expect(res.status).toBe(201);
  return res.body;
}

export function queuePrompt(
  gateUrl: string,
  key: string,
  extra: Record<string, unknown> = {}
): Promise<JsonResponse<PromptAnswer>> {
  return call<PromptAnswer>(`${gateUrl}/api/prompt`, {
    headers: { 'x-api-key': key },
    json: { prompt: SMALL_PROMPT, ...extra },
  });
}

/** Polls `/history/{id}` through the gate as a script would, until the prompt has its entry. */
export async function waitForHistory(gateUrl: string, key: string, promptId: string): Promise<HistoryEntry> {
  for (let i = 0; i < 600; i++) {
    const res = await call<Record<string, HistoryEntry>>(`${gateUrl}/api/history/${promptId}`, {
      method: 'GET',
      headers: { 'x-api-key': key },
    });
    const entry = res.body[promptId];
    if (entry) return entry;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`prompt ${promptId} never reached the history`);
}

/** The truth, straight from the fake ComfyUI's history: execution_start to the message that ended the prompt. */
export async function trueSeconds(comfyUrl: string, promptId: string): Promise<number> {
  const res = await call<Record<string, HistoryEntry>>(`${comfyUrl}/history/${promptId}`, { method: 'GET' });
  const messages = res.body[promptId]!.status.messages;
  const start = messages.find(([type]) => type === 'execution_start')?.[1].timestamp;
  const end = messages.find(([type]) =>
    ['execution_success', 'execution_error', 'execution_interrupted'].includes(type)
  )?.[1].timestamp;
  if (start === undefined || end === undefined) throw new Error('the history entry lacks its timestamps');
  return (end - start) / 1000;
}

/** The value of `comfygate_gpu_seconds_total{key="<keyId>"}` in a metrics exposition. */
export function gpuSecondsOf(metrics: string, keyId: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`comfygate_gpu_seconds_total{key="${keyId}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}
