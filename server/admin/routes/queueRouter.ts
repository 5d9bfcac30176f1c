import { Router } from 'express';
import { GateError } from '../../errors.js';
import type { QueuePlace } from '../../fairness/queueSnapshot.js';
import { callerOf } from '../adminGuards.js';

export interface QueueRouterDeps {
  /** Where a subject's next prompt stands in ComfyUI's queue now; undefined when ComfyUI did not answer. */
  place: (subject: string) => Promise<QueuePlace | undefined>;
}

/** /gate/api/queue: where the caller's next prompt stands and about when it starts (any signed-in role). */
export function queueRouter({ place }: QueueRouterDeps): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const found = await place(callerOf(res).keyId);
    if (found === undefined) throw new GateError('upstream_unreachable', 'ComfyUI did not answer for its queue');
    res.set('cache-control', 'no-store').json(found);
  });
  return router;
}
