import { fileCycles, importGraph, serverRoom, type ImportEdge } from './importGraph.js';

/**
 * The rooms of server/, high to low (docs/ARCHITECTURE.md): an arrow only points to a room in a lower tier, never
 * up and never to a room beside it in the same tier. Each room is a folder of server/; a file directly in server/ is
 * its own room.
 */
export const ROOM_TIERS: readonly (readonly string[])[] = [
  ['contract'],
  ['cli'],
  ['gate.ts'],
  ['admin'],
  ['docs'],
  ['http'],
  ['ws', 'proxy'],
  ['auth'],
  ['policy'],
  ['redis'],
  ['gpu'],
  ['isolation'],
  ['fairness'],
  ['limits'],
  ['tls'],
  ['net'],
  ['logs', 'metrics', 'usage', 'runtime'],
  ['observe', 'settings'],
  ['backends'],
  ['config'],
  ['pages', 'upstream'],
  ['pipeline'],
  ['keys'],
  ['store'],
  ['appLog', 'errors.ts'],
];

/**
 * The arrows between the rooms of server/ as they are, type-only imports included. A new arrow fails the
 * architecture test and `npm run lint` on purpose: add it here only when it points down a tier of ROOM_TIERS, or move the
 * code instead.
 */
export const SERVER_ARROWS: readonly string[] = [
  'admin -> appLog',
  'admin -> auth',
  'admin -> backends',
  'admin -> config',
  'admin -> docs',
  'admin -> errors.ts',
  'admin -> fairness',
  'admin -> http',
  'admin -> keys',
  'admin -> limits',
  'admin -> logs',
  'admin -> metrics',
  'admin -> net',
  'admin -> pages',
  'admin -> pipeline',
  'admin -> redis',
  'admin -> settings',
  'admin -> tls',
  'admin -> upstream',
  'admin -> usage',
  'auth -> appLog',
  'auth -> errors.ts',
  'auth -> keys',
  'auth -> limits',
  'auth -> pages',
  'auth -> pipeline',
  'auth -> settings',
  'auth -> store',
  'backends -> appLog',
  'backends -> config',
  'cli -> appLog',
  'cli -> backends',
  'cli -> config',
  'cli -> errors.ts',
  'cli -> gate.ts',
  'cli -> keys',
  'cli -> logs',
  'cli -> net',
  'cli -> pipeline',
  'cli -> redis',
  'cli -> runtime',
  'cli -> settings',
  'cli -> tls',
  'contract -> appLog',
  'contract -> backends',
  'contract -> config',
  'contract -> errors.ts',
  'contract -> fairness',
  'contract -> gate.ts',
  'contract -> keys',
  'contract -> logs',
  'contract -> net',
  'contract -> pipeline',
  'contract -> redis',
  'contract -> settings',
  'contract -> tls',
  'contract -> upstream',
  'contract -> usage',
  'docs -> backends',
  'docs -> errors.ts',
  'docs -> fairness',
  'docs -> keys',
  'docs -> net',
  'docs -> observe',
  'docs -> pipeline',
  'docs -> redis',
  'docs -> settings',
  'docs -> upstream',
  'docs -> usage',
  'fairness -> limits',
  'fairness -> pipeline',
  'fairness -> settings',
  'gate.ts -> admin',
  'gate.ts -> appLog',
  'gate.ts -> auth',
  'gate.ts -> backends',
  'gate.ts -> config',
  'gate.ts -> errors.ts',
  'gate.ts -> fairness',
  'gate.ts -> gpu',
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
  'gate.ts -> upstream',
  'gate.ts -> usage',
  'gate.ts -> ws',
  'gpu -> appLog',
  'gpu -> errors.ts',
  'gpu -> isolation',
  'gpu -> limits',
  'gpu -> pipeline',
  'gpu -> settings',
  'gpu -> upstream',
  'gpu -> usage',
  'http -> appLog',
  'http -> errors.ts',
  'http -> observe',
  'http -> pages',
  'http -> pipeline',
  'http -> proxy',
  'http -> settings',
  'http -> ws',
  'isolation -> appLog',
  'isolation -> errors.ts',
  'isolation -> fairness',
  'isolation -> keys',
  'isolation -> pages',
  'isolation -> pipeline',
  'isolation -> settings',
  'isolation -> store',
  'isolation -> upstream',
  'keys -> errors.ts',
  'keys -> store',
  'limits -> appLog',
  'limits -> errors.ts',
  'limits -> keys',
  'limits -> logs',
  'limits -> pipeline',
  'limits -> settings',
  'logs -> appLog',
  'logs -> errors.ts',
  'logs -> observe',
  'logs -> pipeline',
  'logs -> settings',
  'metrics -> errors.ts',
  'metrics -> keys',
  'metrics -> observe',
  'metrics -> pipeline',
  'net -> appLog',
  'net -> errors.ts',
  'net -> logs',
  'net -> pipeline',
  'net -> settings',
  'observe -> errors.ts',
  'observe -> keys',
  'observe -> pipeline',
  'pages -> errors.ts',
  'pages -> pipeline',
  'pipeline -> errors.ts',
  'pipeline -> keys',
  'policy -> errors.ts',
  'policy -> isolation',
  'policy -> keys',
  'policy -> pipeline',
  'policy -> settings',
  'proxy -> errors.ts',
  'proxy -> pages',
  'proxy -> pipeline',
  'proxy -> upstream',
  'redis -> appLog',
  'redis -> errors.ts',
  'redis -> gpu',
  'redis -> isolation',
  'redis -> limits',
  'redis -> pipeline',
  'redis -> settings',
  'redis -> store',
  'redis -> usage',
  'runtime -> appLog',
  'runtime -> store',
  'settings -> config',
  'settings -> keys',
  'settings -> pipeline',
  'settings -> store',
  'store -> appLog',
  'store -> errors.ts',
  'tls -> config',
  'tls -> net',
  'upstream -> errors.ts',
  'usage -> keys',
  'usage -> observe',
  'usage -> store',
  'ws -> appLog',
  'ws -> errors.ts',
  'ws -> isolation',
  'ws -> keys',
  'ws -> observe',
  'ws -> pipeline',
  'ws -> settings',
];

