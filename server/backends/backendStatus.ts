import { z } from 'zod';

/** One ComfyUI backend as `GET /gate/api/status`, `comfygate status` and the dashboard show it. */
export const backendStatusSchema = z.object({
  url: z.string(),
  /** The operator's name for it, or "backend N" in the order given. */
  label: z.string(),
  weight: z.number(),
  reachable: z.boolean(),
  /** ComfyUI's version from `/system_stats`; null when unknown. */
  version: z.string().nullable(),
  /** GPU (or CPU) device names from `/system_stats`. */
  devices: z.array(z.string()),
  /** Prompts running and waiting in its queue at the last check. */
  running: z.number(),
  pending: z.number(),
  /** ISO time of the last health check; null before the first. */
  checkedAt: z.string().nullable(),
});
export type BackendStatus = z.infer<typeof backendStatusSchema>;
