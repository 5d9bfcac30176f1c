import { describe, expect, it } from 'vitest';
import { normalizePath } from '../../server/pipeline/normalizePath.js';
import {
  ROUTE_TABLE,
  classifyRoute,
  needsManageForBody,
  routeOverrideSchema,
  type RouteClass,
  type RouteOverride,
} from '../../server/pipeline/routeClasses.js';

/** As the proxy does it: normalize the raw URL first, then classify. */
function classify(method: string, rawUrl: string, overrides?: readonly RouteOverride[]): RouteClass {
  const normalized = normalizePath(rawUrl);
  if (!normalized.ok) throw new Error(`${rawUrl} was refused: ${normalized.reason}`);
  return classifyRoute(method, normalized.path, overrides);
}

type Case = readonly [method: string, url: string, expected: RouteClass];

describe('core ComfyUI routes', () => {
  const core: Case[] = [
    // §3 server.py
    ['GET', '/', 'read'],
    ['GET', '/ws?clientId=abc', 'read'],
    ['GET', '/api/ws?clientId=abc', 'read'],
    ['GET', '/api/embeddings', 'read'],
    ['GET', '/api/models', 'read'],
    ['GET', '/api/models/checkpoints', 'read'],
    ['GET', '/api/extensions', 'read'],
    ['GET', '/api/view?filename=a.png&type=output&subfolder=', 'read'],
    ['GET', '/api/view_metadata/loras?filename=x.safetensors', 'read'],
    ['GET', '/api/system_stats', 'read'],
    ['GET', '/api/features', 'read'],
    ['GET', '/api/prompt', 'read'],
    ['GET', '/api/object_info', 'read'],
    ['GET', '/api/object_info/KSampler', 'read'],
    ['GET', '/api/history?max_items=64', 'read'],
    ['GET', '/api/history/0f9c2d3e-1111-2222-3333-444455556666', 'read'],
    ['GET', '/api/queue', 'read'],
    ['POST', '/api/prompt', 'generate'],
    ['POST', '/prompt', 'generate'],
    ['POST', '/api/upload/image', 'generate'],
    ['POST', '/api/upload/mask', 'generate'],
    ['POST', '/api/interrupt', 'generate'],
    ['POST', '/api/queue', 'generate'],
    ['POST', '/api/history', 'generate'],
    ['POST', '/api/free', 'manage'],
    // §4.1 users and settings
    ['GET', '/api/users', 'read'],
    ['POST', '/api/users', 'manage'],
    ['GET', '/api/settings', 'read'],
    ['GET', '/api/settings/Comfy.ColorPalette', 'read'],
    ['POST', '/api/settings', 'manage'],
    ['POST', '/api/settings/Comfy.ColorPalette', 'manage'],
    ['GET', '/api/userdata?dir=workflows&recurse=true&split=false&full_info=true', 'read'],
    ['GET', '/api/v2/userdata?path=workflows', 'read'],
    ['GET', '/api/userdata/workflows%2Fa.json', 'read'],
    // §4.2
    ['GET', '/api/experiment/models', 'read'],
    ['GET', '/api/experiment/models/checkpoints', 'read'],
    ['GET', '/api/experiment/models/preview/checkpoints/0/sub%2Fmodel.safetensors', 'read'],
    ['GET', '/api/experiment/models/preview/checkpoints/0/sub/model.safetensors', 'read'],
    ['GET', '/api/workflow_templates', 'read'],
    ['GET', '/api/workflow_templates/comfyui-foo/basic.json', 'read'],
    ['GET', '/api/i18n', 'read'],
    // §4.3 /internal, every method, also when someone adds /api in front
    ['GET', '/internal/logs', 'manage'],
    ['GET', '/internal/logs/raw', 'manage'],
    ['PATCH', '/internal/logs/subscribe', 'manage'],
    ['GET', '/internal/folder_paths', 'manage'],
    ['GET', '/internal/files/output', 'manage'],
    ['GET', '/api/internal/files/input', 'manage'],
    ['GET', '/internal', 'manage'],
    // §4.4 static
    ['GET', '/assets/index-abc123.js', 'read'],
    ['GET', '/scripts/app.js', 'read'],
    ['GET', '/extensions/core/groupNode.js', 'read'],
    ['GET', '/extensions/ComfyUI-Impact-Pack/impact.js', 'read'],
    ['GET', '/templates/index.json', 'read'],
    ['GET', '/docs/KSampler/en.md', 'read'],
    ['GET', '/favicon.ico', 'read'],
    ['POST', '/extensions/core/groupNode.js', 'manage'],
    // §12 jobs
    ['GET', '/api/jobs?status=completed&limit=20', 'read'],
    ['GET', '/api/jobs/0f9c2d3e-1111-2222-3333-444455556666', 'read'],
    ['POST', '/api/jobs/0f9c2d3e-1111-2222-3333-444455556666/cancel', 'generate'],
    ['POST', '/api/jobs/cancel', 'generate'],
    // §12 assets and tags
    ['GET', '/api/assets?include_tags=models', 'read'],
    ['GET', '/api/assets/0f9c2d3e-1111-2222-3333-444455556666', 'read'],
    ['GET', '/api/assets/0f9c2d3e-1111-2222-3333-444455556666/content', 'read'],
    ['HEAD', '/api/assets/hash/blake3:abcd', 'read'],
    ['GET', '/api/assets/tags/refine', 'read'],
    ['GET', '/api/assets/seed/status', 'read'],
    ['GET', '/api/tags', 'read'],
    ['POST', '/api/assets', 'manage'],
    ['POST', '/api/assets/from-hash', 'manage'],
    ['PUT', '/api/assets/0f9c2d3e-1111-2222-3333-444455556666', 'manage'],
    ['DELETE', '/api/assets/0f9c2d3e-1111-2222-3333-444455556666', 'manage'],
    ['POST', '/api/assets/0f9c2d3e-1111-2222-3333-444455556666/tags', 'manage'],
    ['DELETE', '/api/assets/0f9c2d3e-1111-2222-3333-444455556666/tags', 'manage'],
    ['POST', '/api/assets/seed', 'manage'],
    ['POST', '/api/assets/seed/cancel', 'manage'],
    ['POST', '/api/assets/prune', 'manage'],
    ['POST', '/api/assets/download', 'install'],
    ['GET', '/api/tasks/42', 'read'],
    ['DELETE', '/api/tasks/42', 'manage'],
    // §12 other later routes
    ['GET', '/api/global_subgraphs', 'read'],
    ['GET', '/api/global_subgraphs/subgraph-id', 'read'],
    ['GET', '/api/node_replacements', 'read'],
  ];

  it.each(core)('%s %s → %s', (method, url, expected) => {
    expect(classify(method, url)).toBe(expected);
  });

  it.each(core.filter(([method]) => method === 'GET'))('HEAD behaves like GET: %s %s', (_method, url, expected) => {
    expect(classify('HEAD', url)).toBe(expected);
  });

  /** A path that fits the row: `{name}` → a value, a trailing `/*` → something below it. */
  function samplePath(path: string): string {
    const filled = path.replace(/\{(\w+)\}/g, 'sample-$1');
    return filled.endsWith('/*') ? `${filled.slice(0, -2)}/deeper/file.json` : filled;
  }

  it.each(
    ROUTE_TABLE.filter(([, , resolve]) => typeof resolve === 'string').map(([m, p, c]) => [m, p, c as RouteClass])
  )('table row %s %s classifies as %s (nothing shadows it)', (method, path, expected) => {
    const methods = method === '*' ? ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'] : [method];
    for (const m of methods) expect(classifyRoute(m, samplePath(path))).toBe(expected);
  });
});

