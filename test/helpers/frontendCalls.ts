/**
 * What the current ComfyUI frontend asks the API for on a first page load (comfyui-protocol.md §14), in
 * order; some answer 404 on a fresh ComfyUI, as there. Shared by the page-load test and the bench.
 */
export const FIRST_LOAD_API_CALLS: readonly string[] = [
  '/api/system_stats',
  '/api/users',
  '/api/i18n',
  '/api/settings',
  '/api/userdata?dir=workflows&recurse=true&split=false&full_info=true',
  '/api/userdata?dir=subgraphs%2F&recurse=true&split=false&full_info=true',
  '/api/extensions',
  '/api/object_info',
  '/api/queue',
  '/api/history?max_items=64',
  '/api/userdata/comfy.templates.json',
  '/api/userdata/user.css',
  '/api/experiment/models',
];
