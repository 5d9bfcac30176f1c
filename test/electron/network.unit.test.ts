import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { bypassAdvice, bypassProbeUrls, findBypass } from '../../electron/net/bypass.js';
import {
  lanAddresses,
  localGateUrl,
  pickLanAddress,
  shareAddress,
  type Interfaces,
} from '../../server/net/shareAddress.js';
import { buildDesktopState } from '../../electron/state/desktopState.js';
import { gateState } from './fixtures.js';

function v4(address: string, internal = false): NetworkInterfaceInfo {
  return {
    address,
    family: 'IPv4',
    internal,
    netmask: '255.255.255.0',
    mac: '00:00:00:00:00:00',
    cidr: `${address}/24`,
  };
}
function v6(address: string): NetworkInterfaceInfo {
  return {
    address,
    family: 'IPv6',
    internal: false,
    netmask: 'ffff::',
    mac: '00:00:00:00:00:00',
    cidr: null,
    scopeid: 0,
  };
}

/** A laptop on Wi-Fi with Docker and a VPN, as os.networkInterfaces() reports it. */
const LAPTOP: Interfaces = {
  lo: [v4('127.0.0.1', true)],
  docker0: [v4('172.17.0.1')],
  tailscale0: [v4('100.101.102.103')],
  wlan0: [v6('fe80::1'), v4('192.168.1.20')],
  eth1: [v4('169.254.10.10')],
};

describe('LAN address', () => {
  it('picks the Wi-Fi/Ethernet address over Docker, VPN, link-local and loopback', () => {
    expect(pickLanAddress(LAPTOP)).toBe('192.168.1.20');
    expect(lanAddresses(LAPTOP)).not.toContain('127.0.0.1');
    expect(lanAddresses(LAPTOP)).not.toContain('169.254.10.10');
    expect(lanAddresses(LAPTOP).slice(1).sort()).toEqual(['100.101.102.103', '172.17.0.1']);
  });

  it('prefers private ranges and otherwise keeps the order of the interfaces', () => {
    expect(pickLanAddress({ en0: [v4('203.0.113.5')], en1: [v4('10.0.0.7')] })).toBe('10.0.0.7');
    expect(pickLanAddress({ en0: [v4('10.0.0.7')], en1: [v4('10.0.0.8')] })).toBe('10.0.0.7');
  });

  it('is null without a network', () => {
    expect(pickLanAddress({ lo: [v4('127.0.0.1', true)] })).toBeNull();
    expect(pickLanAddress({})).toBeNull();
  });
});

describe('share address', () => {
  it('gate on 0.0.0.0: every LAN address, primary first, then the .local name; reachable', () => {
    expect(shareAddress({ host: '0.0.0.0', port: 8189 }, LAPTOP)).toEqual({
      url: 'http://192.168.1.20:8189/',
      // Docker's bridge is left out: no other machine can reach it. The VPN address stays.
      urls: ['http://192.168.1.20:8189/', 'http://100.101.102.103:8189/'],
      reachableFromLan: true,
      note: null,
    });
    const named = shareAddress({ host: '0.0.0.0', port: 8189 }, LAPTOP, 'studio.local');
    expect(named.url).toBe('http://192.168.1.20:8189/');
    expect(named.urls.at(-1)).toBe('http://studio.local:8189/');
  });

  it('gate on 127.0.0.1: a loopback link that says plainly it works on this computer only', () => {
    const share = shareAddress({ host: '127.0.0.1', port: 8189 }, LAPTOP);
    expect(share).toMatchObject({ url: 'http://127.0.0.1:8189/', urls: ['http://127.0.0.1:8189/'] });
    expect(share.reachableFromLan).toBe(false);
    expect(share.note).toMatch(/works on this computer only/);
    expect(share.note).toMatch(/My network/);
  });

  it('https when the gate serves TLS', () => {
    expect(shareAddress({ host: '0.0.0.0', port: 8443 }, LAPTOP, null, 'https').url).toBe('https://192.168.1.20:8443/');
  });

  it('gate on one address: that address; no network: loopback with a note', () => {
    expect(shareAddress({ host: '10.1.2.3', port: 9000 }, LAPTOP).url).toBe('http://10.1.2.3:9000/');
    const offline = shareAddress({ host: '0.0.0.0', port: 8189 }, { lo: [v4('127.0.0.1', true)] });
    expect(offline).toMatchObject({ url: 'http://127.0.0.1:8189/', reachableFromLan: false });
    expect(offline.note).toMatch(/not connected/);
  });

  it('this computer loads a wildcard gate through loopback', () => {
    expect(localGateUrl({ host: '0.0.0.0', port: 8189 })).toBe('http://127.0.0.1:8189');
    expect(localGateUrl({ host: '::', port: 8189 })).toBe('http://[::1]:8189');
    expect(localGateUrl({ host: '127.0.0.1', port: 5 })).toBe('http://127.0.0.1:5');
  });

  it('the desktop state carries the gate state and the share address', () => {
    const share = shareAddress({ host: '0.0.0.0', port: 8189 }, LAPTOP);
    const state = buildDesktopState(
      gateState({ listen: { host: '0.0.0.0', port: 8189 }, keys: 4, requestsToday: 9, paused: true, share }),
      { bypassUrl: null, openAtLogin: null }
    );
    expect(state).toMatchObject({ keys: 4, requestsToday: 9, paused: true, openAtLogin: null });
    expect(state.share.url).toBe('http://192.168.1.20:8189/');
  });
});

describe('bypass check', () => {
  it('probes ComfyUI’s port on each LAN address when ComfyUI runs on this computer', () => {
    const urls = bypassProbeUrls('http://127.0.0.1:8188', LAPTOP);
    expect(urls[0]).toBe('http://192.168.1.20:8188');
    expect(urls.toSorted()).toEqual([
      'http://100.101.102.103:8188',
      'http://172.17.0.1:8188',
      'http://192.168.1.20:8188',
    ]);
    expect(bypassProbeUrls('http://localhost:8000', { en0: [v4('10.0.0.7')] })).toEqual(['http://10.0.0.7:8000']);
  });

  it('does not probe a ComfyUI on another machine, or a malformed URL', () => {
    expect(bypassProbeUrls('http://192.168.1.50:8188', LAPTOP)).toEqual([]);
    expect(bypassProbeUrls('not a url', LAPTOP)).toEqual([]);
  });

  it('finds the first address where ComfyUI answers, or null', async () => {
    const probe = vi.fn((url: string) => Promise.resolve(url.includes('172.17')));
    await expect(findBypass(['http://192.168.1.20:8188', 'http://172.17.0.1:8188'], probe)).resolves.toBe(
      'http://172.17.0.1:8188'
    );
    await expect(findBypass(['http://192.168.1.20:8188'], probe)).resolves.toBeNull();
    await expect(findBypass([], probe)).resolves.toBeNull();
  });

  it('tells the operator what it means and how to fix it', () => {
    const advice = bypassAdvice('http://192.168.1.20:8188');
    expect(advice.type).toBe('warning');
    expect(advice.detail).toContain('http://192.168.1.20:8188');
    expect(advice.detail).toContain('--listen 127.0.0.1');
    expect(advice.detail).toMatch(/port 8188/);
  });
});
