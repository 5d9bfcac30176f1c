import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import type { Configuration } from 'electron-builder';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

/**
 * electron-builder.yml is checked, not built, here (the Electron binary cannot be downloaded):
 * against the JSON schema app-builder-lib ships, with the ajv major and options electron-builder
 * itself validates with, and for what the issue asks of the installers.
 */
const root = new URL('../../', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('node_modules/app-builder-lib/scheme.json', root), 'utf8')) as Record<
  string,
  unknown
>;
const config = load(readFileSync(new URL('electron-builder.yml', root), 'utf8')) as Configuration;
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
};

const check = new Ajv({ allErrors: true, verbose: true }).compile(schema);

function validate(candidate: unknown): ErrorObject[] {
  return check(candidate) ? [] : (check.errors ?? []);
}

describe('electron-builder.yml', () => {
  it('matches app-builder-lib’s schema', () => {
    expect(validate(config)).toEqual([]);
  });

  it('the schema check catches mistakes (an unknown key, a wrong type)', () => {
    expect(validate({ ...config, targets: ['AppImage'] })).not.toEqual([]);
    expect(validate({ ...config, asar: 'yes' })).not.toEqual([]);
    expect(validate({ ...config, nsis: { ...config.nsis, oneClick: 'no' } })).not.toEqual([]);
  });

  it('names the app and bundles the compiled code and the icons', () => {
    expect(config.appId).toBe('dev.comfygate.app');
    expect(config.productName).toBe('ComfyGate');
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'dist/**', 'electron/assets/**']));
    expect(pkg.main).toBe('dist/electron/main.js');
    expect(config.icon).toBe('electron/assets/icon.png');
    expect(() => readFileSync(new URL(config.icon ?? '', root))).not.toThrow();
  });

  it('builds AppImage and deb, an NSIS installer, and a menu-bar-only dmg', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.mac?.extendInfo).toMatchObject({ LSUIElement: true });
  });

  it('npm run dist builds first, then packages; npm run desktop builds first, then starts Electron', () => {
    expect(pkg.scripts['dist']).toMatch(/^npm run build && .*electron-builder/);
    expect(pkg.scripts['desktop']).toMatch(/^npm run build && .*electron \.$/);
    expect(pkg.scripts['build:electron']).toContain('tsc -p electron/tsconfig.build.json');
  });
});
