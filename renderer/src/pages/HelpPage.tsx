import type { ReactNode } from 'react';
import type { ErrorCode, Role, Scope, Whoami } from '../api/types.js';
import { CodeExample as Code } from '../components/CodeExample.js';
import { CopyField } from '../components/CopyButton.js';
import { Card, PageHeader } from '../components/PageHeader.js';
import { hrefOf } from '../lib/router.js';
import { MODE_INFO, MODES, ROLE_INFO, ROLES } from '../lib/roles.js';
import { scriptLines } from '../lib/share.js';
import { TeammateHelp, type TeammateAnswer } from './TeammateHelp.js';

/** What the examples say instead of a real key: the help page never knows one. */
const KEY = '<your key>';

interface Section {
  id: string;
  title: string;
  render: (context: HelpContext) => ReactNode;
}

interface HelpContext {
  origin: string;
}

/** The in-app help: the operator's in full; a teammate gets their own short one. */
export function HelpPage({ who }: { who: Whoami }) {
  if (who.role !== 'admin') return <TeammateHelp who={who} answers={TEAMMATE_ANSWERS} />;
  const context: HelpContext = { origin: window.location.origin };
  return (
    <>
      <PageHeader title="Help" description="How ComfyGate works, how teammates connect, and what its answers mean." />
      <div className="stack-lg help">
        <nav className="card help-contents" aria-label="On this page">
          <h2 className="help-contents-title">On this page</h2>
          <ul>
            {SECTIONS.map((section) => (
              <li key={section.id}>
                <button type="button" className="link-button" onClick={() => jumpTo(section.id)}>
                  {section.title}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        {SECTIONS.map((section) => (
          <Card key={section.id} id={section.id} title={section.title} className="help-section">
            <div className="prose">{section.render(context)}</div>
          </Card>
        ))}
      </div>
    </>
  );
}

/** In-page links would fight the hash router, so the contents scroll instead. */
function jumpTo(id: string): void {
  const section = document.getElementById(`${id}-title`)?.closest('section');
  if (!section) return;
  section.scrollIntoView({ block: 'start' });
  section.setAttribute('tabindex', '-1');
  section.focus({ preventScroll: true });
}

const SECTIONS: Section[] = [
  {
    id: 'help-about',
    title: 'What ComfyGate does',
    render: () => (
      <>
        <p>
          ComfyUI has no sign-in of its own: anyone who can reach its port can queue prompts, see every image and
          install custom nodes. ComfyGate is a gate in front of it, an authenticating reverse proxy. Each teammate gets
          their own API key; the gate checks the key, its role and its limits, then passes the request on to ComfyUI
          unchanged. The real ComfyUI web UI, its live previews, uploads and scripts all work through the gate.
        </p>
        <ul>
          <li>
            Everything under <code>/gate/</code> belongs to the gate: this dashboard, the sign-in page and the gate’s
            own API. Every other path goes to ComfyUI.
          </li>
          <li>
            The gate removes the key (header, <code>?token=</code> or its session cookie) before ComfyUI sees a request,
            and never writes a key to its logs.
          </li>
          <li>
            Every request is logged and counted per key; you see them under{' '}
            <a className="link" href={hrefOf('logs')}>
              Logs
            </a>{' '}
            and{' '}
            <a className="link" href={hrefOf('usage')}>
              Usage
            </a>
            . Teammates get a short help of their own: signing in, keys in scripts, limits and errors.
          </li>
        </ul>
      </>
    ),
  },
  {
    id: 'help-connect',
    title: 'Connecting',
    render: ({ origin }) => {
      const lines = scriptLines(origin, KEY);
      return (
        <>
          <h3>In a browser</h3>
          <p>
            Open the gate’s address. Without a session you land on the sign-in page (<code>/gate/login</code>): paste
            the key and the real ComfyUI web UI opens. The session lasts 7 days; <strong>Sign out</strong> ends it, and{' '}
            <strong>Sign out everywhere</strong> on{' '}
            <a className="link" href={hrefOf('me')}>
              My access
            </a>{' '}
            ends every session and access token of your key on all devices (your key keeps working). Signed-out sessions
            stay ended, also after the gate restarts.
          </p>
          <p>
            If your key stops working, the sign-in page says why and what to do: revoked (ask the person who runs this
            ComfyUI to activate it again or for a new key), expired (ask for a new key or a later expiry), rotated (ask
            for the new key), or signed out (sign in again). <strong>My access</strong> warns a week before your key
            expires.
          </p>
          <CopyField value={lines.gateUrl} what="gate address" />
          <p className="muted small">
            This is the address you use on this computer. Teammates use this machine’s network address instead (see
            “Sharing on your network”); the share card of a new key has both the address and a QR code of the sign-in
            page.
          </p>
          <h3>From scripts</h3>
          <p>
            Send the key in a header: <code>X-API-Key: {KEY}</code> or <code>Authorization: Bearer {KEY}</code>. Replace{' '}
            <code>{KEY}</code> with the key.
          </p>
          <Code text={lines.curl} what="curl example" />
          <Code text={lines.bearer} what="curl prompt example" />
          <Code text={`import requests\n${lines.python}`} what="Python example" />
          <h3>Images and WebSocket clients</h3>
          <p>
            An <code>&lt;img src&gt;</code> or a WebSocket client cannot send headers: add <code>?token=</code> to the
            URL. Rather than a long-lived key, use a short-lived access token there: mint one on{' '}
            <a className="link" href={hrefOf('me')}>
              My access
            </a>{' '}
            (or <code>POST /gate/api/token</code>, with your key or from a signed-in browser; an access token cannot
            mint another). It works as <code>?token=</code> or <code>Authorization: Bearer</code>, not as the sign-in
            cookie, and stops working when its key is revoked or rotated or you sign out everywhere. The session
            cookie’s value is not accepted in a URL.
          </p>
          <Code text={lines.websocket} what="WebSocket URL" />
          <Code text={lines.image} what="image tag" />
        </>
      );
    },
  },
  {
    id: 'help-protection',
    title: 'Protection modes',
    render: () => (
      <>
        <dl className="help-terms">
          {MODES.map((mode) => (
            <div key={mode}>
              <dt>{MODE_INFO[mode].label}</dt>
              <dd>
                {MODE_INFO[mode].summary} {MODE_DETAIL[mode]}
              </dd>
            </div>
          ))}
        </dl>
        <p>
          Switch with the Protection card on the{' '}
          <a className="link" href={hrefOf('overview')}>
            Overview
          </a>
          , the tray menu’s <strong>Protection</strong> items, <code>comfygate auth MODE</code> from a terminal, or{' '}
          <code>comfygate serve --auth MODE</code> at start. The gate is not restarted: the next request meets the new
          mode. Turning protection off while the gate is shared on your network asks first.
        </p>
      </>
    ),
  },
  {
    id: 'help-sharing',
    title: 'Sharing on your network',
    render: () => (
      <>
        <p>
          By default the gate listens on <code>127.0.0.1</code>: only this computer can reach it. To share ComfyUI,
          switch <strong>Who can connect</strong> from “This computer only” to “My network”: on the{' '}
          <a className="link" href={hrefOf('overview')}>
            Overview
          </a>{' '}
          beside the share link, in{' '}
          <a className="link" href={hrefOf('settings')}>
            Settings
          </a>{' '}
          → Connection, with <strong>Share on my network</strong> in the tray, or with <code>comfygate share on</code> (
          <code>share off</code> goes back). It applies at once, without a restart: open pages, sessions and WebSockets
          carry on, and the choice is kept for the next start. Teammates then open the share link shown on the Overview
          and on each new key’s share card; the tray’s <strong>Copy share URL</strong> copies it.
        </p>
        <p>
          <strong>An unprotected gate is never shared by the switch</strong>: with protection off, “My network” is
          refused until you turn protection on, because then anyone who can reach this machine would use ComfyUI without
          a key: queue prompts, see every image, install custom nodes. <code>serve</code> refuses to start that way
          without <code>--allow-unprotected</code>, the dashboard and the tray ask before they turn protection off while
          shared, and the Overview and the tray warn while it lasts.
        </p>
        <p>
          <strong>Only localhost names on loopback.</strong> While the gate listens on loopback only, it answers only to
          requests that name it <code>localhost</code>, <code>*.localhost</code>, <code>127.x.x.x</code> or{' '}
          <code>[::1]</code> in <code>Host</code>. A web page on another domain that points its name at 127.0.0.1 (DNS
          rebinding) is refused with <code>403 forbidden_origin</code>, so it cannot drive ComfyUI through the gate even
          with protection off. A gate shared on the network answers to any name.
        </p>
        <p>
          <strong>HTTPS on your network.</strong> Without it, keys and sessions cross the network in plain HTTP. Tick{' '}
          <strong>HTTPS with a self-signed certificate</strong> in{' '}
          <a className="link" href={hrefOf('settings')}>
            Settings
          </a>{' '}
          → Connection (applied at the next start) or start with <code>comfygate serve --https</code>; or use your own
          certificate with <code>--tls-cert FILE --tls-key FILE</code>. The gate makes the certificate for this
          computer’s names and addresses, keeps it in the data folder (<code>tls/</code>, readable only by you) and
          renews it before it expires or when the addresses change. Teammates’ browsers warn once about a certificate
          they do not know: they compare its <strong>SHA-256 fingerprint</strong> (under the padlock) with the one on
          the Overview, the share card and the sign-in page (“Check this connection”). Links, cookies (then{' '}
          <code>Secure</code>) and WebSockets (<code>wss://</code>) follow on their own.
        </p>
        <p>
          <strong>Behind an HTTPS proxy</strong> (Caddy, nginx, Tailscale serve, a tunnel): list the proxy’s address
          under <strong>Behind a reverse proxy</strong> in{' '}
          <a className="link" href={hrefOf('settings')}>
            Settings
          </a>
          . Only requests from that address may tell the gate, with <code>X-Forwarded-Proto</code>,{' '}
          <code>X-Forwarded-Host</code>, <code>X-Forwarded-For</code> or <code>Forwarded</code>, that the browser used
          https on another name and who the client is: browsers on <code>https://</code> then pass the origin check, the
          session cookie is marked <code>Secure</code>, and lockout and the logs see each client’s own address. Without
          it, browsers on the proxy’s https address get <code>403 forbidden_origin</code>. The same headers from anyone
          else are ignored.
        </p>
        <p>
          Teammates must not be able to go around the gate: start ComfyUI itself with <code>--listen 127.0.0.1</code>{' '}
          (the desktop app warns when ComfyUI answers on your network address).
        </p>
      </>
    ),
  },
  {
    id: 'help-roles',
    title: 'Roles and what they may do',
    render: () => (
      <>
        <p>Every ComfyUI route belongs to a class, and a key’s role decides which classes it may use.</p>
        <div className="help-table table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Class</th>
                <th scope="col">For example</th>
              </tr>
            </thead>
            <tbody>
              {CLASSES.map(([scope, examples]) => (
                <tr key={scope}>
                  <th scope="row">
                    <code>{scope}</code>
                  </th>
                  <td>{examples}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="help-table table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Classes</th>
                <th scope="col">In short</th>
              </tr>
            </thead>
            <tbody>
              {ROLES.map((role) => (
                <tr key={role}>
                  <th scope="row">
                    <span className={`role role-${role}`}>{ROLE_INFO[role].label}</span>
                  </th>
                  <td className="nowrap">{ROLE_CLASSES[role]}</td>
                  <td>{ROLE_INFO[role].summary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <ul>
          <li>
            A refused route answers <code>403 forbidden_scope</code>; the message names the class it needs and what the
            key has.
          </li>
          <li>
            Teammates see ComfyUI, not the gate. ComfyUI-Manager routes answer <code>404 not_available</code> to keys
            without <code>install</code>, as a ComfyUI without the Manager would. The server log (
            <code>/internal/logs</code>, which the web UI’s log panel and client libraries ask for) is accepted but
            empty for keys without <code>manage</code>: it would show everyone’s work.
          </li>
          <li>
            Refusals of ComfyUI routes also come in ComfyUI’s own error shape, so the web UI shows the reason in its
            error dialog; a page opened in the browser that is refused (signed out, not allowed, a limit, ComfyUI down)
            shows what happened and what to do instead of raw JSON.
          </li>
          <li>
            A key may carry its own classes instead of its role’s (a guest key is a viewer that may also generate).
          </li>
          <li>
            Custom-node routes the gate does not know count as <code>read</code> for <code>GET</code> and{' '}
            <code>manage</code> otherwise. Re-class them through the API:{' '}
            <code>PATCH /gate/api/settings {'{"routeOverrides":[{"path":"/my_node/*","class":"generate"}]}'}</code>.
          </li>
          <li>
            For viewers and creators the gate removes <code>front</code> and <code>number</code> from{' '}
            <code>POST /prompt</code>: no jumping the queue.
          </li>
        </ul>
        <h3>Team isolation</h3>
        <p>
          With team isolation on (the default), a shared GPU stays private. For keys without the manage class (viewers,
          creators, guest keys) and for the anonymous tier:
        </p>
        <ul>
          <li>
            <code>/queue</code> and <code>/history</code> show only the caller’s own prompts; other teammates’ prompts
            are counted, not shown.
          </li>
          <li>Live progress and preview images of other teammates’ prompts are not sent over the WebSocket.</li>
          <li>
            Interrupt and deleting from the queue or history act only on the caller’s own prompts. Pressing Cancel with
            nothing of theirs running does nothing, as in ComfyUI with an idle queue.
          </li>
          <li>
            Images and uploads are private: a teammate can open only their own uploads and the outputs of their own
            prompts; another’s file answers “not found”, and an upload cannot replace another’s file (the same name is
            saved as <code>name (1).png</code>, as ComfyUI does). Files of no known owner (made before the gate or by
            operators) are hidden unless <code>PATCH /gate/api/settings {'{"unownedFiles":"visible"}'}</code> shows
            them.
          </li>
          <li>
            <code>/system_stats</code> shows only the flag names of ComfyUI’s command line, and error messages leave out
            tracebacks and server paths.
          </li>
          <li>
            When ComfyUI runs with <code>--multi-user</code>, each key gets its own ComfyUI user (settings and saved
            workflows), whatever user the browser picks.
          </li>
          <li>
            Without it, the gate keeps each creator’s ComfyUI settings and node templates apart, on top of ComfyUI’s
            shared ones. Saved workflows are shared: teammates see and open everyone’s, but replace, rename or delete
            only their own; saving over someone else’s answers “File already exists”, so save a copy under another name.
            Start ComfyUI with --multi-user to give each teammate their own workflows.
          </li>
        </ul>
        <p>
          Operators and admins see and manage every prompt. Switch isolation under{' '}
          <a className="link" href={hrefOf('settings')}>
            Settings
          </a>{' '}
          → Sharing safely → <strong>Team isolation</strong>, or with{' '}
          <code>PATCH /gate/api/settings {'{"isolation":false}'}</code>. It applies only while protection is{' '}
          {MODE_INFO.optional.label} or {MODE_INFO.required.label}; with protection off everyone sees everything.
        </p>
      </>
    ),
  },
  {
    id: 'help-limits',
    title: 'Limits',
    render: () => (
      <>
        <p>Each key has these limits; any of them may be unlimited.</p>
        <ul>
          <li>
            <strong>Requests per minute</strong> and <strong>per hour</strong>: sliding windows. They count calls to
            ComfyUI’s API only: the web UI’s own files (<code>/</code>, <code>/assets/…</code>,{' '}
            <code>/extensions/…</code>, <code>/templates/…</code>, fonts) and opening its WebSocket are free, so loading
            or reloading the page never uses them up.
          </li>
          <li>
            <strong>Prompts per day</strong>: prompts ComfyUI accepted; the count resets at midnight, the gate machine’s
            time. Prompts that fail validation do not count.
          </li>
          <li>
            <strong>Queued at once</strong>: prompts waiting or running at the same time, so nobody fills the GPU queue.
          </li>
          <li>
            <strong>Generation caps</strong> (under GPU share in the key form): image area (width × height of one node),
            batch size, sampler steps, video frames and nodes per prompt. The gate reads the values typed into the
            graph’s nodes, on any node class, by input name (Settings → Generation cap inputs; by default{' '}
            <code>width</code>/<code>height</code>, <code>batch_size</code>, <code>steps</code>, <code>length</code>,{' '}
            <code>frames</code>, <code>num_frames</code>, <code>video_frames</code>, <code>frame_count</code>); an input
            wired from another node is not checked. A key without its own cap takes its role’s default (Settings → Role
            defaults). A prompt over a cap is refused <code>400</code> before ComfyUI sees it, in ComfyUI’s own
            validation shape, so the web UI outlines the node and says what the cap is.
          </li>
          <li>
            <strong>GPU seconds per day</strong>: how long ComfyUI worked on the key’s prompts today, by ComfyUI’s own
            start and end times (failed and interrupted prompts count up to where they stopped). The key’s own value,
            else its role’s default from Settings. Past it new prompts get <code>gpu_quota</code> until midnight, the
            gate machine’s time; prompts already queued still run. Usage and the teammate page show GPU time; Prometheus
            gets <code>comfygate_gpu_seconds_total</code> per key id.
          </li>
        </ul>
        <p>
          <strong>Fair order</strong>: keys with prompts waiting take turns by weight (a key’s own, else its role’s,
          else 1) instead of first come, first served; your next prompt’s place and an estimate of when it starts show
          on your page and in <code>comfygate</code> of your <code>/queue</code>. Operators and admins may still queue a
          prompt in front.
        </p>
        <p>
          While a limit applies, answers carry <code>X-RateLimit-Limit</code>, <code>X-RateLimit-Remaining</code> and{' '}
          <code>X-RateLimit-Reset</code> (the tightest limit; seconds until it resets) and the IETF{' '}
          <code>RateLimit-Policy</code> and <code>RateLimit</code> headers. Past a limit the answer is <code>429</code>{' '}
          with <code>Retry-After</code> in seconds and a code that names the limit:
        </p>
        <Code text={EXAMPLE_429} what="example 429 answer" />
        <p>
          The codes are <code>rate_limit_minute</code>, <code>rate_limit_hour</code>,{' '}
          <code>rate_limit_prompts_day</code>, <code>queue_limit</code> (queue more when one of your prompts finishes)
          and <code>gpu_quota</code> (today’s GPU time is used up).
        </p>
        <>
          <p>
            New keys get the default limits from{' '}
            <a className="link" href={hrefOf('settings')}>
              Settings
            </a>{' '}
            unless you give them their own. In mode optional, callers without a key share the anonymous tier’s role and
            limits, counted per client address.
          </p>
          <p>
            <strong>Open WebSockets per key</strong> (Settings → Open WebSockets, default 20, empty for no cap) bounds
            the sockets one key, or one address without a key, holds (each open ComfyUI tab holds one); past it the
            upgrade gets a cheap <code>429 websocket_limit</code>, counted in the metrics’ limit refusals, and the
            ComfyUI page keeps retrying on its own.
          </p>
          <p>
            <strong>The guest preset</strong> makes a shareable demo key in one step: a viewer that may also generate,
            within tight limits — 120 requests a minute, 1200 an hour, 20 prompts a day, one queued at a time — expiring
            in 7 days. Choose <strong>Guest</strong> under{' '}
            <a className="link" href={hrefOf('keys')}>
              Keys
            </a>{' '}
            → New key, or run <code>comfygate keys create --name "demo for Sam" --preset guest</code>.
          </p>
        </>
        <p>
          <strong>Lockout:</strong> too many wrong keys from one address (by default 10 within 5 minutes) lock that
          address out (by default for 15 minutes): every request from it, with or without a key, the sign-in page
          included, gets <code>429</code> with <code>Retry-After</code>. In a browser the sign-in page says when you may
          try again; scripts get <code>locked_out</code>. Only <code>/gate/healthz</code> still answers. Other addresses
          are not affected.
        </p>
      </>
    ),
  },
  {
    id: 'help-keys',
    title: 'Keys',
    render: () => (
      <ul>
        <li>
          <a className="link" href={hrefOf('keys')}>
            Keys
          </a>{' '}
          → <strong>New key</strong>: a name, a role or preset, limits and an expiry. The key is{' '}
          <strong>shown once</strong>, with copy buttons and a share card (address, key, curl, Python and JavaScript
          lines, a QR code of the sign-in page). The gate keeps only its SHA-256 hash and a hint such as{' '}
          <code>cgk_Ab12…9xQz</code>.
        </li>
        <li>
          <strong>Rotate</strong> gives a key a new secret (shown once again) and keeps its id, limits and history.{' '}
          <strong>Deactivate</strong> stops a key until you activate it again; <strong>Delete</strong> removes it for
          good. <strong>Sign out everywhere</strong> ends the key’s browser sessions and access tokens but keeps the key
          working (<code>comfygate keys sign-out ID</code>).
        </li>
        <li>
          Rotating, deactivating, deleting or expiring a key takes effect at once: its old secret is refused, its
          browser sessions are signed out and its open WebSockets are closed. The same holds for changes made with the
          command line in another terminal (the gate sees them within a second). Ended sessions stay ended across
          restarts, and activating a key again does not bring its old sessions back.
        </li>
        <li>
          Keys start with <code>cgk_</code> and end in a checksum: a mistyped key is refused without a lookup, and
          secret scanners can spot a leaked one.
        </li>
        <li>
          On the first start the gate creates an admin key and prints it once, as soon as it listens: a first start that
          fails (say, its port is taken) creates none, so the next start prints it. <code>COMFYGATE_API_KEY</code> in
          the gate’s environment is a legacy single admin key for scripts.
        </li>
      </ul>
    ),
  },
  {
    id: 'help-watching',
    title: 'Logs, usage and audit',
    render: () => (
      <ul>
        <li>
          <a className="link" href={hrefOf('logs')}>
            Logs
          </a>
          : every request and WebSocket session through the gate, live (pause and resume), filtered by key, status and
          path, with a detail drawer. Keys and tokens never appear. The gate keeps 7 days of requests, at most 500 MB,
          by default (Settings → Request log), dropping the oldest hour first; the page says how far back it reaches.
          The files under <code>logs/</code> are written in batches at least once a second, so they can trail this page
          by a second.
        </li>
        <li>
          <a className="link" href={hrefOf('usage')}>
            Usage
          </a>
          : requests, prompts and errors per day for all keys or one, over a date range, with top keys and totals. Days
          older than the retention in Settings (90 by default) are dropped.
        </li>
        <li>
          <a className="link" href={hrefOf('audit')}>
            Audit
          </a>
          : keys created, changed, (de)activated, rotated and deleted; settings and mode changes; sign-ins, failed
          sign-ins, sign-outs and lockouts, each with who did it and from where (command-line changes are marked).
        </li>
        <li>
          The desktop app notifies you when ComfyUI stops answering for 20 seconds and when it is back (with several
          ComfyUIs, each one by its label), when a key is used for the first time, when an address is locked out and
          when a key reaches its prompts per day; switch each under{' '}
          <a className="link" href={hrefOf('settings')}>
            Settings
          </a>{' '}
          → Notifications. Its tray menu’s <strong>View logs</strong> opens the Logs page and{' '}
          <strong>Open data folder</strong> the folder with keys, settings, usage and <code>logs/</code>.
        </li>
      </ul>
    ),
  },
  {
    id: 'help-api',
    title: 'API, docs and metrics',
    render: ({ origin }) => (
      <>
        <ul>
          <li>
            <a className="link" href="/gate/docs" target="_blank" rel="noopener">
              /gate/docs
            </a>{' '}
            (Swagger UI) and{' '}
            <a className="link" href="/gate/redoc" target="_blank" rel="noopener">
              /gate/redoc
            </a>{' '}
            describe the gate’s API; <code>/gate/openapi.json</code> is the OpenAPI document. They need no key and load
            nothing from the internet.
          </li>
          <li>
            Any key may call <code>GET /gate/api/whoami</code>, <code>GET /gate/api/usage</code> (its own use) and{' '}
            <code>POST /gate/api/token</code>. Everything else under /gate/api needs the admin role.
          </li>
          <li>
            <code>GET /gate/healthz</code> answers without a key: whether the gate runs and reaches ComfyUI.
          </li>
          <li>
            <code>/gate/metrics</code> serves Prometheus metrics (requests, latency, upstream reachability, open
            WebSockets, queued prompts per key, refusals, lockouts) to an admin key or to the metrics token from{' '}
            <a className="link" href={hrefOf('settings')}>
              Settings
            </a>{' '}
            → Metrics, sent as a bearer token:
          </li>
        </ul>
        <Code text={`curl -H "Authorization: Bearer <metrics token>" ${origin}/gate/metrics`} what="metrics example" />
      </>
    ),
  },
  {
    id: 'help-cli',
    title: 'Command line',
    render: () => (
      <>
        <p>
          The same gate runs headless with <code>comfygate</code> (from the repository: <code>npx comfygate …</code>).
        </p>
        <Code text={CLI} what="command summary" aligned />
        <ul>
          <li>
            <code>--data-dir DIR</code> (or <code>COMFYGATE_DATA_DIR</code>) picks the folder with keys, settings, usage
            and logs, for every command. The command line and a running gate may change the same files at once.
          </li>
          <li>
            <code>serve</code> without <code>--upstream</code> looks for ComfyUI at <code>127.0.0.1:8188</code>, then{' '}
            <code>127.0.0.1:8000</code> (ComfyUI Desktop). <code>auth</code> without a mode prints the current one.
          </li>
          <li>
            <code>--upstream</code> given several times (or <code>upstreams</code> in settings.json, each with an
            optional <code>label</code> and <code>weight</code>; or Settings → Connection → Add a ComfyUI, applied at
            the next start) puts several ComfyUIs behind one address, say one per GPU: each new prompt goes to a
            reachable one that has its nodes and models with the least work ahead, and everything about a prompt follows
            it. The overview and <code>comfygate status</code> show each backend; the README’s “Scaling out” has the
            details.
          </li>
          <li>
            <code>--redis URL</code> on several gates (behind one load balancer) makes them one: keys, sessions, limits,
            lockouts, who owns which prompt and output, usage and GPU time are shared, so a teammate may land on any
            gate. The overview lists the gates (“Gate replicas”), live or not; while Redis is away each gate goes on
            alone and catches up when it is back (README, “Several gates sharing Redis”).
          </li>
          <li>
            <code>KEY</code> is the key’s id (<code>key_…</code>) or its name; a name several keys share is refused with
            their ids. <code>update</code> changes only what you give; <code>none</code> lifts a limit.{' '}
            <code>delete</code> asks on a terminal and, in a script, needs <code>--yes</code>.
          </li>
          <li>
            A change is in force in the running gate before the command returns, and the command says which gate applied
            it, or that none runs for this data dir. <code>--json</code> prints one JSON value on stdout (that sentence
            then goes to stderr).
          </li>
          <li>
            Exit codes: <code>0</code> done, <code>1</code> failed (one line on stderr), <code>2</code> usage error.
          </li>
        </ul>
      </>
    ),
  },
  {
    id: 'help-errors',
    title: 'When something goes wrong',
    render: () => (
      <>
        <p>
          Errors from the gate itself are JSON: <code>{'{"error":{"code":"…","message":"…"}}'}</code>. The message says
          what happened; the code says which case it is. <code>error.requestId</code> is the request’s id in the gate’s
          request log (<code>requestId</code> in <code>GET /gate/api/logs</code>): quote it when you ask an admin why
          something was refused. An invalid input also lists each problem by field name in <code>error.fields</code>.
        </p>
        <p>
          On ComfyUI routes the same answer also has ComfyUI’s fields (<code>error.type</code>,{' '}
          <code>error.details</code> saying what to do, <code>error.extra_info</code>, <code>node_errors</code>), so
          ComfyUI’s web UI shows it in its own error dialog. A browser that opens a refused page gets a short page with
          the same status instead.
        </p>
        <div className="help-table table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Code</th>
                <th scope="col">Meaning and fix</th>
              </tr>
            </thead>
            <tbody>
              {TROUBLE.map((row) => (
                <tr key={row.codes.join()}>
                  <td className="nowrap">
                    <span className={`status-code status-code-${row.status >= 500 ? 'danger' : 'warn'}`}>
                      {row.status}
                    </span>
                  </td>
                  <td>
                    {row.codes.map((code, i) => (
                      <span key={code}>
                        {i > 0 && <br />}
                        <code>{code}</code>
                      </span>
                    ))}
                  </td>
                  <td>{row.admin ?? row.meaning}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </>
    ),
  },
];

const MODE_DETAIL: Record<(typeof MODES)[number], string> = {
  off: 'A pure pass-through.',
  optional: 'The anonymous tier’s role and limits are in Settings; it is counted per client address.',
  required: 'Requests that are not a browser asking for a page get 401.',
};

const CLASSES: [Scope, string][] = [
  ['read', 'The web UI and its files; GET of queue, history, images (/view), object_info, models, settings; /ws.'],
  ['generate', 'POST /prompt, uploads, /interrupt, deleting queue and history items, saving workflows.'],
  ['manage', '/free, clearing the queue or history, other settings and userdata writes, POST /users, /internal/*.'],
  ['install', 'Every ComfyUI-Manager route, whatever the method, and userdata writes into ComfyUI-Manager/.'],
];

const ROLE_CLASSES: Record<Role, string> = {
  viewer: 'read',
  creator: 'read, generate',
  operator: 'all four',
  admin: 'all four + dashboard',
};

const EXAMPLE_429 = `HTTP/1.1 429 Too Many Requests
Retry-After: 12
X-RateLimit-Limit: 60
X-RateLimit-Remaining: 0
X-RateLimit-Reset: 12
RateLimit-Policy: "per-minute";q=60;w=60
RateLimit: "per-minute";r=0;t=12

{"error":{"code":"rate_limit_minute","message":"Rate limit of 60 requests per minute reached; retry in 12 s."}}`;

const CLI = `comfygate serve [--upstream URL]... [--host H] [--port P] [--data-dir DIR]
                [--auth off|optional|required] [--allow-unprotected]
                [--https | --tls-cert F --tls-key F]
comfygate keys create --name N [--role viewer|creator|operator|admin]
                [--preset guest|creator|operator|admin]
                [--per-minute N] [--per-hour N] [--prompts-per-day N]
                [--max-queued N] [--expires 30d|ISO-date] [--note TEXT] [--json]
                [--gpu-seconds-per-day N] [--max-pixels N] [--max-batch N]
                [--max-steps N] [--max-frames N] [--max-nodes N] [--weight N]
comfygate keys update KEY [--name N] [--role R] [--note TEXT]
                [--per-minute N|none] [--per-hour N|none]
                [--prompts-per-day N|none] [--max-queued N|none]
                [--gpu-seconds-per-day N|none] [--max-pixels N|none] …
                [--weight N|none] [--expires 30d|ISO-date | --no-expiry] [--json]
comfygate keys list [--json]
comfygate keys show KEY [--json]
comfygate keys revoke KEY [--json]    # deactivate at once
comfygate keys activate KEY [--json]
comfygate keys rotate KEY [--json]
comfygate keys sign-out KEY [--json]  # end its sessions and access tokens
comfygate keys delete KEY [--yes] [--json]
comfygate auth [off|optional|required] [--json]
comfygate share on|off                # my network / this computer only, live
comfygate status [--json]             # the gate running for this data dir
comfygate --version`;

interface TroubleRow {
  status: number;
  codes: ErrorCode[];
  meaning: ReactNode;
  /** The operator's version, when the fix is theirs. */
  admin?: ReactNode;
}

const TROUBLE: TroubleRow[] = [
  {
    status: 400,
    codes: ['bad_request'],
    meaning: (
      <>
        A malformed request, or an ambiguous path (<code>//</code>, <code>..</code>, double encoding) that the gate
        refuses rather than guesses. The message names the problem.
      </>
    ),
  },
  {
    status: 401,
    codes: ['unauthorized'],
    meaning: (
      <>
        No key where one is required, or a wrong, expired, deactivated or rotated one (a wrong key is refused even when
        protection is optional), or a session that was signed out. Check the key, or sign in again at{' '}
        <code>/gate/login</code>; ask for a new key if it was rotated. <code>X-ComfyGate-Reason</code> says which case (
        <code>revoked</code>, <code>expired</code>, <code>rotated</code>, <code>deleted</code>, <code>signed_out</code>,{' '}
        <code>session_expired</code>); a browser is sent to the sign-in page, which explains it.
      </>
    ),
  },
  {
    status: 403,
    codes: ['forbidden_scope'],
    meaning: (
      <>
        Your key’s role may not use this route. The message names the class the route needs; ask for a key that has it.
      </>
    ),
    admin: (
      <>
        The key’s role may not use this route (see “Roles”). The message names the class the route needs: change the
        key’s role under Keys, or re-class a custom-node route.
      </>
    ),
  },
  {
    status: 403,
    codes: ['forbidden'],
    meaning: (
      <>
        The gate’s admin API and its metrics need a key with the admin role; and an access token cannot mint another one
        (ask with your key or from a signed-in browser).
      </>
    ),
  },
  {
    status: 403,
    codes: ['forbidden_origin'],
    meaning: (
      <>
        A request from another web page’s origin (or <code>Origin: null</code>), a cross-site request that changes
        something, or, while the gate listens on this computer only, a <code>Host</code> that is not a localhost name.
        Open ComfyUI through the gate’s own address.
      </>
    ),
    admin: (
      <>
        A request from another web page’s origin (or <code>Origin: null</code>), a cross-site request that changes
        something, or, while the gate listens on loopback only, a <code>Host</code> that is not a localhost name (DNS
        rebinding protection). Use the gate’s own address, <code>localhost</code> or <code>127.0.0.1</code>; to reach it
        by another name, share it on your network.
      </>
    ),
  },
  {
    status: 404,
    codes: ['not_available'],
    meaning: (
      <>
        A ComfyUI-Manager route, to a key without the <code>install</code> class: ComfyUI looks as if the Manager were
        not installed. Ask for an operator key if you need it.
      </>
    ),
    admin: (
      <>
        A ComfyUI-Manager route, to a key without the <code>install</code> class: ComfyUI looks as if the Manager were
        not installed, so clients that probe for it carry on. Give the key the operator role if it needs the Manager.
      </>
    ),
  },
  {
    status: 400,
    codes: ['generation_cap'],
    meaning: (
      <>
        The prompt is larger than the key allows: the web UI outlines each node over a cap, and the message names the
        input, its value and the cap (or the number of nodes). Lower it, or ask for larger generations.
      </>
    ),
    admin: (
      <>
        A generation cap of the key, or of its role (Settings → Role defaults), refused the prompt. Raise or clear it,
        or change which inputs are read in Settings → Generation cap inputs.
      </>
    ),
  },
  {
    status: 409,
    codes: ['conflict'],
    meaning: (
      <>
        A prompt sent with the <code>prompt_id</code> of someone else’s queued prompt. Leave it out.
      </>
    ),
  },
  {
    status: 429,
    codes: ['rate_limit_minute', 'rate_limit_hour', 'rate_limit_prompts_day'],
    meaning: (
      <>
        A limit of the key is used up. Wait the <code>Retry-After</code> seconds; the daily prompt count resets at
        midnight, the gate machine’s time.
      </>
    ),
  },
  {
    status: 429,
    codes: ['gpu_quota'],
    meaning: (
      <>
        The key’s GPU seconds for today are used up. Prompts already queued still run; new ones are accepted again after
        midnight, the gate machine’s time.
      </>
    ),
  },
  {
    status: 429,
    codes: ['queue_limit'],
    meaning: <>Too many of the key’s prompts are queued or running. Queue more when one finishes.</>,
  },
  {
    status: 429,
    codes: ['websocket_limit'],
    meaning: (
      <>
        The key already has as many WebSockets open as it may (one per ComfyUI tab). Close a tab you no longer use; the
        ComfyUI page connects again by itself.
      </>
    ),
    admin: (
      <>
        The key (or, without a key, the address) already has as many WebSockets open as Settings → Open WebSockets
        allows. Raise the cap there if one person really needs more tabs.
      </>
    ),
  },
  {
    status: 429,
    codes: ['locked_out'],
    meaning: (
      <>
        Too many wrong keys came from this address; everything from it is refused for a while (<code>Retry-After</code>;
        the sign-in page shows when). Check the key before trying again.
      </>
    ),
  },
  {
    status: 502,
    codes: ['upstream_unreachable'],
    meaning: <>ComfyUI is down, or the gate points to the wrong address. Tell whoever runs the gate.</>,
    admin: (
      <>
        ComfyUI is down, or the gate points to the wrong address (the message names it). Start ComfyUI, or fix the
        address in Settings → Connection (“Test connection”; applied at the next start) or with{' '}
        <code>comfygate serve --upstream URL</code>.
      </>
    ),
  },
  {
    status: 503,
    codes: ['paused'],
    meaning: <>Whoever runs the gate paused sharing; only their own computer gets through. Try again later.</>,
    admin: (
      <>
        You paused sharing from the tray: only this computer gets through. Untick <strong>Pause sharing</strong>.
      </>
    ),
  },
  {
    status: 503,
    codes: ['data_file_corrupt'],
    meaning: <>The gate cannot save changes right now. Tell whoever runs the gate.</>,
    admin: (
      <>
        <code>keys.json</code> or <code>settings.json</code> in the data folder is broken (the message names the file
        and the problem). The gate keeps working with the last good version but saves no change to it, and keeps a copy
        of the broken file next to it as <code>….corrupt-&lt;time&gt;</code>. Fix the file (the gate picks the fix up
        within a second), or move it away to start with a new, empty one.
      </>
    ),
  },
  {
    status: 503,
    codes: ['shared_state_unavailable'],
    meaning: <>Several gates share their keys through Redis, which does not answer right now. Try again later.</>,
    admin: (
      <>
        The gate runs with <code>--redis</code> and Redis is unreachable. Changes to keys are refused until it answers
        again; signing in and requests keep working from the last known keys for 10 minutes of outage, then are refused
        with this code too. See README, “Several gates sharing Redis”.
      </>
    ),
  },
  {
    status: 503,
    codes: ['server_busy'],
    meaning: (
      <>
        The gate is checking other large prompts right now and has no memory to spare for this one. Send it again after
        the <code>Retry-After</code> seconds.
      </>
    ),
    admin: (
      <>
        The prompt, queue and history bodies the gate is checking at once fill its memory budget (256 MB by default,{' '}
        <code>bodyBudgetMb</code> in settings.json or <code>COMFYGATE_BODY_BUDGET_MB</code>, applied at the next start).
        The caller is told to retry after <code>Retry-After</code> seconds.
      </>
    ),
  },
  {
    status: 504,
    codes: ['upstream_timeout'],
    meaning: (
      <>ComfyUI took too long to start answering. Try again; if it keeps happening, tell whoever runs the gate.</>
    ),
    admin: (
      <>
        ComfyUI took too long to start answering (5 minutes by default). Check that ComfyUI is not stuck; the wait is{' '}
        <code>COMFYGATE_UPSTREAM_TIMEOUT_MS</code>.
      </>
    ),
  },
];

/** Answers a teammate using ComfyUI or a script does not meet: a malformed request, the admin API, a reused prompt id. */
const NOT_FOR_TEAMMATES = new Set<ErrorCode>(['bad_request', 'forbidden', 'conflict']);

/** The teammate's help shows the rest, each in their words. */
const TEAMMATE_ANSWERS: TeammateAnswer[] = TROUBLE.filter((row) => !row.codes.some((c) => NOT_FOR_TEAMMATES.has(c)));
