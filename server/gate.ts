import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { createAdminApp } from './admin/adminApp.js';
import { authStep } from './auth/authStep.js';
import { Authenticator } from './auth/authenticator.js';
import { loadOrCreateSecret } from './auth/secretFile.js';
import { SessionTokens } from './auth/sessionTokens.js';
import { SignedOutSessions } from './auth/signedOutSessions.js';
import type { GateConfig } from './config/schema.js';
import type { SharingActor, SharingReport } from './admin/routes/sharingRouter.js';
import { GateError, isLimitCode } from './errors.js';
import { GateListener } from './http/gateListener.js';
import { createGateServer } from './http/gateServer.js';
import { isLoopbackBind } from './pipeline/hostNames.js';
import { isSharedOnNetwork, listenHostFor, unprotectedRefusal } from './net/sharingChoice.js';
import { resolveLocalName } from './net/localName.js';
import { isWildcardHost, localGateUrl, shareAddress, type ShareAddress } from './net/shareAddress.js';
import {
  newControlToken,
  removeRuntimeRecord,
  writeRuntimeRecord,
  type RuntimeRecord,
} from './runtime/runtimeRecord.js';
import { GATE_VERSION } from './runtime/version.js';
import { TrustedProxies } from './http/trustedProxies.js';
import { KeyStore } from './keys/keyStore.js';
import { BruteForceLockout, lockoutOptionsOf } from './limits/lockout.js';
import { limitStep } from './limits/limitStep.js';
import { promptAccounting } from './limits/promptAccounting.js';
import { PromptTracker, watchForFinishedPrompts } from './limits/promptTracker.js';
import { RateLimiter } from './limits/rateLimiter.js';
import type { FinishedRequest } from './observe/finishedRequest.js';
import { authorizeStep } from './policy/authorizeStep.js';
import { BodyBudget } from './pipeline/bodyBudget.js';
import { bodyInspection } from './pipeline/bodyInspection.js';
import { isolationStep } from './isolation/isolationStep.js';
import { ComfyUsers } from './isolation/comfyUsers.js';
import { createOwnSpaceAnswers } from './isolation/ownSpaceAnswers.js';
import { TeammateSpaces } from './isolation/teammateSpaces.js';
import { FileAccess } from './isolation/fileAccess.js';
import { FileOwners } from './isolation/fileOwners.js';
import { PromptOwners } from './isolation/promptOwners.js';
import { queuedPromptIds } from './isolation/comfyQueue.js';
import { interruptCheck, jobCancelCheck, queueDeleteCheck } from './isolation/ownPromptChecks.js';
import { promptIdCheck, promptStampCheck } from './isolation/promptIdentity.js';
import { promptQuotaCheck } from './limits/promptQuotaCheck.js';
import { queueControlCheck } from './policy/queueControlCheck.js';
import { isLoopbackAddress, pauseStep, type PauseState } from './pipeline/pauseStep.js';
import { isOwnerKey, ownerSession, type OwnerSession } from './auth/ownerSession.js';
import { localDate } from './usage/usageAggregator.js';
import { UsageAggregator } from './usage/usageAggregator.js';
import { AuditLog } from './logs/auditLog.js';
import { LogStream } from './logs/logStream.js';
import { logRetentionOf, RequestLog } from './logs/requestLog.js';
import { GateMetrics } from './metrics/gateMetrics.js';
import { silentLogger, type Logger } from './appLog/logger.js';
import { createForwarder } from './proxy/httpForward.js';
import { originStep } from './pipeline/originStep.js';
import { Upstream } from './proxy/upstream.js';
import { discoverUpstream } from './proxy/upstreamDiscovery.js';
import type { AuthMode, NotificationSettings } from './settings/settingsSchema.js';
import { SettingsStore } from './settings/settingsStore.js';
import { SharedState } from './redis/sharedState.js';
import { sharedStateStep } from './redis/sharedStateStep.js';
import { removeStaleFiles } from './store/staleFiles.js';
import { closeSocketsOfEndedKeys } from './ws/endedKeySockets.js';
import { WsRelay } from './ws/wsRelay.js';
import { tlsForConfig } from './tls/gateCertificate.js';
import type { TlsSummary } from './tls/tlsSummary.js';

