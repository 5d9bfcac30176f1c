import { useEffect, useState } from 'react';
import type { HealthReport } from '../../server/admin/health.js';
import { fetchHealth } from './api.js';

type View = { kind: 'loading' } | { kind: 'ready'; health: HealthReport } | { kind: 'error'; message: string };

export function App() {
  const [view, setView] = useState<View>({ kind: 'loading' });

  useEffect(() => {
    const controller = new AbortController();
    const load = (): void => {
      fetchHealth(controller.signal).then(
        (health) => setView({ kind: 'ready', health }),
        (error: unknown) => {
          if (!controller.signal.aborted) setView({ kind: 'error', message: String(error) });
        }
      );
    };
    load();
    const timer = setInterval(load, 5000);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, []);

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '3rem auto', padding: '0 1rem' }}>
      <h1>ComfyGate</h1>
      {view.kind === 'loading' && <p>Checking ComfyUI…</p>}
      {view.kind === 'error' && <p role="alert">Cannot reach the gate: {view.message}</p>}
      {view.kind === 'ready' && (
        <p>
          ComfyUI at <code>{view.health.upstream.url}</code> is{' '}
          <strong>{view.health.upstream.reachable ? 'reachable' : 'not reachable'}</strong>.{' '}
          <a href="/">Open ComfyUI through the gate</a>
        </p>
      )}
    </main>
  );
}
