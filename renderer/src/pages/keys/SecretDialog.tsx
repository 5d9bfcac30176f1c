import { gate } from '../../api/gate.js';
import type { KeyWithSecret } from '../../api/types.js';
import { CopyButton, CopyField } from '../../components/CopyButton.js';
import { Dialog } from '../../components/Dialog.js';
import { Icon } from '../../components/Icon.js';
import { QrCode } from '../../components/QrCode.js';
import { shareLines, shareText } from '../../lib/share.js';
import { ROLE_INFO } from '../../lib/roles.js';
import { formatDate, formatLimits } from '../../lib/format.js';
import { hrefOf } from '../../lib/router.js';
import { useResource } from '../../lib/useResource.js';

/** The plaintext key, shown this once (after create or rotate), with everything a teammate needs to start. */
export function SecretDialog({
  record,
  rotated,
  onClose,
}: {
  record: KeyWithSecret;
  rotated: boolean;
  onClose: () => void;
}) {
  // The share link comes from the gate (server/net/shareAddress.ts): this window's own address is
  // usually 127.0.0.1, which is no use to a teammate on another machine.
  const status = useResource((signal) => gate.status(signal), []).resource.data;
  const share = status?.share;
  const fingerprint = status?.tls?.fingerprint256;
  const origin = (share?.url ?? `${window.location.origin}/`).replace(/\/$/, '');
  const lines = shareLines(origin, record.key);
  return (
    <Dialog
      title={rotated ? `New secret for ${record.name}` : `Key for ${record.name} is ready`}
      size="large"
      className="secret-dialog"
      onClose={onClose}
      footer={
        <>
          <CopyButton
            text={shareText(record.name, lines, record.key, fingerprint)}
            label="Copy invitation"
            className="button"
          />
          <button type="button" className="button button-primary" onClick={onClose} data-autofocus>
            Done
          </button>
        </>
      }
    >
      <div className="stack">
        <div className="banner banner-warn">
          <Icon name="alert" size={18} />
          <span>
            Copy the key now: <strong>it is shown only this once</strong>. The gate keeps only a hash of it.
            {rotated && ' The old key stopped working, and its sessions were signed out.'}
          </span>
        </div>
        <div className="secret-key">
          <span className="label">API key</span>
          <CopyField value={record.key} what="API key" secret />
        </div>
        <section className="share-card" aria-labelledby="share-title">
          <div className="share-main">
            <h3 id="share-title">Share card</h3>
            <p className="muted small">
              {ROLE_INFO[record.role].label}
              {record.scopes ? ` (${record.scopes.join(' + ')})` : ''} · {formatLimits(record.limits)}
              {record.expiresAt ? ` · expires ${formatDate(record.expiresAt)}` : ''}
            </p>
            <dl className="share-lines">
              <div>
                <dt>Gate URL (browser)</dt>
                <dd>
                  <CopyField value={lines.gateUrl} what="gate URL" />
                </dd>
              </div>
              {fingerprint && (
                <div>
                  <dt>HTTPS certificate (SHA-256)</dt>
                  <dd>
                    <CopyField value={fingerprint} what="certificate fingerprint" />
                  </dd>
                </div>
              )}
              <div>
                <dt>curl</dt>
                <dd>
                  <CopyField value={lines.curl} what="curl command" multiline />
                </dd>
              </div>
              <div>
                <dt>Python (requests)</dt>
                <dd>
                  <CopyField value={lines.python} what="Python line" multiline />
                </dd>
              </div>
              <div>
                <dt>JavaScript (fetch)</dt>
                <dd>
                  <CopyField value={lines.fetch} what="JavaScript line" multiline />
                </dd>
              </div>
            </dl>
          </div>
          <figure className="share-qr">
            <QrCode value={lines.loginUrl} label={`QR code of the sign-in page ${lines.loginUrl}`} />
            <figcaption>Scan to open the sign-in page on a phone or tablet</figcaption>
          </figure>
        </section>
        {share && !share.reachableFromLan && (
          <p className="muted small" data-testid="share-note">
            {share.note}{' '}
            <a className="link" href={hrefOf('settings')}>
              Open Settings → Connection
            </a>
          </p>
        )}
      </div>
    </Dialog>
  );
}
