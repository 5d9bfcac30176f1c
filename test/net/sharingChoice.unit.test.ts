import { describe, expect, it } from 'vitest';
import { isSharedOnNetwork, listenHostFor, unprotectedRefusal } from '../../server/net/sharingChoice.js';

describe('where the sharing switch listens', () => {
  it('listens on every interface for "My network" and on loopback for "This computer only"', () => {
    expect(listenHostFor(true, '0.0.0.0')).toBe('0.0.0.0');
    expect(listenHostFor(false, '0.0.0.0')).toBe('127.0.0.1');
    expect(listenHostFor(true, '192.168.1.20')).toBe('192.168.1.20');
  });

  it('reads the switch position from where the gate listens', () => {
    expect(isSharedOnNetwork('0.0.0.0', '0.0.0.0')).toBe(true);
    expect(isSharedOnNetwork('::', '0.0.0.0')).toBe(true);
    expect(isSharedOnNetwork('192.168.1.20', '0.0.0.0')).toBe(true);
    expect(isSharedOnNetwork('127.0.0.1', '0.0.0.0')).toBe(false);
    expect(isSharedOnNetwork('localhost', '0.0.0.0')).toBe(false);
  });

  it('refuses protection off on a network address only, like serve', () => {
    expect(unprotectedRefusal('off', '0.0.0.0')).toMatch(/protection off.*Turn protection on/);
    expect(unprotectedRefusal('off', '127.0.0.1')).toBeNull();
    expect(unprotectedRefusal('optional', '0.0.0.0')).toBeNull();
    expect(unprotectedRefusal('required', '0.0.0.0')).toBeNull();
  });
});
