/** The answer of `GET /gate/healthz`; the dashboard imports this type only. */
export interface HealthReport {
  status: 'ok';
  upstream: { url: string; reachable: boolean };
}
