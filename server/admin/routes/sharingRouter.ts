import { Router } from 'express';
import { z } from 'zod';
import { clientIpOf } from '../../http/clientIp.js';
import type { ShareAddress } from '../../net/shareAddress.js';
import { principalOf } from '../adminGuards.js';
import { parseInput } from '../validate.js';

/** Where the gate listens now and the link teammates open. */
export interface SharingReport {
  /** True while the gate listens on the network ("My network"), false on this computer only. */
  network: boolean;
  listen: { host: string; port: number };
  /** Where this computer reaches the gate now (it changes with the listener). */
  url: string;
  share: ShareAddress;
}

/** Who flipped the switch, for the audit log; null for the gate's own shell (the tray) or the CLI. */
export interface SharingActor {
  keyId: string | null;
  clientIp: string | null;
}

export interface SharingControl {
  current(): SharingReport;
  /** Moves the listener live; refuses (409) to put an unprotected gate on the network. */
  set(network: boolean, actor: SharingActor): Promise<SharingReport>;
}

export const sharingBodySchema = z.object({ network: z.boolean() }).strict();

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
