import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../server/docs/openapi.js';
import {
  createKeyInputSchema,
  keyRecordSchema,
  roleSchema,
  updateKeyInputSchema,
} from '../../server/keys/keySchema.js';
import { runtimeSettingsSchema, settingsPatchSchema } from '../../server/settings/settingsSchema.js';

type Json = Record<string, unknown>;

/** DESIGN.md "Contracts" plus the gate's own endpoints from "URL space". */
const CONTRACT_ROUTES: ReadonlyArray<[method: string, path: string]> = [
  ['post', '/gate/api/keys'],
  ['get', '/gate/api/keys'],
  ['get', '/gate/api/keys/{id}'],
  ['patch', '/gate/api/keys/{id}'],
  ['delete', '/gate/api/keys/{id}'],
  ['post', '/gate/api/keys/{id}/rotate'],
  ['post', '/gate/api/keys/{id}/sessions/revoke'],
  ['get', '/gate/api/whoami'],
  ['get', '/gate/api/queue'],
  ['get', '/gate/api/usage'],
  ['get', '/gate/api/usage/all'],
  ['get', '/gate/api/logs'],
  ['get', '/gate/api/logs/stream'],
  ['get', '/gate/api/audit'],
  ['get', '/gate/api/settings'],
  ['patch', '/gate/api/settings'],
  ['get', '/gate/api/status'],
  ['get', '/gate/api/sharing'],
  ['put', '/gate/api/sharing'],
  ['post', '/gate/login'],
  ['post', '/gate/logout'],
  ['post', '/gate/api/token'],
  ['post', '/gate/api/sessions/revoke'],
  ['get', '/gate/metrics'],
  ['get', '/gate/healthz'],
];
const PUBLIC = new Set(['/gate/login', '/gate/logout', '/gate/healthz']);

const doc = buildOpenApiDocument() as {
  openapi: string;
  info: Json;
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json>; securitySchemes: Record<string, Json> };
};

function schema(id: string): Json {
  const found = doc.components.schemas[id];
  if (!found) throw new Error(`no component schema ${id}`);
  return found;
}

function operation(method: string, path: string): Json {
  const found = doc.paths[path]?.[method];
  if (!found) throw new Error(`no operation ${method} ${path}`);
  return found;
}

function jsonSchemaOf(holder: unknown): unknown {
  return (holder as { content: { 'application/json': { schema: unknown } } }).content['application/json'].schema;
}