describe('ComfyUI-Manager routes are install, whatever the method', () => {
  const managerRoutes = [
    // legacy GETs that mutate (c792f92, contemporary with ComfyUI 0.3.64)
    '/manager/reboot',
    '/snapshot/restore?target=2025-10-01_snapshot',
    '/snapshot/remove?target=x',
    '/snapshot/save',
    '/manager/queue/start',
    '/manager/queue/reset',
    '/manager/queue/update_all?mode=remote',
    '/manager/queue/update_comfyui',
    '/comfyui_manager/comfyui_switch_version?ver=v0.3.60',
    '/customnode/fetch_updates?mode=remote',
    '/manager/preview_method?value=auto',
    '/manager/db_mode?value=remote',
    '/manager/policy/update?value=nightly-comfyui',
    '/manager/channel_url_list?value=evil',
    // 2026 main: installs or executes code
    '/manager/queue/install',
    '/manager/queue/reinstall',
    '/manager/queue/update',
    '/manager/queue/fix',
    '/manager/queue/uninstall',
    '/manager/queue/disable',
    '/customnode/install/git_url',
    '/customnode/install/pip',
    // writes
    '/manager/queue/install_model',
    '/manager/component/save',
    '/manager/set_openart_auth',
    '/manager/youml/settings',
    '/manager/set_esheep_workflow_and_images',
    '/manager/share',
    // secrets
    '/manager/get_openart_auth',
    '/manager/get_matrix_auth',
    '/manager/get_comfyworkflows_auth',
    '/manager/get_esheep_workflow_and_images',
    // reads
    '/customnode/getmappings?mode=cache',
    '/customnode/get_node_types_in_workflows',
    '/customnode/installed',
    '/customnode/getlist?mode=cache&skip_update=true',
    '/customnode/alternatives?mode=cache',
    '/externalmodel/getlist?mode=cache',
    '/snapshot/getlist',
    '/snapshot/get_current',
    '/customnode/versions/comfyui-impact-pack',
    '/customnode/disabled_versions/comfyui-impact-pack',
    '/manager/queue/status',
    '/comfyui_manager/comfyui_versions',
    '/manager/policy/component',
    '/manager/notice',
    '/manager/startup_alerts',
    '/manager/version',
    '/manager/share_option',
    '/customnode/import_fail_info',
    '/manager/component/loads',
    // older Manager releases
    '/customnode/install',
    '/customnode/uninstall',
    '/customnode/update',
    '/customnode/update_all?mode=remote',
    '/customnode/fix',
    '/customnode/disable',
    '/customnode/reinstall',
    '/comfyui_manager/update_comfyui',
    '/manager/migrate_unmanaged_nodes',
    '/manager/badge_mode?value=none',
    '/manager/dbl_click/policy?value=none',
    '/model/install',
    // Manager v4 (/v2)
    '/v2/manager/queue/task',
    '/v2/manager/queue/history?ui_id=x',
    '/v2/manager/queue/history_list',
    '/v2/manager/queue/status',
    '/v2/manager/queue/start',
    '/v2/manager/queue/reset',
    '/v2/manager/queue/update_all',
    '/v2/manager/queue/update_comfyui',
    '/v2/manager/queue/install_model',
    '/v2/manager/reboot',
    '/v2/manager/version',
    '/v2/manager/db_mode',
    '/v2/manager/policy/update',
    '/v2/manager/channel_url_list',
    '/v2/manager/is_legacy_manager_ui',
    '/v2/customnode/getmappings?mode=cache',
    '/v2/customnode/fetch_updates',
    '/v2/customnode/installed',
    '/v2/customnode/import_fail_info',
    '/v2/customnode/import_fail_info_bulk',
    '/v2/snapshot/getlist',
    '/v2/snapshot/remove?target=x',
    '/v2/snapshot/restore?target=x',
    '/v2/snapshot/get_current',
    '/v2/snapshot/save',
    '/v2/comfyui_manager/comfyui_versions',
    '/v2/comfyui_manager/comfyui_switch_version',
    '/v2/externalmodel/getlist',
  ];

  it.each(managerRoutes)('%s (GET, HEAD, POST, DELETE, with and without /api)', (route) => {
    for (const method of ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS']) {
      expect(classify(method, route)).toBe('install');
      expect(classify(method, `/api${route}`)).toBe('install');
    }
  });

  it.each<Case>([
    ['GET', '/manager', 'install'],
    ['GET', '/api/manager/', 'install'],
    ['GET', '/api/man%61ger/reboot', 'install'],
    // spellings aiohttp would not route to the Manager today: stricter is still right
    ['GET', '/api/api/manager/reboot', 'install'],
    ['GET', '/manager%2Freboot', 'install'],
    ['GET', '/api%2Fmanager%2Freboot', 'install'],
    ['POST', '/v2%2Fmanager/queue/task', 'install'],
    // near misses are somebody else's routes
    ['GET', '/managerial/x', 'read'],
    ['POST', '/managerial/x', 'manage'],
    ['GET', '/v2/managers/x', 'read'],
    ['GET', '/Manager/reboot', 'read'],
    ['GET', '/models/install', 'read'],
  ])('%s %s → %s', (method, url, expected) => {
    expect(classify(method, url)).toBe(expected);
  });
});

