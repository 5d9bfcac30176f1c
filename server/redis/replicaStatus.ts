import { z } from 'zod';

/** A replica as GET /gate/api/status lists it (when the gate runs with Redis). */
export const replicaStatusSchema = z.object({
  id: z.string(),
  url: z.string().describe('The address the replica announces (its share link)'),
  host: z.string().describe('Host name of the machine it runs on'),
  pid: z.number().int(),
  version: z.string(),
  startedAt: z.string().describe('When it started (ISO 8601)'),
  live: z.boolean().describe('It beat within the last 10 s; changes wait for the live replicas only'),
  self: z.boolean().describe('The gate that answered'),
});
export type ReplicaStatus = z.infer<typeof replicaStatusSchema>;
