/** One ComfyUI backend as `GET /gate/api/status`, `comfygate status` and the dashboard show it. */
export interface BackendStatus {
  url: string;
  /** The operator's name for it, or "backend N" in the order given. */
  label: string;
  weight: number;
  reachable: boolean;
  /** ComfyUI's version from `/system_stats`; null when unknown. */
  version: string | null;
  /** GPU (or CPU) device names from `/system_stats`. */
  devices: string[];
  /** Prompts running and waiting in its queue at the last check. */
  running: number;
  pending: number;
  /** ISO time of the last health check; null before the first. */
  checkedAt: string | null;
}
