import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isPageFile } from '../../server/limits/pageFiles.js';

function request(method: string, url: string): IncomingMessage {
  return { method, url } as IncomingMessage;
}

describe('which requests are files of the web UI', () => {
  it.each([
    '/',
    '/?v=2',
    '/assets/index-Bx12.js',
    '/assets/lib/vue.mjs?import',
    '/assets/images/favicon_progress_16x16/frame_3.png',
    '/extensions/core/groupNode.js',
    '/extensions/ComfyUI-Manager/js/custom-nodes-manager.js',
    '/templates/index.json',
    '/templates/default.webp',
    '/scripts/app.js',
    '/docs/EmptyImage/en.md',
    '/fonts/materialdesignicons-webfont.woff2?v=7.4.47',
    '/materialdesignicons.min.css',
    '/user.css',
    '/favicon.ico',
    '/api/workflow_templates/comfyui_extension/flow.json',
  ])('GET %s is free', (url) => {
    expect(isPageFile(request('GET', url))).toBe(true);
    expect(isPageFile(request('HEAD', url))).toBe(true);
  });

  it.each([
    '/api/queue',
    '/history?max_items=64',
    '/prompt',
    '/view?filename=a.png',
    '/api/view?filename=a.png',
    '/api/userdata/workflows%2Fa.json',
    '/api/userdata/comfy.templates.json',
    '/userdata/user.css',
    '/api/assets/app.js',
    '/api/extensions',
    '/extensions',
    '/object_info?x=a.js',
    '/assets/',
    '/api/workflow_templates/',
    '/%61ssets/app.js',
    '/assets/%2e%2e/history',
    '/assets//x.js',
    '/assets/./x.js',
    '/manager/version',
    '/internal/logs',
    '',
  ])('GET %s counts', (url) => {
    expect(isPageFile(request('GET', url))).toBe(false);
  });

  it('counts anything but GET and HEAD', () => {
    expect(isPageFile(request('POST', '/assets/app.js'))).toBe(false);
    expect(isPageFile(request('PUT', '/'))).toBe(false);
  });
});
