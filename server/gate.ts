import { EventEmitter } from 'node:events';
import { createAdminApp } from './admin/adminApp.js';
import { authStep } from './auth/authStep.js';
import { registerBackendMetrics } from './backends/backendMetrics.js';
import { BackendRouter } from './backends/backendRouter.js';
import type { BackendStatus } from './backends/backendStatus.js';
import { singleBackendStatus } from './backends/singleBackendStatus.js';
import { Authenticator } from './auth/authenticator.js';
import { loadOrCreateSecret } from './auth/secretFile.js';
import { SessionTokens } from './auth/sessionTokens.js';
import { SignedOutSessions } from './auth/signedOutSessions.js';
import type { GateConfig } from './config/schema.js';
import { isLimitCode } from './errors.js';
import { GateListener } from './http/gateListener.js';
import { localGateUrl, type ShareAddress } from './net/shareAddress.js';
import type { SharingReport } from './net/sharingSchema.js';
import { SharingSwitch } from './net/sharingSwitch.js';
import { createGateServer } from './http/gateServer.js';
import { newControlToken, runtimeRecordFile } from './runtime/runtimeRecord.js';
import { GATE_VERSION } from './runtime/version.js';
import { TrustedProxies } from './http/trustedProxies.js';
import { KeyStore } from './keys/keyStore.js';
import { BruteForceLockout, lockoutOptionsOf } from './limits/lockout.js';
import { limitStep } from './limits/limitStep.js';
import { reportLockouts } from './limits/lockoutReport.js';
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
import { fetchQueue, queuedPromptIds } from './isolation/comfyQueue.js';
import { fairOrderCheck } from './fairness/fairOrderCheck.js';
import { FairQueue } from './fairness/fairQueue.js';
import { queuePlace } from './fairness/queueSnapshot.js';
import { interruptCheck, jobCancelCheck, queueDeleteCheck } from './isolation/ownPromptChecks.js';
import { promptIdCheck, promptStampCheck } from './isolation/promptIdentity.js';
import { generationCapsCheck } from './limits/generationCapsCheck.js';
import { promptQuotaCheck } from './limits/promptQuotaCheck.js';
import { effectiveShareLimits } from './limits/shareLimits.js';
import { GpuLedger } from './gpu/gpuLedger.js';
import { gpuAccounting } from './gpu/gpuAccounting.js';
import { GpuMeter } from './gpu/gpuMeter.js';
import { gpuQuotaCheck } from './gpu/gpuQuotaCheck.js';
import { queueControlCheck } from './policy/queueControlCheck.js';
import { isLoopbackAddress, pauseStep, type PauseState } from './pipeline/pauseStep.js';
import { announceFirstUse, isOwnerKey, ownerSession, type OwnerSession } from './auth/ownerSession.js';
import { localDate } from './usage/usageAggregator.js';
import { UsageAggregator } from './usage/usageAggregator.js';
import { AuditLog } from './logs/auditLog.js';
import { LogStream } from './logs/logStream.js';
import { logRetentionOf, RequestLog } from './logs/requestLog.js';
import { GateMetrics } from './metrics/gateMetrics.js';
import { silentLogger, type Logger } from './appLog/logger.js';
import { createForwarder } from './proxy/httpForward.js';
import { originStep } from './pipeline/originStep.js';
import { Upstream } from './upstream/upstream.js';
import { discoverUpstream } from './upstream/upstreamDiscovery.js';
import type { AuthMode, NotificationSettings } from './settings/settingsSchema.js';
import { SettingsStore } from './settings/settingsStore.js';
import { SharedState } from './redis/sharedState.js';
import { sharedStateStep } from './redis/sharedStateStep.js';
import { removeStaleFiles } from './store/staleFiles.js';
import { closeKeylessSocketsWhenRequired, closeSocketsOfEndedKeys } from './ws/endedKeySockets.js';
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
  /** With several backends, their URLs separated by commas. */
  upstream: { url: string; reachable: boolean | undefined };
  /** With several backends, each one as its last health check saw it; empty with one. */
  backends: BackendStatus[];
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
  /** With several backends: one of them stopped answering, or answers again (the others may still run). */
  backend: [backend: BackendStatus];
  mode: [mode: AuthMode];
  paused: [paused: boolean];
  /** The listener moved (the sharing switch): true when it is now on the network. */
  sharing: [network: boolean];
  /** A key that had never been used was used (the desktop app's own key is not announced). */
  firstUse: [key: KeyNamed];
  /** An address was locked out after repeated wrong keys, until the time given (ms). */
  lockout: [ip: string, until: number];
  /**
   * A key reached a daily quota (once per key, quota and day): its accepted prompt used up its prompts
   * per day, or a finished prompt took its GPU time to its GPU seconds per day (`limit` in seconds).
   */
  quota: [key: KeyNamed & { limit: number; measure: 'prompts' | 'gpuSeconds' }];
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
  // Before the GPU ledger is seeded from today's usage: with Redis, today's usage of every gate.
  await shared?.usage(usage, () => settings.current.retentionDays);
  if (options.mode && options.mode !== settings.current.mode) await settings.update({ mode: options.mode });

  // Several backends: the gate talks to the backend router as to one ComfyUI; with one, it is never built.
  const backendRouter = await BackendRouter.forConfig(config, logger);
  const upstreamUrl = backendRouter?.url ?? (await resolveUpstream(config, logger));
  const upstreamName = backendRouter?.backends.map((backend) => backend.url).join(', ') ?? upstreamUrl;
  const backendStatuses = async (): Promise<BackendStatus[]> =>
    backendRouter?.statuses() ?? [await singleBackendStatus(upstream.pool, upstreamUrl, config.upstreams?.[0])];
  const upstream = new Upstream({ url: upstreamUrl, connectTimeoutMs: config.connectTimeoutMs });
  const tokens = new SessionTokens(secret, signedOut);
  const lockoutOptions = lockoutOptionsOf(settings.current.lockout);
  const lockout = shared ? shared.lockout(lockoutOptions) : new BruteForceLockout(lockoutOptions);
  const authenticator = new Authenticator(keys, tokens, options.legacyApiKey, lockout);
  const limiter = new RateLimiter();
  const tracker = new PromptTracker();
  // GPU time per subject today: read by the GPU quota, and by the fair order (its cost and start estimates).
  const gpuTime = new GpuLedger();
  gpuTime.seedFromUsage(usage);
  const sharedGpuTime = shared?.gpuTime(gpuTime);
  const fair = new FairQueue({ readQueue: () => fetchQueue(upstream) });
  const owners = new PromptOwners();
  const sharedOwnership = await shared?.ownership({ owners, files: fileOwners, tracker });
  const comfyUsers = new ComfyUsers(upstream);
  const files = new FileAccess(fileOwners, upstream, settings);
  let openSockets = (): number => 0;
  const bodyBudget = new BodyBudget(config.bodyBudgetMb * 1024 * 1024);
  const metrics = new GateMetrics({
    openWebSockets: () => openSockets(),
    bodyBudget,
    queuedPrompts: { counts: () => tracker.counts(), nameOf: (subject) => keys.get(subject)?.name ?? subject },
  });
  if (backendRouter) {
    const backendMetrics = registerBackendMetrics(metrics.registry, () => backendRouter.statuses());
    backendRouter.on('placed', (backend) => backendMetrics.countPlaced(backend.label));
  }
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
  reportLockouts(lockout, {
    audit,
    logger,
    countLockout: () => metrics.countLockout(),
    announce: (ip, until) => events.emit('lockout', ip, until),
  });
  const watchFinished = watchForFinishedPrompts({
    get isEmpty() {
      return tracker.isEmpty && fair.size === 0;
    },
    finish(promptId) {
      tracker.finish(promptId);
      fair.finish(promptId);
    },
  });
  const accountGpu = gpuAccounting({
    ledger: gpuTime,
    usage,
    metrics,
    quotaOf: (subject) => {
      const record = keys.get(subject);
      if (record === undefined || isOwnerKey(record)) return undefined;
      return {
        id: record.id,
        name: record.name,
        limit: effectiveShareLimits(record, settings.current).gpuSecondsPerDay,
      };
    },
    onQuotaReached: (reached) => events.emit('quota', { ...reached, measure: 'gpuSeconds' }),
  });
  const gpuMeter = new GpuMeter({
    upstream,
    logger,
    handshakeTimeoutMs: config.connectTimeoutMs,
    ...(sharedOwnership ? { mayAdopt: (promptId: string) => sharedOwnership.mayMeasure(promptId) } : {}),
    onMeasured: (measurement) => {
      accountGpu(measurement);
      sharedGpuTime?.measured(measurement);
    },
  });
  const relay = new WsRelay({
    upstreamUrl,
    handshakeTimeoutMs: config.upstreamTimeoutMs,
    pingIntervalMs: config.wsPingIntervalMs,
    logger,
    observe,
    onUpstreamText: (frame) => {
      watchFinished(frame);
      gpuMeter.onUpstreamText(frame);
      files.onUpstreamText(frame);
    },
    owners,
    maxPerSubject: () => settings.current.maxWebSocketsPerKey,
  });
  openSockets = () => relay.openCount;
  const listen = { host: config.host, port: config.port };
  const controlToken = newControlToken();
  const startedAt = new Date().toISOString();
  const runtimeRecord = runtimeRecordFile(config.dataDir, logger, () => ({
    url: localGateUrl(listen, scheme),
    shareUrl: sharing.share().url,
    pid: process.pid,
    version: GATE_VERSION,
    startedAt,
    controlToken,
    ...(tls ? { certificate: tls.cert } : {}),
  }));
  const sharing: SharingSwitch = new SharingSwitch({
    listen,
    networkHost: config.networkHost,
    scheme,
    settings,
    listener: { moveTo: (host) => listener.moveTo(host) },
    closeRemoteSockets: (reason) => relay.closeWhere((s) => !isLoopbackAddress(s.exchange.clientIp), reason),
    audit,
    logger,
    rewriteRuntimeRecord: () => runtimeRecord.rewrite(),
    onShareChange: () => events.emit('change'),
    onMoved: (network) => {
      events.emit('sharing', network);
      events.emit('change');
    },
  });
  const pause: PauseState = { paused: false };
  const admin = createAdminApp({
    upstream,
    upstreamName,
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
    share: () => sharing.share(),
    tls: tlsSummary,
    runtime: {
      controlToken,
      reload: () => Promise.all([keys.reload(), settings.reload()]).then(() => undefined),
      sharing: { current: () => sharing.report(), set: (network, actor) => sharing.set(network, actor) },
      backends: backendStatuses,
    },
    openSockets: () => relay.openCount,
    endSession: (claims) => relay.closeWhere((s) => s.principal?.token?.jti === claims.jti, 'Signed out'),
    dashboardDir,
    ...(shared ? { replicas: () => shared.replicaStatuses() } : {}),
    queuePlace: async (subject) => {
      const queue = await fetchQueue(upstream);
      return queue && queuePlace(queue, subject, gpuTime.averagePromptSeconds());
    },
  });
  const proxies = new TrustedProxies(settings.current.trustProxy);
  const spaces = new TeammateSpaces(config.dataDir);
  const accountPrompts = promptAccounting({
    limiter,
    tracker,
    onQuotaReached: (reached) => events.emit('quota', { ...reached, measure: 'prompts' }),
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
        fair.settle(exchange, status, exchange.promptId);
        if (status === 200 && exchange.deletedPrompts) for (const id of exchange.deletedPrompts) fair.finish(id);
        gpuMeter.onResponse(exchange, status);
        shared?.promptDays.settle(exchange, status);
        ownSpace.onResponse(exchange, status);
        fileOwners.onResponse(exchange, status);
      },
    }),
  });
  const gateServerParts = {
    steps: [
      ...(shared ? [sharedStateStep(shared.link)] : []),
      pauseStep(pause),
      originStep(() => sharing.loopbackOnly),
      authStep(authenticator, settings, keys),
      authorizeStep(settings),
      limitStep(limiter, settings, shared?.rateLimits),
      isolationStep(settings, owners, comfyUsers, files, fileOwners, () => gpuTime.averagePromptSeconds()),
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
        generationCapsCheck(settings),
        promptQuotaCheck({ limiter, tracker, settings, queuedPromptIds: () => queuedPromptIds(upstream) }),
        gpuQuotaCheck({ gpu: gpuTime, settings }),
        // After the local checks, which may refuse without giving a place back: this one takes it.
        ...(shared ? [shared.promptDays.check(settings)] : []),
        // After queueControlCheck (which drops a non-manager's front/number) and the refusals: only a prompt that goes on takes a place.
        fairOrderCheck({ fair, settings, gpu: gpuTime }),
        promptStampCheck(owners),
        // Last: only a prompt that goes on takes a queue slot on the other gates.
        ...(sharedOwnership ? [sharedOwnership.queueSlotCheck(settings)] : []),
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
  announceFirstUse(keys, (key) => events.emit('firstUse', key));
  // Nothing is lost meanwhile (the last good version stays in force), but changes are refused until it is fixed.
  const warnInvalid = (error: Error) => logger.warn({ err: error }, error.message);
  keys.events.on('invalid', warnInvalid);
  settings.events.on('invalid', warnInvalid);
  closeSocketsOfEndedKeys(keys, relay, logger);
  closeKeylessSocketsWhenRequired(settings, relay);
  settings.follow('lockout', (value) => lockout.configure(lockoutOptionsOf(value)));
  settings.follow('retentionDays', (days) => usage.setRetentionDays(days));
  settings.follow('trustProxy', (entries) => proxies.configure(entries));
  settings.follow('logRetention', (retention) => requestLog.applyRetention(logRetentionOf(retention)));
  settings.follow('mode', (mode) => {
    logger.info({ mode }, `protection is now ${mode}`);
    events.emit('mode', mode);
    events.emit('change');
  });
  upstream.on('reachability', (reachable) => {
    metrics.setUpstreamReachable(reachable);
    if (reachable) comfyUsers.markStale();
    logger.info({ upstream: upstreamName, reachable }, reachable ? 'ComfyUI is reachable' : 'ComfyUI is not reachable');
    events.emit('upstream', reachable);
    events.emit('change');
  });
  backendRouter?.on('reachability', (backend) => {
    events.emit('backend', backend.status());
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
  // Rebuilds the fair order from the prompts ComfyUI still holds from before a restart.
  void fair.sync();
  // Prompts queued through the gate before a restart carry its owner stamp: the meter adopts them.
  void gpuMeter.checkSoon();
  await runtimeRecord.write();
  sharing.findLocalName();
  shared?.register(sharing.share().url, GATE_VERSION);

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
        network: sharing.network,
        mode: settings.current.mode,
        paused: pause.paused,
        upstream: { url: upstreamName, reachable: upstream.reachable },
        backends: backendRouter?.statuses() ?? [],
        share: sharing.share(),
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
      return sharing.set(network, { keyId: null, clientIp: null });
    },
    ownerSession: () => ownerSession(keys, tokens),
    stop() {
      stopping ??= (async () => {
        clearInterval(usageFlush);
        gpuMeter.close();
        logStream.close();
        await runtimeRecord.remove();
        await shutdown(listener, relay, upstream, config.shutdownGraceMs);
        await backendRouter?.close();
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
  const configured = config.upstreams?.[0]?.url ?? config.upstream;
  if (configured) return configured;
  const { url, found } = await discoverUpstream();
  if (found) logger.info({ upstream: url }, `found ComfyUI at ${url}`);
  else
    logger.warn({ upstream: url }, `ComfyUI did not answer on 127.0.0.1:8188 or :8000; using ${url} until it starts`);
  return url;
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
