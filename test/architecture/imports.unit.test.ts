import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileCycles, importGraph, serverRoom, type ImportEdge } from './importGraph.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { edges } = importGraph(root, ['server', 'electron', 'renderer/src']);
const withinServer = edges.filter((edge) => edge.from.startsWith('server/') && edge.to?.startsWith('server/'));

function describeEdge(edge: ImportEdge): string {
  return `${edge.from} imports ${edge.specifier}`;
}

/**
 * The arrows between the rooms of server/ as they are, type-only imports included. A new arrow fails this test on
 * purpose: add it here only when it points the right way (see docs/ARCHITECTURE.md), or move the code instead.
 * The ones marked "up" run from a lower room to a higher one and are due to go (issue 18).
 */
const SERVER_ARROWS = [
  'admin -> appLog',
  'admin -> auth',
  'admin -> config',
  'admin -> docs',
  'admin -> errors.ts',
  'admin -> http',
  'admin -> keys',
  'admin -> logs',
  'admin -> metrics',
  'admin -> net',
  'admin -> pipeline',
  'admin -> proxy',
  'admin -> settings',
  'admin -> tls',
  'admin -> usage',
  'auth -> admin', // up: lockedOut.ts renders the login page's locked-out page
  'auth -> appLog',
  'auth -> errors.ts',
  'auth -> keys',
  'auth -> limits',
  'auth -> pipeline',
  'auth -> settings',
  'auth -> store',
  'cli -> appLog',
  'cli -> config',
  'cli -> errors.ts',
  'cli -> gate.ts',
  'cli -> keys',
  'cli -> logs',
  'cli -> net',
  'cli -> pipeline',
  'cli -> runtime',
  'cli -> redis',
  'cli -> settings',
  'cli -> tls',
  'contract -> admin',
  'contract -> appLog',
  'contract -> config',
  'contract -> errors.ts',
  'contract -> gate.ts',
  'contract -> keys',
  'contract -> logs',
  'contract -> net',
  'contract -> pipeline',
  'contract -> proxy',
  'contract -> settings',
  'contract -> tls',
  'contract -> usage',
  'docs -> admin', // up: openapi.ts takes HealthReport from admin/health.ts
  'docs -> auth',
  'docs -> errors.ts',
  'docs -> keys',
  'docs -> observe',
  'docs -> settings',
  'docs -> usage',
  'gate.ts -> admin',
  'gate.ts -> appLog',
  'gate.ts -> auth',
  'gate.ts -> config',
  'gate.ts -> errors.ts',
  'gate.ts -> http',
  'gate.ts -> isolation',
  'gate.ts -> keys',
  'gate.ts -> limits',
  'gate.ts -> logs',
  'gate.ts -> metrics',
  'gate.ts -> net',
  'gate.ts -> observe',
  'gate.ts -> pipeline',
  'gate.ts -> policy',
  'gate.ts -> proxy',
  'gate.ts -> redis',
  'gate.ts -> runtime',
  'gate.ts -> settings',
  'gate.ts -> store',
  'gate.ts -> tls',
  'gate.ts -> usage',
  'gate.ts -> ws',
  'http -> admin', // up: refusalPage.ts borrows the login page's style and safeNext
  'http -> appLog',
  'http -> auth',
  'http -> errors.ts',
  'http -> observe',
  'http -> pipeline',
  'http -> proxy',
  'http -> ws',
  'isolation -> appLog',
  'isolation -> errors.ts',
  'isolation -> http',
  'isolation -> pipeline',
  'isolation -> policy',
  'isolation -> proxy',
  'isolation -> settings',
  'isolation -> store',
  'keys -> errors.ts',
  'keys -> store',
  'limits -> errors.ts',
  'limits -> keys',
  'limits -> pipeline',
  'limits -> settings',
  'logs -> appLog',
  'logs -> errors.ts',
  'logs -> observe',
  'logs -> policy',
  'logs -> settings',
  'metrics -> errors.ts',
  'metrics -> keys',
  'metrics -> observe',
  'metrics -> policy',
  'net -> pipeline',
  'net -> settings',
  'observe -> errors.ts',
  'observe -> keys',
  'observe -> pipeline',
  'observe -> policy',
  'pipeline -> errors.ts',
  'pipeline -> keys',
  'policy -> errors.ts',
  'policy -> isolation',
  'policy -> keys',
  'policy -> pipeline',
  'policy -> settings',
  'proxy -> auth',
  'proxy -> errors.ts',
  'proxy -> http',
  'proxy -> isolation',
  'proxy -> pipeline',
  'redis -> appLog',
  'redis -> errors.ts',
  'redis -> limits',
  'redis -> pipeline',
  'redis -> settings',
  'redis -> store',
  'runtime -> store',
  'settings -> config',
  'settings -> http',
  'settings -> keys',
  'settings -> policy',
  'settings -> store',
  'store -> appLog',
  'store -> errors.ts',
  'tls -> config',
  'tls -> net',
  'usage -> keys',
  'usage -> observe',
  'usage -> store',
  'ws -> appLog',
  'ws -> auth',
  'ws -> errors.ts',
  'ws -> isolation',
  'ws -> keys',
  'ws -> observe',
  'ws -> pipeline',
];

