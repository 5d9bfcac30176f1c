/** The folders ComfyUI serves files from (`folder_paths.get_directory_by_type`). */
const FOLDER_TYPES = new Set(['output', 'input', 'temp']);
/** `name.png [input]`: the annotated form picks the folder (folder_paths.annotated_filepath). */
const ANNOTATED = /^(.*) \[(output|input|temp)\]$/;

/**
 * One file of ComfyUI's input, output or temp folder, named the way the gate indexes it: folder
 * type, normalized subfolder and file name, lower case and without trailing dots or spaces, so
 * every spelling a case-insensitive file system (Windows, macOS) resolves to the same file has the
 * same key. Undefined when ComfyUI would refuse the reference itself (bad type, `..`, a subfolder
 * leaving the folder).
 */
export function fileKey(type: string, subfolder: string, name: string): string | undefined {
  if (!FOLDER_TYPES.has(type)) return undefined;
  // A name with slashes lands in a subfolder of `subfolder`, as ComfyUI joins them.
  const path = name.split(/[\\/]/);
  const segments: string[] = [];
  for (const raw of [...subfolder.split(/[\\/]/), ...path.slice(0, -1)]) {
    const segment = canonical(raw);
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.pop() === undefined) return undefined;
      continue;
    }
    segments.push(segment);
  }
  if (/^([\\/]|[A-Za-z]:)/.test(subfolder)) return undefined;
  const file = canonical(path[path.length - 1] ?? '');
  if (file === '' || file === '.' || file === '..') return undefined;
  segments.push(file);
  return `${type}:${segments.join('/')}`;
}

function canonical(segment: string): string {
  return segment.replace(/[. ]+$/, (tail) => (tail === segment ? tail : '')).toLowerCase();
}

/** The file a `/view` query names, by ComfyUI's rules (§6.5); undefined when ComfyUI refuses it itself. */
export function viewedFileKey(query: URLSearchParams): string | undefined {
  const filename = query.get('filename');
  if (filename === null || filename === '') return undefined;
  const annotated = ANNOTATED.exec(filename);
  const name = annotated ? annotated[1]! : filename;
  if (name.startsWith('/') || name.includes('..')) return undefined;
  // /view serves the base name of `filename` from `subfolder`.
  const base = name.split(/[\\/]/).pop() ?? '';
  return fileKey(annotated ? annotated[2]! : (query.get('type') ?? 'output'), query.get('subfolder') ?? '', base);
}

/** The image a `/upload/mask` form's `original_ref` names (type defaults to output there). */
export function maskOriginalKey(ref: unknown): string | undefined {
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) return undefined;
  const { filename, type, subfolder } = ref as Record<string, unknown>;
  if (typeof filename !== 'string' || filename === '') return undefined;
  const annotated = ANNOTATED.exec(filename);
  const name = annotated ? annotated[1]! : filename;
  return fileKey(
    annotated ? annotated[2]! : typeof type === 'string' ? type : 'output',
    typeof subfolder === 'string' ? subfolder : '',
    name
  );
}

/**
 * Every file a prompt's `outputs` (history entry, `executed` message, job) names: the
 * `{filename, subfolder, type}` items under each node's media lists.
 */
export function outputFileKeys(outputs: unknown): string[] {
  const keys: string[] = [];
  if (typeof outputs !== 'object' || outputs === null) return keys;
  for (const node of Object.values(outputs)) {
    if (typeof node !== 'object' || node === null) continue;
    for (const items of Object.values(node as Record<string, unknown>)) {
      if (!Array.isArray(items)) continue;
      for (const item of items as unknown[]) {
        const key = uploadedFileKey(item, 'output');
        if (key !== undefined) keys.push(key);
      }
    }
  }
  return keys;
}

/** The file of one `{filename|name, subfolder, type}` reference (an output item or an upload answer). */
export function uploadedFileKey(item: unknown, defaultType: string): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const { filename, name, subfolder, type } = item as Record<string, unknown>;
  const file = typeof filename === 'string' ? filename : name;
  if (typeof file !== 'string') return undefined;
  return fileKey(typeof type === 'string' ? type : defaultType, typeof subfolder === 'string' ? subfolder : '', file);
}
