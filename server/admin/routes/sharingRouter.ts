import { Router } from 'express';
import { clientIpOf } from '../../http/clientIp.js';
import { sharingBodySchema, type SharingActor, type SharingReport } from '../../net/sharingSchema.js';
import { principalOf } from '../adminGuards.js';
import { parseInput } from '../validate.js';

export interface SharingControl {
  current(): SharingReport;
  /** Moves the listener live; refuses (409) to put an unprotected gate on the network. */
  set(network: boolean, actor: SharingActor): Promise<SharingReport>;
}

/** GET/PUT /gate/api/sharing: the "This computer only / My network" switch (admin only). */
export function sharingRouter(sharing: SharingControl): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.set('cache-control', 'no-store').json(sharing.current());
  });
  router.put('/', async (req, res) => {
    const { network } = parseInput(sharingBodySchema, req.body);
    const report = await sharing.set(network, { keyId: principalOf(res)?.keyId ?? null, clientIp: clientIpOf(req) });
    res.set('cache-control', 'no-store').json(report);
  });
  return router;
}