/** Every `$ref` in the document, wherever it sits. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => refs(item, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [name, value] of Object.entries(node)) {
      if (name === '$ref' && typeof value === 'string') out.push(value);
      else refs(value, out);
    }
  }
  return out;
}

function resolve(pointer: string): unknown {
  if (!pointer.startsWith('#/')) throw new Error(`external ref ${pointer}`);
  return pointer
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node as Json | undefined)?.[part], doc);
}

describe('OpenAPI document', () => {
  it('is an OpenAPI 3.1 document with info', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info['title']).toBe('ComfyGate');
    expect(doc.info['version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(buildOpenApiDocument()).toBe(buildOpenApiDocument());
  });

  it('describes every contract route with the right methods, and nothing else', () => {
    for (const [method, path] of CONTRACT_ROUTES) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(documented.sort()).toEqual(CONTRACT_ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('gives each operation a unique id, a tag, responses and declared path parameters', () => {
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        expect(typeof op['operationId']).toBe('string');
        expect(ids.has(op['operationId'] as string)).toBe(false);
        ids.add(op['operationId'] as string);
        expect((op['tags'] as string[]).length).toBe(1);
        expect(Object.keys(op['responses'] as Json).length).toBeGreaterThan(0);
        const declared = ((op['parameters'] ?? []) as Json[]).filter((p) => p['in'] === 'path').map((p) => p['name']);
        expect(declared).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
      }
    }
  });

  it('resolves every $ref inside the document', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(20);
    for (const pointer of new Set(all)) expect(resolve(pointer), pointer).toBeDefined();
  });

  it('documents POST /gate/api/keys with the body createKeyInputSchema accepts', () => {
    const body = operation('post', '/gate/api/keys')['requestBody'] as Json;
    expect(body['required']).toBe(true);
    expect(jsonSchemaOf(body)).toEqual({ $ref: '#/components/schemas/CreateKeyInput' });

    const input = schema('CreateKeyInput');
    expect(input['required']).toEqual(['name']);
    expect(Object.keys(input['properties'] as Json).sort()).toEqual(Object.keys(createKeyInputSchema.shape).sort());
    expect(input['additionalProperties']).toBe(false);
    const properties = input['properties'] as Record<string, Json>;
    expect(properties['role']).toMatchObject({ enum: roleSchema.options, default: 'creator' });
    expect(properties['name']).toMatchObject({ type: 'string', minLength: 1, maxLength: 100 });
    // What the schema itself says: a name alone is accepted, no name is not, unknown fields are not.
    expect(createKeyInputSchema.safeParse({ name: 'x' }).success).toBe(true);
    expect(createKeyInputSchema.safeParse({ role: 'viewer' }).success).toBe(false);
    expect(createKeyInputSchema.safeParse({ name: 'x', colour: 'red' }).success).toBe(false);

    const answer = (operation('post', '/gate/api/keys')['responses'] as Json)['201'];
    expect(jsonSchemaOf(answer)).toEqual({ $ref: '#/components/schemas/NewKey' });
    expect((schema('NewKey')['required'] as string[]).includes('key')).toBe(true);
  });

  it('generates the other bodies and answers from the route schemas', () => {
    const update = schema('UpdateKeyInput');
    expect(update['required']).toBeUndefined();
    expect(Object.keys(update['properties'] as Json).sort()).toEqual(Object.keys(updateKeyInputSchema.shape).sort());

    const record = schema('KeyRecord');
    const recordFields = Object.keys(keyRecordSchema.shape).filter((name) => name !== 'hash');
    expect(Object.keys(record['properties'] as Json).sort()).toEqual(recordFields.sort());
    expect(JSON.stringify(doc)).not.toMatch(/"hash"/);

    expect(Object.keys(schema('Settings')['properties'] as Json).sort()).toEqual(
      Object.keys(runtimeSettingsSchema.shape).sort()
    );
    expect(Object.keys(schema('SettingsPatch')['properties'] as Json).sort()).toEqual(
      Object.keys(settingsPatchSchema.shape).sort()
    );
    const patch = operation('patch', '/gate/api/settings')['requestBody'];
    expect(jsonSchemaOf(patch)).toEqual({ $ref: '#/components/schemas/SettingsPatch' });

    const logs = operation('get', '/gate/api/logs')['parameters'] as Json[];
    expect(logs.map((p) => p['name']).sort()).toEqual(['key', 'limit', 'since', 'status']);
    expect(
      Object.keys(
        (operation('get', '/gate/api/logs/stream')['responses'] as Record<string, Json>)['200']?.['content'] as Json
      )
    ).toEqual(['text/event-stream']);
  });

  it('lists the GPU share: the new key limits, the role defaults and the cap input names', () => {
    const share = ['gpuSecondsPerDay', 'maxPixels', 'maxBatch', 'maxSteps', 'maxFrames', 'maxNodes', 'weight'];
    expect(Object.keys(schema('Limits')['properties'] as Json)).toEqual(expect.arrayContaining(share));
    for (const id of ['Settings', 'SettingsPatch']) {
      const properties = schema(id)['properties'] as Record<string, Json>;
      expect(Object.keys(properties['roleLimits']?.['properties'] as Json).sort()).toEqual(
        roleSchema.options.toSorted()
      );
      expect(Object.keys(properties['capInputs']?.['properties'] as Json)).toEqual([
        'width',
        'height',
        'batch',
        'steps',
        'frames',
      ]);
    }
  });

  it('declares the three credential schemes and who may call what', () => {
    expect(doc.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }) as unknown,
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) as unknown,
      cookie: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'comfygate_session' }) as unknown,
    });
    for (const [method, path] of CONTRACT_ROUTES) {
      const security = operation(method, path)['security'] as Json[];
      if (PUBLIC.has(path)) expect(security, `${method} ${path}`).toEqual([]);
      else expect(security.length, `${method} ${path}`).toBeGreaterThan(0);
    }
  });

  it("describes the gate's one error shape and uses it for error answers", () => {
    const error = schema('Error');
    expect(error['required']).toEqual(['error']);
    const inner = (error['properties'] as Record<string, Json>)['error'];
    expect(inner?.['required']).toEqual(['code', 'message']);

    const unauthorized = doc.components.responses['Unauthorized'];
    expect(jsonSchemaOf(unauthorized)).toEqual({ $ref: '#/components/schemas/Error' });
    const keyErrors = operation('get', '/gate/api/keys/{id}')['responses'] as Json;
    expect(keyErrors['401']).toEqual({ $ref: '#/components/responses/Unauthorized' });
    expect(keyErrors['403']).toEqual({ $ref: '#/components/responses/Forbidden' });
    expect(keyErrors['404']).toEqual({ $ref: '#/components/responses/NotFound' });
  });
});
