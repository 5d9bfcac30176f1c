import { request, withQuery } from './client.js';
import type {
  AccessToken,
  AllUsageReport,
  AuditQuery,
  AuditRecord,
  CreateKeyBody,
  KeyRecord,
  KeyWithSecret,
  LogQuery,
  Page,
  QueuePlace,
  RequestLogPage,
  RuntimeSettings,
  SettingsPatch,
  SharingReport,
  StartupPatch,
  StartupReport,
  StatusReport,
  UpdateKeyBody,
  UpstreamTest,
  UsageRange,
  UsageReport,
  Whoami,
} from './types.js';

const API = '/gate/api';

/** Every gate endpoint the dashboard uses, typed. */
export const gate = {
  whoami: (signal?: AbortSignal) => request<Whoami>('GET', `${API}/whoami`, { signal }),
  /** Where the caller's next prompt stands in ComfyUI's queue. */
  queuePlace: (signal?: AbortSignal) => request<QueuePlace>('GET', `${API}/queue`, { signal }),
  status: (signal?: AbortSignal) => request<StatusReport>('GET', `${API}/status`, { signal }),

  keys: {
    list: (signal?: AbortSignal) => request<KeyRecord[]>('GET', `${API}/keys`, { signal }),
    create: (body: CreateKeyBody) => request<KeyWithSecret>('POST', `${API}/keys`, { body }),
    update: (id: string, body: UpdateKeyBody) =>
      request<KeyRecord>('PATCH', `${API}/keys/${encodeURIComponent(id)}`, { body }),
    rotate: (id: string) => request<KeyWithSecret>('POST', `${API}/keys/${encodeURIComponent(id)}/rotate`),
    endSessions: (id: string) =>
      request<KeyRecord>('POST', `${API}/keys/${encodeURIComponent(id)}/sessions/revoke`, { body: {} }),
    remove: (id: string) => request<undefined>('DELETE', `${API}/keys/${encodeURIComponent(id)}`),
  },

  usage: {
    mine: (range: UsageRange = {}, signal?: AbortSignal) =>
      request<UsageReport>('GET', `${API}/usage`, { query: { from: range.from, to: range.to }, signal }),
    all: (range: UsageRange = {}, signal?: AbortSignal) =>
      request<AllUsageReport>('GET', `${API}/usage/all`, { query: { ...range }, signal }),
  },

  logs: {
    list: (query: LogQuery = {}, signal?: AbortSignal) =>
      request<RequestLogPage>('GET', `${API}/logs`, { query: { ...query }, signal }),
    streamUrl: (filter: { key?: string; status?: string }) => withQuery(`${API}/logs/stream`, filter),
  },

  audit: (query: AuditQuery = {}, signal?: AbortSignal) =>
    request<Page<AuditRecord>>('GET', `${API}/audit`, { query: { ...query }, signal }),

  settings: {
    get: (signal?: AbortSignal) => request<RuntimeSettings>('GET', `${API}/settings`, { signal }),
    update: (body: SettingsPatch) => request<RuntimeSettings>('PATCH', `${API}/settings`, { body }),
    startup: (signal?: AbortSignal) => request<StartupReport>('GET', `${API}/settings/startup`, { signal }),
    updateStartup: (body: StartupPatch) => request<StartupReport>('PATCH', `${API}/settings/startup`, { body }),
    testUpstream: (url: string) => request<UpstreamTest>('POST', `${API}/settings/test-upstream`, { body: { url } }),
  },

  sharing: {
    get: (signal?: AbortSignal) => request<SharingReport>('GET', `${API}/sharing`, { signal }),
    /** Moves the listener live: true listens on the network, false on this computer only. */
    set: (network: boolean) => request<SharingReport>('PUT', `${API}/sharing`, { body: { network } }),
  },

  token: (ttlSeconds?: number) =>
    request<AccessToken>('POST', `${API}/token`, { body: ttlSeconds === undefined ? {} : { ttlSeconds } }),

  logout: () => request<undefined>('POST', '/gate/logout', { body: {} }),
  /** Ends every session and access token of the caller's own key, this one included. */
  signOutEverywhere: () => request<undefined>('POST', `${API}/sessions/revoke`, { body: {} }),
};