export interface StartGateOptions {
  config: GateConfig;
  logger?: Logger;
  /** Folder of the built dashboard, served at /gate/. */
  dashboardDir?: string;
  /** Sets the protection mode at start (the CLI's `--auth`); otherwise settings.json decides. */
  mode?: AuthMode;
  /** The legacy single admin key from COMFYGATE_API_KEY. */
  legacyApiKey?: string;
}

export interface GateState {
  url: string;
  /** Address and port the gate listens on. */
  listen: { host: string; port: number };
  /** The sharing switch: true on the network ("My network"), false on this computer only. */
  network: boolean;
  mode: AuthMode;
  /** Sharing paused: only this machine gets through. */
  paused: boolean;
  upstream: { url: string; reachable: boolean | undefined };
  /** The link teammates open (server/net/shareAddress.ts decides it for every screen). */
  share: ShareAddress;
  /** HTTPS: the certificate teammates can check (its SHA-256 fingerprint); null for plain HTTP. */
  tls: TlsSummary | null;
  openSockets: number;
  keys: number;
  requestsToday: number;
  /** Which of the events below the operator wants as desktop notifications. */
  notifications: NotificationSettings;
}

/** A key as the operator knows it, in events. */
export interface KeyNamed {
  id: string;
  name: string;
}

export type { OwnerSession, TlsSummary };

export interface GateEvents {
  upstream: [reachable: boolean];
  mode: [mode: AuthMode];
  paused: [paused: boolean];
  /** The listener moved (the sharing switch): true when it is now on the network. */
  sharing: [network: boolean];
  /** A key that had never been used was used (the desktop app's own key is not announced). */
  firstUse: [key: KeyNamed];
  /** An address was locked out after repeated wrong keys, until the time given (ms). */
  lockout: [ip: string, until: number];
  /** A key's accepted prompt reached its prompts-per-day limit (once per key and day). */
  quota: [key: KeyNamed & { limit: number }];
  /** Anything in `state` may have changed (mode, upstream, pause, sharing, keys). */
  change: [];
}

export interface GateHandle {
  /** Where the gate listens now (it changes with the sharing switch). */
  readonly url: string;
  readonly state: GateState;
  events: EventEmitter<GateEvents>;
  /** The admin key made on first start with an empty key store; shown once, stored only as a hash. */
  initialAdminKey: string | undefined;
  setMode(mode: AuthMode): Promise<void>;
  setPaused(paused: boolean): void;
  /**
   * The sharing switch, live: moves the listener to the network or to this computer only without
   * restarting, keeps open connections, and saves the choice for the next start. Refuses (a
   * GateError `conflict`) to put the gate on the network with protection off.
   */
  setSharing(network: boolean): Promise<SharingReport>;
  /** An admin session for the desktop window, from a key kept for this machine (made once, never shown). */
  ownerSession(): Promise<OwnerSession>;
  stop(): Promise<void>;
}

/** How often lastUsedAt values are written to keys.json (never once per request). */
const USAGE_FLUSH_MS = 5_000;
/** Bodies the gate reads (prompts carry whole workflows); ComfyUI's own default limit is 100 MB. */
const MAX_INSPECTED_BODY_BYTES = 100 * 1024 * 1024;

