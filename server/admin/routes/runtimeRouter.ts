import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { BackendStatus } from '../../backends/backendStatus.js';
import { GateError } from '../../errors.js';
import { isLoopbackAddress } from '../../pipeline/pauseStep.js';
import { parseInput } from '../validate.js';
import { sharingBodySchema } from '../../net/sharingSchema.js';
import type { SharingControl } from './sharingRouter.js';

export interface RuntimeControl {
  /** The token in this gate's runtime record (gate.runtime.json, 0600 in the data dir). */
  controlToken: string;
  /** Adopts keys.json and settings.json as they are on disk now. */
  reload: () => Promise<void>;
  /** The live sharing switch, for `comfygate share on|off`. */
  sharing: SharingControl;
  /** Each ComfyUI backend's health, for `comfygate status`. */
  backends: () => Promise<BackendStatus[]>;
}

/**
 * /gate/api/runtime/*: the CLI on this machine asks the running gate to act now, so a change is in
 * force before the command returns (the file watcher alone takes up to a second). Only loopback
 * callers holding the runtime record's token.
 * - POST /reload: adopt what the CLI just wrote.
 * - PUT /sharing {network}: move the listener (`comfygate share on|off`).
 * - GET /backends: each ComfyUI backend's health (`comfygate status`).
 */
export function runtimeRouter({ controlToken, reload, sharing, backends }: RuntimeControl): Router {
  const expected = digest(controlToken);
  const router = Router();
  router.use((req: Request, _res: Response, next: NextFunction) => {
    const given = req.get('x-comfygate-control');
    // The socket's own peer, never a forwarded address: the CLI connects directly.
    if (
      !isLoopbackAddress(req.socket.remoteAddress ?? '') ||
      given === undefined ||
      !timingSafeEqual(digest(given), expected)
    ) {
      throw new GateError('forbidden', 'Only the comfygate CLI on this computer may control the running gate');
    }
    next();
  });
  router.post('/reload', async (_req, res) => {
    await reload();
    res.status(204).set('cache-control', 'no-store').end();
  });
  router.get('/backends', async (_req, res) => {
    res.set('cache-control', 'no-store').json(await backends());
  });
  router.put('/sharing', async (req, res) => {
    const { network } = parseInput(sharingBodySchema, req.body);
    const report = await sharing.set(network, { keyId: null, clientIp: null });
    res.set('cache-control', 'no-store').json(report);
  });
  return router;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