/** What the store layer may use: itself and the foundations every room shares. */
export const STORE_MAY_IMPORT: ReadonlySet<string> = new Set(['store', 'appLog', 'errors.ts']);
/** What the request pipeline may use: itself, the error type and the key schema's types (roles, scopes, limits). */
export const PIPELINE_MAY_IMPORT: ReadonlySet<string> = new Set(['pipeline', 'errors.ts', 'keys']);

const TIER = new Map(ROOM_TIERS.flatMap((rooms, tier) => rooms.map((room) => [room, tier] as const)));

/** `from -> to` for each pair of rooms an import connects (within server/ only). */
export function roomArrows(edges: readonly ImportEdge[]): Map<string, ImportEdge[]> {
  const arrows = new Map<string, ImportEdge[]>();
  for (const edge of edges) {
    if (!edge.from.startsWith('server/') || edge.to?.startsWith('server/') !== true) continue;
    const from = serverRoom(edge.from);
    const to = serverRoom(edge.to);
    if (from === to) continue;
    const arrow = `${from} -> ${to}`;
    arrows.set(arrow, [...(arrows.get(arrow) ?? []), edge]);
  }
  return arrows;
}

/** Arrows that do not point down in ROOM_TIERS (up, or sideways within a tier), or name a room it does not place. */
export function upArrows(arrows: Iterable<string>): string[] {
  const wrong: string[] = [];
  for (const arrow of arrows) {
    const [from, to] = arrow.split(' -> ') as [string, string];
    const fromTier = TIER.get(from);
    const toTier = TIER.get(to);
    if (fromTier === undefined) wrong.push(`${arrow}: ${from} is in no tier of ROOM_TIERS`);
    else if (toTier === undefined) wrong.push(`${arrow}: ${to} is in no tier of ROOM_TIERS`);
    else if (toTier < fromTier) wrong.push(`${arrow}: points up (${to} is above ${from} in ROOM_TIERS)`);
    else if (toTier === fromTier)
      wrong.push(`${arrow}: points sideways (${from} and ${to} share a tier of ROOM_TIERS)`);
  }
  return wrong;
}

/** Everything the import rules refuse in the tree under `root`, one line each; empty when the house is in order. */
export function importProblems(root: string): string[] {
  const { edges } = importGraph(root, ['server']);
  const withinServer = edges.filter((edge) => edge.to?.startsWith('server/') === true);
  const arrows = roomArrows(withinServer);
  const listed = new Set(SERVER_ARROWS);
  const problems = [
    ...fileCycles(withinServer).map((cycle) => `file cycle: ${cycle.join(' -> ')}`),
    ...upArrows([...arrows.keys()]).map((problem) => `up-arrow ${problem}`),
  ];
  for (const [arrow, imports] of arrows) {
    if (!listed.has(arrow)) {
      const where = imports.map((edge) => `${edge.from} imports ${edge.specifier}`).join('; ');
      problems.push(`new arrow ${arrow} (${where}): not in SERVER_ARROWS (test/architecture/importRules.ts)`);
    }
  }
  for (const arrow of listed) {
    if (!arrows.has(arrow)) problems.push(`arrow ${arrow} is listed in SERVER_ARROWS but no import makes it`);
  }
  return problems;
}