/** Starts the gate: resolves once it listens. Knows nothing of Electron or of the CLI. */
export async function startGate(options: StartGateOptions): Promise<GateHandle> {
  const { config, logger = silentLogger(), dashboardDir } = options;
  await removeStaleFiles(config.dataDir, logger);
  // First: an unusable certificate must stop the start before anything else happens.
  const tls = await tlsForConfig(config);
  if (tls?.renewed) logger.info({ validTo: tls.validTo }, 'made a new self-signed certificate for HTTPS');
  const tlsSummary: TlsSummary | null = tls
    ? { fingerprint256: tls.fingerprint256, selfSigned: tls.selfSigned, validTo: tls.validTo }
    : null;
  const scheme = tls ? 'https' : 'http';
  const shared = config.redisUrl ? await SharedState.open({ url: config.redisUrl, logger, role: 'gate' }) : undefined;
  const [keys, settings, secret, signedOut] = await Promise.all([
    KeyStore.open(config.dataDir, shared),
    SettingsStore.open(config.dataDir),
    loadOrCreateSecret(config.dataDir, logger).then((local) => shared?.sessionSecret(local) ?? local),
    SignedOutSessions.open(config.dataDir, shared),
  ]);
  const [requestLog, audit] = await Promise.all([
    RequestLog.open({ dataDir: config.dataDir, logger, retention: logRetentionOf(settings.current.logRetention) }),
    AuditLog.open({ dataDir: config.dataDir, logger }),
  ]);
  const logStream = new LogStream({ recent: () => requestLog.recent() });
  const fileOwners = await FileOwners.open(config.dataDir, logger);
  const usage = await UsageAggregator.open(config.dataDir, {
    retentionDays: settings.current.retentionDays,
    onFlushError: (error) => logger.warn({ err: error }, 'could not save usage'),
  });
  if (options.mode && options.mode !== settings.current.mode) await settings.update({ mode: options.mode });

  const upstreamUrl = await resolveUpstream(config, logger);
  const upstream = new Upstream({ url: upstreamUrl, connectTimeoutMs: config.connectTimeoutMs });
  const tokens = new SessionTokens(secret, signedOut);
  const lockoutOptions = lockoutOptionsOf(settings.current.lockout);
  const lockout = shared ? shared.lockout(lockoutOptions) : new BruteForceLockout(lockoutOptions);
  const authenticator = new Authenticator(keys, tokens, options.legacyApiKey, lockout);
  const limiter = new RateLimiter();
  const tracker = new PromptTracker();
  const owners = new PromptOwners();
  const comfyUsers = new ComfyUsers(upstream);
  const files = new FileAccess(fileOwners, upstream, settings);
  let openSockets = (): number => 0;
  const bodyBudget = new BodyBudget(config.bodyBudgetMb * 1024 * 1024);
  const metrics = new GateMetrics({
    openWebSockets: () => openSockets(),
    bodyBudget,
    queuedPrompts: { counts: () => tracker.counts(), nameOf: (subject) => keys.get(subject)?.name ?? subject },
  });
  const observers: Array<(finished: FinishedRequest) => void> = [
    usage.observe,
    metrics.observe,
    requestLog.observe,
    logStream.observe,
  ];
  const observe = (finished: FinishedRequest): void => {
    for (const observer of observers) observer(finished);
    if (finished.refusal !== undefined && isLimitCode(finished.refusal)) metrics.countRefusal(finished.refusal);
  };
  const events = new EventEmitter<GateEvents>();
  lockout.events.on('locked', (ip, until) => {
    events.emit('lockout', ip, until);
    metrics.countLockout();
    audit.record({
      action: 'lockout',
      actorKeyId: null,
      clientIp: ip,
      details: { until: new Date(until).toISOString() },
    });
    logger.warn({ ip, until: new Date(until).toISOString() }, 'locked out an address after repeated wrong keys');
  });
  const watchFinished = watchForFinishedPrompts(tracker);
  const relay = new WsRelay({
    upstreamUrl,
    handshakeTimeoutMs: config.upstreamTimeoutMs,
    pingIntervalMs: config.wsPingIntervalMs,
    logger,
    observe,
    onUpstreamText: (frame) => {
      watchFinished(frame);
      files.onUpstreamText(frame);
    },
    owners,
    maxPerSubject: () => settings.current.maxWebSocketsPerKey,
  });
  openSockets = () => relay.openCount;
  const listen = { host: config.host, port: config.port };
  const controlToken = newControlToken();
  let localName: string | null = null;
  const share = (): ShareAddress => shareAddress(listen, networkInterfaces(), localName, scheme);
  // Read per request by the DNS-rebinding check: the sharing switch moves the listener while the gate runs.
  let loopbackOnly = isLoopbackBind(listen.host);
  const sharingReport = (): SharingReport => ({
    network: isSharedOnNetwork(listen.host, config.networkHost),
    listen: { ...listen },
    url: localGateUrl(listen, scheme),
    share: share(),
  });
  let moving: Promise<unknown> = Promise.resolve();
  const setSharing = (network: boolean, actor: SharingActor): Promise<SharingReport> => {
    const move = moving.then(() => moveSharing(network, actor));
    moving = move.catch(() => undefined);
    return move;
  };
  const pause: PauseState = { paused: false };
  const admin = createAdminApp({
    upstream,
    keys,
    settings,
    usage,
    requestLog,
    logStream,
    audit,
    logRetention: () => settings.current.logRetention,
    metrics,
    authenticator,
    tokens,
    logger,
    listen,
    share,
    tls: tlsSummary,
    runtime: {
      controlToken,
      reload: () => Promise.all([keys.reload(), settings.reload()]).then(() => undefined),
      sharing: { current: sharingReport, set: setSharing },
    },
    openSockets: () => relay.openCount,
    endSession: (claims) => relay.closeWhere((s) => s.principal?.token?.jti === claims.jti, 'Signed out'),
    dashboardDir,
  });
  const proxies = new TrustedProxies(settings.current.trustProxy);
  const spaces = new TeammateSpaces(config.dataDir);
  const accountPrompts = promptAccounting({
    limiter,
    tracker,
    onQuotaReached: (reached) => events.emit('quota', reached),
  });
  const ownSpace = createOwnSpaceAnswers({
    spaces,
    upstream,
    multiUser: () => comfyUsers.multiUser(Date.now()),
    timeoutMs: config.upstreamTimeoutMs,
    forward: createForwarder({
      upstream,
      timeoutMs: config.upstreamTimeoutMs,
      onResponse: (exchange, status) => {
        accountPrompts(exchange, status);
        shared?.promptDays.settle(exchange, status);
        ownSpace.onResponse(exchange, status);
        if (status === 200 && exchange.isolatedAs !== null && exchange.promptId !== null) {
          fileOwners.expectOutputs(exchange.promptId, exchange.isolatedAs, Date.now());
        }
      },
      owners,
      files,
    }),
  });
  const gateServerParts = {
    steps: [
      ...(shared ? [sharedStateStep(shared.link)] : []),
      pauseStep(pause),
      originStep(() => loopbackOnly),
      authStep(authenticator, settings, keys),
      authorizeStep(settings),
      limitStep(limiter, settings, shared?.rateLimits),
      isolationStep(settings, owners, comfyUsers, files, fileOwners),
    ],
    inspectBody: bodyInspection({
      checks: [
        interruptCheck(owners, upstream),
        jobCancelCheck(owners),
        queueControlCheck(settings),
        queueDeleteCheck(owners),
        promptIdCheck({
          owners,
          queued: tracker,
          mayUseClientId: (clientId, subject) => relay.mayUseClientId(clientId, subject),
        }),
        promptQuotaCheck({ limiter, tracker, settings, queuedPromptIds: () => queuedPromptIds(upstream) }),
        // After the local checks, which may refuse without giving a place back: this one takes it.
        ...(shared ? [shared.promptDays.check(settings)] : []),
        promptStampCheck(owners),
      ],
      maxBodyBytes: MAX_INSPECTED_BODY_BYTES,
      budget: bodyBudget,
    }),
    forward: ownSpace.forward,
    relay,
    admin,
    proxies,
    observe,
    logger,
    tls,
  };
  const listener = new GateListener(() => createGateServer(gateServerParts));

  keys.events.on('changed', () => events.emit('change'));
  keys.events.on('firstUse', (id) => {
    const record = keys.get(id);
    if (record !== undefined && !isOwnerKey(record)) events.emit('firstUse', { id, name: record.name });
  });
  // Nothing is lost meanwhile (the last good version stays in force), but changes are refused until it is fixed.
  const warnInvalid = (error: Error) => logger.warn({ err: error }, error.message);
  keys.events.on('invalid', warnInvalid);
  settings.events.on('invalid', warnInvalid);
  closeSocketsOfEndedKeys(keys, relay, logger);
  settings.events.on('change', (current, previous) => {
    lockout.configure(lockoutOptionsOf(current.lockout));
    usage.setRetentionDays(current.retentionDays);
    if (current.trustProxy !== previous.trustProxy) proxies.configure(current.trustProxy);
    if (JSON.stringify(current.logRetention) !== JSON.stringify(previous.logRetention)) {
      requestLog
        .setRetention(logRetentionOf(current.logRetention))
        .catch((error: unknown) => logger.warn({ err: error }, 'could not apply the log retention'));
    }
    if (current.mode === previous.mode) return;
    logger.info({ mode: current.mode }, `protection is now ${current.mode}`);
    if (current.mode === 'required') relay.closeWhere((s) => s.principal === undefined, 'A key is now required');
    events.emit('mode', current.mode);
    events.emit('change');
  });
  upstream.on('reachability', (reachable) => {
    metrics.setUpstreamReachable(reachable);
    if (reachable) comfyUsers.markStale();
    logger.info({ upstream: upstreamUrl, reachable }, reachable ? 'ComfyUI is reachable' : 'ComfyUI is not reachable');
    events.emit('upstream', reachable);
    events.emit('change');
  });
  const usageFlush = setInterval(() => {
    keys.flushUsage().catch((error: unknown) => logger.warn({ err: error }, 'could not save key usage'));
  }, USAGE_FLUSH_MS).unref();

  await listener.listen(config.host, config.port);
  listen.port = listener.port;
  // Only now: a first start that cannot listen (port in use) must not use up the one showing of the first key.
  const initialAdminKey = await createInitialAdminKey(keys).catch(async (error: unknown) => {
    await listener.close().closed;
    throw error;
  });
  void upstream.check();
  const startedAt = new Date().toISOString();
  const runtimeRecord = (): RuntimeRecord => ({
    url: localGateUrl(listen, scheme),
    shareUrl: share().url,
    pid: process.pid,
    version: GATE_VERSION,
    startedAt,
    controlToken,
    ...(tls ? { certificate: tls.cert } : {}),
  });
  const rewriteRuntimeRecord = (): void => {
    writeRuntimeRecord(config.dataDir, runtimeRecord()).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not update gate.runtime.json')
    );
  };
  const findLocalName = (): void => {
    if (!isWildcardHost(listen.host)) return;
    const host = listen.host;
    void resolveLocalName().then((name) => {
      if (name === null || listen.host !== host) return;
      localName = name;
      events.emit('change');
      rewriteRuntimeRecord();
    });
  };
  await writeRuntimeRecord(config.dataDir, runtimeRecord());
  findLocalName();
  shared?.register(share().url, GATE_VERSION);

  async function moveSharing(network: boolean, actor: SharingActor): Promise<SharingReport> {
    const host = listenHostFor(network, config.networkHost);
    const shared = isSharedOnNetwork(listen.host, config.networkHost);
    if (shared === network) return sharingReport();
    const refusal = unprotectedRefusal(settings.current.mode, host);
    if (refusal !== null) throw new GateError('conflict', refusal.charAt(0).toUpperCase() + refusal.slice(1) + '.');
    await listener.moveTo(host).catch((error: unknown) => {
      throw listenRefusal(error, host, listen.port);
    });
    listen.host = host;
    loopbackOnly = isLoopbackBind(host);
    localName = null;
    // Teammates' live connections end with the network; this computer's own windows keep theirs.
    if (!network) relay.closeWhere((s) => !isLoopbackAddress(s.exchange.clientIp), 'Sharing is now this computer only');
    logger.info({ host, port: listen.port }, network ? 'now sharing on the network' : 'now on this computer only');
    audit.record({
      action: 'sharing.changed',
      actorKeyId: actor.keyId,
      clientIp: actor.clientIp,
      details: { network, host },
    });
    // Saved for the next start; the move itself already happened, so a failed save only warns.
    await settings
      .updateStartup({ host })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not save where the gate listens'));
    await writeRuntimeRecord(config.dataDir, runtimeRecord()).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not update gate.runtime.json')
    );
    findLocalName();
    events.emit('sharing', network);
    events.emit('change');
    return sharingReport();
  }

  let stopping: Promise<void> | undefined;
  return {
    get url() {
      return formatUrl(scheme, listen.host, listen.port);
    },
    events,
    initialAdminKey,
    get state(): GateState {
      return {
        url: formatUrl(scheme, listen.host, listen.port),
        tls: tlsSummary,
        listen: { ...listen },
        network: isSharedOnNetwork(listen.host, config.networkHost),
        mode: settings.current.mode,
        paused: pause.paused,
        upstream: { url: upstreamUrl, reachable: upstream.reachable },
        share: share(),
        openSockets: relay.openCount,
        keys: keys.list().length,
        requestsToday: usage.query({ from: localDate(Date.now()), to: localDate(Date.now()) }).totals.requests,
        notifications: settings.current.notifications,
      };
    },
    async setMode(mode) {
      await settings.update({ mode });
    },
    setPaused(paused) {
      if (pause.paused === paused) return;
      pause.paused = paused;
      if (paused) relay.closeWhere((s) => !isLoopbackAddress(s.exchange.clientIp), 'Sharing is paused');
      logger.info({ paused }, paused ? 'sharing paused' : 'sharing resumed');
      events.emit('paused', paused);
      events.emit('change');
    },
    setSharing(network) {
      return setSharing(network, { keyId: null, clientIp: null });
    },
    ownerSession: () => ownerSession(keys, tokens),
    stop() {
      stopping ??= (async () => {
        clearInterval(usageFlush);
        logStream.close();
        await removeRuntimeRecord(config.dataDir);
        await shutdown(listener, relay, upstream, config.shutdownGraceMs);
        await spaces.settle();
        // close() saves pending key usage; over an unusable keys.json it cannot, and the rest must close all the same.
        const keysClosed = keys
          .close()
          .catch((error: unknown) => logger.warn({ err: error }, 'could not save key usage'));
        await Promise.all([
          keysClosed,
          settings.close(),
          signedOut.close(),
          usage.close(),
          requestLog.close(),
          audit.close(),
          fileOwners.close(),
        ]);
        await shared?.close();
      })();
      return stopping;
    },
  };
}

