import { useCallback, useEffect, useRef, useState } from 'react';
import { isAbort } from '../api/client.js';

export type Resource<T> =
  | { state: 'loading'; data?: undefined; error?: undefined }
  | { state: 'ready'; data: T; error?: undefined }
  /** `data` is the last good answer, if any: a failed refresh keeps showing it. */
  | { state: 'error'; data?: T; error: unknown };

export interface ResourceHandle<T> {
  resource: Resource<T>;
  /** Loads again; the current data stays on screen meanwhile. */
  reload: () => void;
  /** Replaces the data after a change made here (no round trip). */
  set: (data: T) => void;
}

/**
 * Loads `load` when the component mounts and whenever `deps` change; `refreshMs` polls quietly. Aborted when the
 * component goes away, so a late answer never lands on an unmounted page.
 */
export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  refreshMs?: number
): ResourceHandle<T> {
  const [resource, setResource] = useState<Resource<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    let timer: number | undefined;
    const run = (): void => {
      loadRef.current(controller.signal).then(
        (data) => {
          if (controller.signal.aborted) return;
          setResource({ state: 'ready', data });
          if (refreshMs) timer = window.setTimeout(run, refreshMs);
        },
        (error: unknown) => {
          if (controller.signal.aborted || isAbort(error)) return;
          setResource((previous) => ({ state: 'error', error, data: previous.data }));
          if (refreshMs) timer = window.setTimeout(run, refreshMs * 2);
        }
      );
    };
    run();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [...deps, generation, refreshMs]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const set = useCallback((data: T) => setResource({ state: 'ready', data }), []);
  return { resource, reload, set };
}
