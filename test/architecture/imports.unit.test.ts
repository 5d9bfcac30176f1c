import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileCycles, importGraph, serverRoom, type ImportEdge } from './importGraph.js';
import {
  importProblems,
  PIPELINE_MAY_IMPORT,
  roomArrows,
  SERVER_ARROWS,
  STORE_MAY_IMPORT,
  upArrows,
} from './importRules.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { edges } = importGraph(root, ['server', 'electron', 'renderer/src']);
const withinServer = edges.filter((edge) => edge.from.startsWith('server/') && edge.to?.startsWith('server/'));

function describeEdge(edge: ImportEdge): string {
  return `${edge.from} imports ${edge.specifier}`;
}

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
    expect([...roomArrows(withinServer).keys()].sort()).toEqual([...SERVER_ARROWS].sort());
  });

  it('every listed arrow points down a tier of the rooms', () => {
    expect(upArrows(SERVER_ARROWS)).toEqual([]);
  });

  it('tells an arrow that points up or sideways, or from a room in no tier', () => {
    expect(upArrows(['pipeline -> auth', 'auth -> pipeline', 'logs -> metrics', 'nowhere -> keys'])).toEqual([
      'pipeline -> auth: points up (auth is above pipeline in ROOM_TIERS)',
      'logs -> metrics: points sideways (logs and metrics share a tier of ROOM_TIERS)',
      'nowhere -> keys: nowhere is in no tier of ROOM_TIERS',
    ]);
  });

  it('the check `npm run lint` runs finds nothing wrong', () => {
    expect(importProblems(root)).toEqual([]);
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
