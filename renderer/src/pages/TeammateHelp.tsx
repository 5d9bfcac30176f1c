import type { ReactNode } from 'react';
import type { ErrorCode, Limits, Whoami } from '../api/types.js';
import { CodeExample } from '../components/CodeExample.js';
import { CopyField } from '../components/CopyButton.js';
import { Card, PageHeader } from '../components/PageHeader.js';
import { hrefOf } from '../lib/router.js';
import { accessInfo } from '../lib/roles.js';
import { scriptLines } from '../lib/share.js';

/** What the examples say instead of a real key: the help page never knows one. */
const KEY = '<your key>';

/** One answer a teammate may meet, in their words: what happened and what to do. */
export interface TeammateAnswer {
  status: number;
  codes: ErrorCode[];
  meaning: ReactNode;
}

/**
 * The help a teammate reads: signing in, a key in scripts, what limits mean and what an error
 * asks of them. Nothing about running the gate; that is the operator's help.
 */
export function TeammateHelp({ who, answers }: { who: Whoami; answers: readonly TeammateAnswer[] }) {
  const lines = scriptLines(window.location.origin, KEY);
  const myAccess = (
    <a className="link" href={hrefOf('me')}>
      My access
    </a>
  );
  return (
    <>
      <PageHeader title="Help" description="How to use ComfyUI through this gate with your key." />
      <div className="stack-lg help">
        <Card id="help-sign-in" title="Signing in" className="help-section">
          <div className="prose">
            <p>
              Open this address and paste your key on the sign-in page; ComfyUI opens as usual. You stay signed in for 7
              days on this browser.
            </p>
            <CopyField value={lines.gateUrl} what="gate address" />
            <p>
              <strong>Sign out</strong> ends this browser’s session. <strong>Sign out everywhere</strong> on {myAccess}{' '}
              ends it on all your devices; your key keeps working.
            </p>
          </div>
        </Card>
        <Card id="help-scripts" title="Using your key in scripts" className="help-section">
          <div className="prose">
            <p>
              Send the key in the <code>X-API-Key</code> header (or <code>Authorization: Bearer</code>), in place of{' '}
              <code>{KEY}</code>:
            </p>
            <CodeExample text={lines.curl} what="curl example" />
            <CodeExample text={`import requests\n${lines.python}`} what="Python example" />
            <p>
              Where a header cannot go (an image URL, a WebSocket client), add <code>?token=</code> with a short-lived
              access token from {myAccess} rather than your key:
            </p>
            <CodeExample text={lines.websocket} what="WebSocket URL" />
          </div>
        </Card>
        <Card id="help-limits" title="What your limits mean" className="help-section">
          <div className="prose">
            <p>
              Your key is <strong>{accessInfo(who.role, who.legacy ? null : who.scopes).label}</strong>
              {who.legacy ? '.' : limitsText(who.limits)} {myAccess} shows today’s use.
            </p>
            <ul>
              <li>
                <strong>Requests per minute and per hour</strong> count calls to ComfyUI. Loading the web UI never uses
                them up.
              </li>
              <li>
                <strong>Prompts per day</strong> count prompts ComfyUI accepted; the count starts again at midnight.
              </li>
              <li>
                <strong>Queued at once</strong>: queue more when one of your prompts finishes.
              </li>
              <li>
                <strong>Generation caps</strong> (image size, batch size, steps, video frames, nodes) are checked on the
                values typed into your workflow’s nodes. A prompt over one is refused: ComfyUI outlines the node and
                says what the cap is. Your role may have caps even where your key shows none.
              </li>
              <li>
                <strong>Open ComfyUI tabs</strong>: each tab holds one connection, up to 20 per key unless the person
                who runs this ComfyUI changed it. One more waits (and retries on its own) until you close a tab.
              </li>
            </ul>
            <p>
              Your prompts, images and uploads are yours: teammates do not see them, and you do not see theirs. Cancel
              stops only your own prompt.
            </p>
            <p>
              Past a limit ComfyUI answers <code>429</code>, and <code>Retry-After</code> says how many seconds to wait.
              Many wrong keys in a row block your address for a while.
            </p>
          </div>
        </Card>
        <Card id="help-errors" title="If something does not work" className="help-section">
          <div className="prose">
            <p>
              If your key stops working, the sign-in page says why (revoked, expired, rotated, signed out) and what to
              do.
            </p>
            <dl className="help-answers">
              {answers.map((answer) => (
                <div key={answer.codes.join()}>
                  <dt>
                    <span className={`status-code status-code-${answer.status >= 500 ? 'danger' : 'warn'}`}>
                      {answer.status}
                    </span>{' '}
                    {answer.codes.map((code, i) => (
                      <span key={code}>
                        {i > 0 && ', '}
                        <code>{code}</code>
                      </span>
                    ))}
                  </dt>
                  <dd>{answer.meaning}</dd>
                </div>
              ))}
            </dl>
          </div>
        </Card>
      </div>
    </>
  );
}

/** "; its limits: 120 requests a minute, 20 prompts a day." or ", with no limits." */
function limitsText(limits: Limits): string {
  const parts = [
    limits.perMinute !== null && `${limits.perMinute} requests a minute`,
    limits.perHour !== null && `${limits.perHour} an hour`,
    limits.promptsPerDay !== null && `${limits.promptsPerDay} prompts a day`,
    limits.maxQueued !== null && `${limits.maxQueued} queued at once`,
    limits.maxPixels !== null && `images up to ${limits.maxPixels} pixels`,
    limits.maxBatch !== null && `batches of up to ${limits.maxBatch}`,
    limits.maxSteps !== null && `up to ${limits.maxSteps} steps`,
    limits.maxFrames !== null && `up to ${limits.maxFrames} frames`,
    limits.maxNodes !== null && `up to ${limits.maxNodes} nodes a prompt`,
  ].filter((part): part is string => part !== false);
  return parts.length === 0 ? ', with no limits.' : `; its limits: ${parts.join(', ')}.`;
}
