/** The id the legacy COMFYGATE_API_KEY speaks for; it is not in keys.json. */
export const LEGACY_KEY_ID = 'env';
