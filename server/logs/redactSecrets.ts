const KEY_LIKE = /cgk_[0-9A-Za-z]*/g;
const JWT_LIKE = /eyJ[\w-]*(?:\.[\w-]*){0,2}/g;
const TOKEN_PARAM = /([?&;]token=)[^&#\s]*/gi;
const MAY_HOLD_SECRET = /cgk_|eyJ|token=/i;

/**
 * Log files are read by people and copied into bug reports, so nothing that works as a credential may land there.
 * The proxy already logs normalized paths without their query; this is the second line of defence.
 */
export function redactSecrets(value: string): string {
  // One scan for all three; a case-insensitive hit on `cgk_` or `eyJ` only runs replacements that change nothing.
  if (!MAY_HOLD_SECRET.test(value)) return value;
  return value
    .replace(KEY_LIKE, '[redacted-key]')
    .replace(JWT_LIKE, '[redacted-token]')
    .replace(TOKEN_PARAM, '$1[redacted]');
}