/** With an empty key store, an admin key to get in with; shown once, stored only as a hash. */
async function createInitialAdminKey(keys: KeyStore): Promise<string | undefined> {
  if (keys.list().length > 0) return undefined;
  const { key } = await keys.create({ name: 'Admin (created at first start)', role: 'admin' });
  return key;
}

async function resolveUpstream(config: GateConfig, logger: Logger): Promise<string> {
  if (config.upstream) return config.upstream;
  const { url, found } = await discoverUpstream();
  if (found) logger.info({ upstream: url }, `found ComfyUI at ${url}`);
  else
    logger.warn({ upstream: url }, `ComfyUI did not answer on 127.0.0.1:8188 or :8000; using ${url} until it starts`);
  return url;
}

/** Why the listener could not move, in the words `serve` uses for the same failures. */
function listenRefusal(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new GateError('conflict', `Port ${port} on ${host} is already in use.`);
  if (code === 'EADDRNOTAVAIL') return new GateError('conflict', `Cannot listen on ${host}: no such address here.`);
  if (code === 'EACCES') return new GateError('conflict', `Not allowed to listen on ${host}:${port}.`);
  return error;
}

function formatUrl(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stop accepting, let in-flight requests finish within the grace, close sockets, then the pool. */
async function shutdown(listener: GateListener, relay: WsRelay, upstream: Upstream, graceMs: number): Promise<void> {
  const { closed, closeAllConnections } = listener.close();
  await relay.closeAll(graceMs);
  const timer = setTimeout(closeAllConnections, graceMs).unref();
  await closed;
  clearTimeout(timer);
  await upstream.close();
}