describe('/api forms and what aiohttp decodes', () => {
  it.each<Case>([
    ['POST', '/api/pr%6Fmpt', 'generate'],
    ['POST', '/api/prompt?x=1', 'generate'],
    ['GET', '/api', 'read'],
    // aiohttp routes are case-sensitive: /API/prompt is nobody's route, so a custom node's rule applies
    ['POST', '/API/prompt', 'manage'],
    ['GET', '/API/prompt', 'read'],
    // no normalisation in aiohttp: a trailing slash is another (unknown) route
    ['POST', '/api/prompt/', 'manage'],
    ['POST', '/api/us%65rdata/workflows%2Fa.json', 'generate'],
    // a route that already starts with /api is mirrored at /api/api; only one /api is removed
    ['GET', '/api/api/jobs', 'read'],
    ['POST', '/api/api/jobs/cancel', 'manage'],
  ])('%s %s → %s', (method, url, expected) => {
    expect(classify(method, url)).toBe(expected);
  });
});

describe('userdata writes', () => {
  it.each<Case>([
    ['POST', '/api/userdata/workflows%2Fa.json', 'generate'],
    ['POST', '/api/userdata/workflows%2Fa.json?overwrite=true&full_info=true', 'generate'],
    ['POST', '/api/userdata/workflows%2Fteam%2Fmy%20flow.json', 'generate'],
    ['POST', '/api/userdata/subgraphs%2Fblock.json', 'generate'],
    ['DELETE', '/api/userdata/workflows%2Fa.json', 'generate'],
    ['POST', '/api/userdata/workflows%2Fa.json/move/workflows%2Fb.json', 'generate'],
    ['POST', '/api/userdata/workflows%2Fa.json/move/subgraphs%2Fb.json', 'generate'],
    // the Manager's config.ini: lower security_level, then install (CVE-2025-67303)
    ['POST', '/api/userdata/ComfyUI-Manager%2Fconfig.ini', 'install'],
    ['DELETE', '/api/userdata/ComfyUI-Manager%2Fconfig.ini', 'install'],
    ['POST', '/api/userdata/workflows%2Fa.json/move/ComfyUI-Manager%2Fconfig.ini', 'install'],
    ['POST', '/api/userdata/ComfyUI-Manager%2Fconfig.ini/move/workflows%2Fa.json', 'install'],
    ['POST', '/api/userdata/comfyui-manager%2Fconfig.ini', 'install'], // case-insensitive file systems
    ['POST', '/api/userdata/COMFYU~1%2Fconfig.ini', 'install'], // Windows 8.3 short name
    ['POST', '/api/userdata/__manager%2Fconfig.ini', 'install'],
    ['POST', '/api/userdata/workflows%2F..%2FComfyUI-Manager%2Fconfig.ini', 'install'],
    ['POST', '/api/userdata/workflows%2F%2E%2E%2Fother.json', 'install'],
    ['POST', '/api/userdata/workflows%5C..%5CComfyUI-Manager%5Cconfig.ini', 'install'],
    ['POST', '/api/userdata/%2Fetc%2Fpasswd', 'install'],
    ['POST', '/api/userdata/workflows%2F%2Fa.json', 'install'],
    // everything else a user stores
    ['POST', '/api/userdata/other.json', 'manage'],
    ['POST', '/api/userdata/comfy.settings.json', 'manage'],
    ['POST', '/api/userdata/user.css', 'manage'],
    ['POST', '/api/userdata/workflows', 'manage'],
    ['POST', '/api/userdata/Workflows%2Fa.json', 'manage'],
    ['POST', '/api/userdata/workflowsx%2Fa.json', 'manage'],
    ['DELETE', '/api/userdata/other.json', 'manage'],
    ['POST', '/api/userdata/workflows%2Fa.json/move/other.json', 'manage'],
    // not routes: a raw / splits {file}, and there is no PUT
    ['POST', '/api/userdata/workflows/a.json', 'manage'],
    ['PUT', '/api/userdata/workflows%2Fa.json', 'manage'],
    ['POST', '/api/userdata', 'manage'],
    // reads stay reads, whatever the file
    ['GET', '/api/userdata/ComfyUI-Manager%2Fconfig.ini', 'read'],
  ])('%s %s → %s', (method, url, expected) => {
    expect(classify(method, url)).toBe(expected);
  });

  it('refuses %252F before classification (normalizePath), and still reads it as ComfyUI would if asked', () => {
    expect(normalizePath('/api/userdata/workflows%252Fa.json').ok).toBe(false);
    // ComfyUI's user manager unquotes once more, so %2F left in the parameter is a separator too.
    expect(classifyRoute('POST', '/userdata/workflows%252Fa.json')).toBe('generate');
    expect(classifyRoute('POST', '/userdata/ComfyUI-Manager%252Fconfig.ini')).toBe('install');
    expect(classifyRoute('POST', '/userdata/workflows%252F..%252Fx.json')).toBe('install');
    expect(classifyRoute('POST', '/userdata/workflows%252F%252E%252E%252Fx.json')).toBe('install');
    expect(classifyRoute('POST', '/userdata/workflows%2fa.json')).toBe('generate');
  });
});

