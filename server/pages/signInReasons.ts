import { z } from 'zod';

/**
 * Why a key or session stopped working, as a short code: it travels in the sign-in page's URL
 * (`/gate/login?reason=revoked`) and in the `X-ComfyGate-Reason` header of a 401, never with a secret.
 */
export const signInReasonSchema = z.enum(['revoked', 'expired', 'rotated', 'deleted', 'signed_out', 'session_expired']);
export type SignInReason = z.infer<typeof signInReasonSchema>;

export const REASON_HEADER = 'x-comfygate-reason';

const ASK = 'the person who runs this ComfyUI';

/** What the teammate reads on the sign-in page: what happened and what to do about it. */
export const SIGN_IN_REASONS: Readonly<Record<SignInReason, { what: string; todo: string }>> = {
  revoked: {
    what: 'Your key was revoked (deactivated).',
    todo: `Ask ${ASK} to activate it again or for a new key.`,
  },
  expired: { what: 'Your key has expired.', todo: `Ask ${ASK} for a new key or a later expiry.` },
  rotated: {
    what: 'Your key was replaced by a new one (rotated); the old one no longer works.',
    todo: `Ask ${ASK} for the new key, then sign in with it.`,
  },
  deleted: { what: 'Your key was deleted.', todo: `Ask ${ASK} for a new key.` },
  signed_out: {
    what: 'You were signed out everywhere (by you, or by the person who runs this ComfyUI). Your key still works.',
    todo: 'Sign in again with your key.',
  },
  session_expired: {
    what: 'Your session has ended (a sign-in lasts 7 days). Your key still works.',
    todo: 'Sign in again with your key.',
  },
};

/** The reason from an untrusted query value; anything else is ignored, never echoed. */
export function parseSignInReason(value: unknown): SignInReason | undefined {
  const parsed = signInReasonSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
