import { describe, expect, it } from 'vitest';
import type { Role, Scope } from '../../server/keys/keySchema.js';
import { classifyRoute } from '../../server/pipeline/routeClasses.js';
import { ROLE_SCOPES, effectiveScopes, hasScope } from '../../server/keys/roleScopes.js';
import { forbiddenScopeMessage } from '../../server/policy/scopes.js';

describe('roles × route classes', () => {
  it.each<readonly [Role, Scope, boolean]>([
    ['viewer', 'read', true],
    ['viewer', 'generate', false],
    ['viewer', 'manage', false],
    ['viewer', 'install', false],
    ['creator', 'read', true],
    ['creator', 'generate', true],
    ['creator', 'manage', false],
    ['creator', 'install', false],
    ['operator', 'read', true],
    ['operator', 'generate', true],
    ['operator', 'manage', true],
    ['operator', 'install', true],
    ['admin', 'read', true],
    ['admin', 'generate', true],
    ['admin', 'manage', true],
    ['admin', 'install', true],
  ])('%s on a %s route → allowed %s', (role, routeClass, allowed) => {
    expect(hasScope(role, null, routeClass)).toBe(allowed);
    expect(effectiveScopes(role, null).includes(routeClass)).toBe(allowed);
  });

  it('admin has the same ComfyUI scopes as operator', () => {
    expect(ROLE_SCOPES.admin).toEqual(ROLE_SCOPES.operator);
  });
});

describe('explicit scopes', () => {
  it.each<readonly [Role, readonly Scope[], Scope, boolean]>([
    ['operator', ['read'], 'generate', false], // narrower than the role
    ['operator', ['read', 'generate', 'manage'], 'install', false],
    ['viewer', ['read', 'generate'], 'generate', true], // wider than the role
    ['admin', [], 'read', false],
    ['creator', ['install'], 'install', true],
    ['creator', ['install'], 'read', false],
  ])('%s with %j on a %s route → allowed %s', (role, scopes, routeClass, allowed) => {
    expect(hasScope(role, scopes, routeClass)).toBe(allowed);
  });

  it('come out in canonical order without repeats', () => {
    expect(effectiveScopes('viewer', ['install', 'read', 'install'])).toEqual(['read', 'install']);
    expect(effectiveScopes('admin', [])).toEqual([]);
  });
});

describe('forbiddenScopeMessage', () => {
  it('names the missing scope and what the key has', () => {
    const routeClass = classifyRoute('POST', '/manager/queue/install');
    expect(forbiddenScopeMessage(routeClass, 'POST', '/manager/queue/install', 'creator')).toBe(
      "POST /manager/queue/install needs scope 'install'; this key (role creator) has read, generate"
    );
  });

  it('lists explicit scopes instead of the role’s', () => {
    expect(forbiddenScopeMessage('generate', 'POST', '/prompt', 'operator', ['read'])).toBe(
      "POST /prompt needs scope 'generate'; this key (role operator) has read"
    );
    expect(forbiddenScopeMessage('read', 'GET', '/queue', 'viewer', [])).toBe(
      "GET /queue needs scope 'read'; this key (role viewer) has no scopes"
    );
  });

  it('shortens a very long path', () => {
    const message = forbiddenScopeMessage('manage', 'POST', `/x/${'a'.repeat(5000)}`, 'viewer');
    expect(message.length).toBeLessThan(300);
    expect(message).toContain("… needs scope 'manage'");
  });
});
