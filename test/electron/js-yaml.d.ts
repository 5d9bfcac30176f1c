/**
 * The one function used from js-yaml (already installed: electron-builder reads its YAML config
 * with it), typed here rather than adding @types/js-yaml.
 */
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