describe('unknown routes (custom nodes)', () => {
  it.each<Case>([
    ['GET', '/api/impact/wildcards/list', 'read'],
    ['HEAD', '/api/impact/wildcards/list', 'read'],
    ['POST', '/api/impact/wildcards/refresh', 'manage'],
    ['PUT', '/kjnodes/settings', 'manage'],
    ['DELETE', '/kjnodes/settings', 'manage'],
    ['PATCH', '/kjnodes/settings', 'manage'],
    ['OPTIONS', '/api/prompt', 'manage'],
    ['POST', '/login', 'manage'],
    // a known path with a method it does not list
    ['DELETE', '/api/prompt', 'manage'],
    ['POST', '/api/view', 'manage'],
    ['PUT', '/api/settings', 'manage'],
    ['POST', '/api/object_info/KSampler', 'manage'],
  ])('%s %s → %s', (method, url, expected) => {
    expect(classify(method, url)).toBe(expected);
  });
});

describe('overrides from Settings', () => {
  it.each<readonly [string, string, readonly RouteOverride[], RouteClass]>([
    [
      'POST',
      '/api/impact/wildcards/refresh',
      [{ path: '/impact/wildcards/refresh', method: 'POST', class: 'generate' }],
      'generate',
    ],
    [
      'GET',
      '/api/impact/wildcards/refresh',
      [{ path: '/impact/wildcards/refresh', method: 'POST', class: 'generate' }],
      'read',
    ],
    ['POST', '/kjnodes/anything/below', [{ path: '/kjnodes/*', class: 'read' }], 'read'],
    ['POST', '/kjnodesx', [{ path: '/kjnodes/*', class: 'read' }], 'manage'],
    ['POST', '/kjnodesx', [{ path: '/kjnodes*', class: 'read' }], 'read'],
    // the first match wins
    [
      'GET',
      '/x/y',
      [
        { path: '/x/*', class: 'install' },
        { path: '/x/y', class: 'read' },
      ],
      'install',
    ],
    [
      'GET',
      '/x/y',
      [
        { path: '/x/y', class: 'read' },
        { path: '/x/*', class: 'install' },
      ],
      'read',
    ],
    // they win over the table, both ways
    ['GET', '/api/manager/queue/status', [{ path: '/manager/queue/status', method: 'GET', class: 'read' }], 'read'],
    ['POST', '/api/manager/queue/status', [{ path: '/manager/queue/status', method: 'GET', class: 'read' }], 'install'],
    ['GET', '/api/view?filename=a.png', [{ path: '/view', class: 'generate' }], 'generate'],
    ['POST', '/api/prompt', [{ path: '/*', class: 'manage' }], 'manage'],
    // HEAD and GET are one method
    ['HEAD', '/foo', [{ path: '/foo', method: 'GET', class: 'manage' }], 'manage'],
    ['GET', '/foo', [{ path: '/foo', method: 'HEAD', class: 'manage' }], 'manage'],
    ['POST', '/foo', [{ path: '/foo', method: 'GET', class: 'read' }], 'manage'],
    // matched on the normalized path
    ['POST', '/api/my%6Eode/run', [{ path: '/mynode/run', class: 'generate' }], 'generate'],
  ])('%s %s with %j → %s', (method, url, overrides, expected) => {
    expect(classify(method, url, overrides)).toBe(expected);
  });

  it.each([
    { path: '/foo', class: 'read' },
    { path: '/foo/*', method: 'POST', class: 'generate' },
    { path: '/foo*', method: 'HEAD', class: 'manage' },
    { path: '/*', class: 'install' },
    { path: '/userdata/workflows%2Fa.json', method: 'DELETE', class: 'manage' },
    { path: '  /padded  ', class: 'read' },
  ])('accepts %j', (input) => {
    expect(routeOverrideSchema.safeParse(input).success).toBe(true);
  });

  it('trims the path', () => {
    expect(routeOverrideSchema.parse({ path: ' /foo ', class: 'read' })).toEqual({ path: '/foo', class: 'read' });
  });

  it.each([
    ['no leading /', { path: 'foo', class: 'read' }],
    ['* in the middle', { path: '/foo/*/bar', class: 'read' }],
    ['two *', { path: '/foo**', class: 'read' }],
    ['dot segments', { path: '/a/../b', class: 'read' }],
    ['a query', { path: '/foo?x=1', class: 'read' }],
    ['spaces', { path: '/foo bar', class: 'read' }],
    ['/api prefix', { path: '/api/prompt', class: 'read' }],
    ['/api alone', { path: '/api', class: 'read' }],
    ['lowercase method', { path: '/foo', method: 'get', class: 'read' }],
    ['unknown method', { path: '/foo', method: 'FETCH', class: 'read' }],
    ['unknown class', { path: '/foo', class: 'admin' }],
    ['no class', { path: '/foo' }],
    ['extra keys', { path: '/foo', class: 'read', note: 'x' }],
  ])('rejects %s', (_label, input) => {
    expect(routeOverrideSchema.safeParse(input).success).toBe(false);
  });
});

describe('needsManageForBody', () => {
  it.each([
    ['POST', '/queue', true],
    ['POST', '/history', true],
    ['GET', '/queue', false],
    ['GET', '/history', false],
    ['POST', '/prompt', false],
    ['POST', '/interrupt', false],
    ['POST', '/history/abc', false],
  ] as const)('%s %s → %s', (method, path, expected) => {
    expect(needsManageForBody(method, path)).toBe(expected);
  });

  it('sees /api/queue once normalized', () => {
    const normalized = normalizePath('/api/queue');
    expect(normalized.ok && needsManageForBody('POST', normalized.path)).toBe(true);
  });
});
