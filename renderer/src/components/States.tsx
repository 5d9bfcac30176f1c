import type { ReactNode } from 'react';
import { errorMessage, UnauthorizedError } from '../api/client.js';
import { Icon } from './Icon.js';

export function Loading({ label = 'Loading…', inline }: { label?: string; inline?: boolean }) {
  return (
    <div className={inline ? 'loading loading-inline' : 'loading'} role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

export function ErrorState({
  error,
  onRetry,
  title = 'Could not load this',
}: {
  error: unknown;
  onRetry?: () => void;
  title?: string;
}) {
  if (error instanceof UnauthorizedError) return <Loading label={`${error.message}; taking you to sign in…`} />;
  return (
    <div className="error-state" role="alert">
      <Icon name="alert" size={20} />
      <div>
        <p className="error-title">{title}</p>
        <p className="error-detail">{errorMessage(error)}</p>
      </div>
      {onRetry && (
        <button type="button" className="button button-small" onClick={onRetry}>
          <Icon name="refresh" size={16} /> Try again
        </button>
      )}
    </div>
  );
}

/** Shows loading, error or the content of a resource in one line at the call site. */
export function StatusDot({ tone, label }: { tone: 'ok' | 'warn' | 'danger' | 'muted'; label: string }) {
  return (
    <span className={`status-dot status-${tone}`}>
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
