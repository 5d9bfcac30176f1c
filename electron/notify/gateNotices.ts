import type { KeyNamed, NotificationSettings } from '../../server/contract/desktop.js';

/** Something the gate reported that the operator may want to hear about while the dashboard is closed. */
export type GateNotice =
  | { kind: 'comfyDown'; upstreamUrl: string }
  | { kind: 'comfyUp'; upstreamUrl: string }
  | { kind: 'backendDown'; label: string; url: string }
  | { kind: 'backendUp'; label: string; url: string }
  | { kind: 'firstUse'; key: KeyNamed }
  | { kind: 'lockout'; ip: string; until: number }
  | { kind: 'quota'; key: KeyNamed & { limit: number; measure: 'prompts' | 'gpuSeconds' } };

export interface NoticeContent {
  title: string;
  body: string;
  /** The dashboard route a click on the notification opens. */
  route: string;
}

/** Which switch in Settings → Notifications silences each notice. */
const SWITCH: Record<GateNotice['kind'], keyof NotificationSettings> = {
  comfyDown: 'comfyDown',
  comfyUp: 'comfyDown',
  backendDown: 'comfyDown',
  backendUp: 'comfyDown',
  firstUse: 'firstUse',
  lockout: 'lockout',
  quota: 'quota',
};

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** The notification for a notice, or null when the operator switched that kind off. */
export function noticeContent(notice: GateNotice, settings: NotificationSettings): NoticeContent | null {
  if (!settings[SWITCH[notice.kind]]) return null;
  switch (notice.kind) {
    case 'comfyDown':
      return {
        title: 'ComfyUI is not answering',
        body: `${notice.upstreamUrl} stopped answering. Teammates get an error until it is back.`,
        route: '',
      };
    case 'comfyUp':
      return { title: 'ComfyUI is back', body: `${notice.upstreamUrl} answers again.`, route: '' };
    case 'backendDown':
      return {
        title: `ComfyUI backend "${notice.label}" is not answering`,
        body: `${notice.url} stopped answering. New prompts go to the other backends, and the prompts waiting on it move to them.`,
        route: '',
      };
    case 'backendUp':
      return {
        title: `ComfyUI backend "${notice.label}" is back`,
        body: `${notice.url} answers again and takes new prompts.`,
        route: '',
      };
    case 'firstUse':
      return {
        title: `Key "${notice.key.name}" used for the first time`,
        body: 'Someone has started using this key. Click to see your keys.',
        route: '#/keys',
      };
    case 'lockout':
      return {
        title: `Locked out ${notice.ip}`,
        body: `Too many wrong keys from ${notice.ip}; it is refused until ${clock(notice.until)}. Click for the audit log.`,
        route: '#/audit',
      };
    case 'quota':
      return {
        title: `Key "${notice.key.name}" reached its daily quota`,
        body: `${notice.key.limit} ${notice.key.measure === 'gpuSeconds' ? 'seconds of GPU time' : 'prompts'} today; more prompts are refused until midnight. Click to see usage.`,
        route: '#/usage',
      };
  }
}
