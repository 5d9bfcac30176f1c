import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { GateError } from '../../errors.js';
import { isLoopbackAddress } from '../../proxy/pauseGuard.js';

export interface RuntimeControl {
  /** The token in this gate's runtime record (gate.runtime.json, 0600 in the data dir). */
  controlToken: string;
  /** Adopts keys.json and settings.json as they are on disk now. */
  reload: () => Promise<void>;
}

/**
 * POST /gate/api/runtime/reload: the CLI, on this machine, asks the running gate to adopt the
 * change it just wrote, so the change is in force before the command returns (the file watcher
 * alone takes up to a second). Only loopback callers holding the runtime record's token.
 */
export function runtimeRouter({ controlToken, reload }: RuntimeControl): Router {
  const expected = digest(controlToken);
  const router = Router();
  router.post('/reload', async (req, res) => {
    const given = req.get('x-comfygate-control');
    // The socket's own peer, never a forwarded address: the CLI connects directly.
    if (
      !isLoopbackAddress(req.socket.remoteAddress ?? '') ||
      given === undefined ||
      !timingSafeEqual(digest(given), expected)
    ) {
      throw new GateError('forbidden', 'Only the comfygate CLI on this computer may reload the gate');
    }
    await reload();
    res.status(204).set('cache-control', 'no-store').end();
  });
  return router;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
