import { Counter, Gauge, type Registry } from 'prom-client';
import type { BackendStatus } from './backendStatus.js';

/** Per-backend metrics, each with a `backend` label (the backend's label), read at scrape time. */
export function registerBackendMetrics(
  registry: Registry,
  statuses: () => readonly BackendStatus[]
): { countPlaced: (label: string) => void } {
  const registers = [registry];
  const gauge = (name: string, help: string, value: (status: BackendStatus) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['backend'],
      registers,
      collect(this: Gauge<'backend'>) {
        this.reset();
        for (const status of statuses()) this.set({ backend: status.label }, value(status));
      },
    });
  };
  gauge('comfygate_backend_up', '1 when the ComfyUI backend answered its last health check', (s) => +s.reachable);
  gauge('comfygate_backend_queue_running', 'Prompts running on the ComfyUI backend', (s) => s.running);
  gauge('comfygate_backend_queue_pending', 'Prompts waiting in the ComfyUI backend queue', (s) => s.pending);
  const placed = new Counter({
    name: 'comfygate_backend_prompts_total',
    help: 'Prompts the gate placed on the ComfyUI backend (including ones moved there from a lost backend)',
    labelNames: ['backend'],
    registers,
  });
  return { countPlaced: (label) => placed.inc({ backend: label }) };
}
