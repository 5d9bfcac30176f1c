import type { SignOutList } from '../../server/auth/sessionTokens.js';

/** Sign-outs kept in memory, for tests of other things that only need tokens signed and checked. */
export function memorySignOuts(): SignOutList {
  const ids = new Map<string, number>();
  return {
    has: (jti) => ids.has(jti),
    add: (jti, exp) => {
      ids.set(jti, exp);
      return Promise.resolve();
    },
  };
}