/** What the store layer may use: itself and the foundations every room shares. */
const STORE_MAY_IMPORT = new Set(['store', 'appLog', 'errors.ts']);
/** What the request pipeline may use: itself, the error type and the key schema's types (roles, scopes, limits). */
const PIPELINE_MAY_IMPORT = new Set(['pipeline', 'errors.ts', 'keys']);

describe('import graph', () => {
  it('finds the imports it checks (the parser sees the tree)', () => {
    expect(withinServer.length).toBeGreaterThan(300);
    expect(edges.some((edge) => edge.from.startsWith('renderer/') && edge.to?.startsWith('server/'))).toBe(true);
  });

  it('has no file cycle in server/, type-only imports included', () => {
    expect(fileCycles(withinServer).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('server/ imports nothing of electron/ or renderer/ by any path', () => {
    const outward = edges.filter(
      (edge) =>
        edge.from.startsWith('server/') &&
        (edge.to?.startsWith('electron/') === true ||
          edge.to?.startsWith('renderer/') === true ||
          edge.specifier === 'electron')
    );
    expect(outward.map(describeEdge)).toEqual([]);
  });

  it('renderer/ imports only types from server/ and nothing from electron/', () => {
    const values = edges.filter(
      (edge) =>
        edge.from.startsWith('renderer/') &&
        ((edge.to?.startsWith('server/') === true && !edge.typeOnly) || edge.to?.startsWith('electron/') === true)
    );
    expect(values.map(describeEdge)).toEqual([]);
  });

  it('renderer/ and electron/ reach server/ only through their door in server/contract/', () => {
    const doors: Record<string, string> = {
      renderer: 'server/contract/api.ts',
      electron: 'server/contract/desktop.ts',
    };
    const around = edges.filter((edge) => {
      const door = doors[edge.from.split('/')[0]!];
      return door !== undefined && edge.to?.startsWith('server/') === true && edge.to !== door;
    });
    expect(around.map(describeEdge)).toEqual([]);
  });

  it('the arrows between server/ rooms are the listed ones', () => {
    const arrows = new Set<string>();
    for (const edge of withinServer) {
      const from = serverRoom(edge.from);
      const to = serverRoom(edge.to!);
      if (from !== to) arrows.add(`${from} -> ${to}`);
    }
    expect([...arrows].sort()).toEqual([...SERVER_ARROWS].sort());
  });

  it('the store layer (server/store/) imports no concern folder', () => {
    const upward = withinServer.filter(
      (edge) => serverRoom(edge.from) === 'store' && !STORE_MAY_IMPORT.has(serverRoom(edge.to!))
    );
    expect(upward.map(describeEdge)).toEqual([]);
  });

  it('the request pipeline (server/pipeline/) imports no concern folder', () => {
    const upward = withinServer.filter(
      (edge) => serverRoom(edge.from) === 'pipeline' && !PIPELINE_MAY_IMPORT.has(serverRoom(edge.to!))
    );
    expect(upward.map(describeEdge)).toEqual([]);
  });
});
