import { z } from 'zod';
import type { ShareAddress } from './shareAddress.js';

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

/** PUT /gate/api/sharing and the runtime route: the switch's new position. */
export const sharingBodySchema = z.object({ network: z.boolean() }).strict();
