/**
 * Several ComfyUIs' answers to one read, merged into the one answer a single ComfyUI would give. Pure:
 * each takes the parsed answers of the backends that answered, first listed first.
 */

type Json = Record<string, unknown>;

/** `GET /queue`: every backend's running prompts, then every pending one in priority (`number`) order. */
export function mergeQueues(answers: readonly Json[]): Json {
  const running = answers.flatMap((answer) => listOf(answer['queue_running']));
  const pending = answers
    .flatMap((answer) => listOf(answer['queue_pending']))
    .sort((a, b) => numberOf(a) - numberOf(b));
  return { queue_running: running, queue_pending: pending };
}

/** `GET /prompt`: the work left on all of them. */
export function mergeExecInfo(answers: readonly Json[]): Json {
  return { exec_info: { queue_remaining: sumQueueRemaining(answers.map(queueRemainingOf)) } };
}

export function sumQueueRemaining(counts: readonly number[]): number {
  return counts.reduce((sum, count) => sum + count, 0);
}

/** `exec_info.queue_remaining` of a `/prompt` answer or of a `status` message's `status`. */
export function queueRemainingOf(status: unknown): number {
  if (!isJson(status) || !isJson(status['exec_info'])) return 0;
  const remaining = status['exec_info']['queue_remaining'];
  return typeof remaining === 'number' ? remaining : 0;
}

/**
 * `GET /history[?max_items=N]`: the union, oldest first by when each prompt started (as one ComfyUI keeps
 * them), then the newest N when the caller asked for N (each backend already sent at most its newest N).
 */
export function mergeHistories(answers: readonly Json[], maxItems: number | undefined): Json {
  const entries = answers.flatMap((answer) => Object.entries(answer));
  entries.sort(([, a], [, b]) => startedAt(a) - startedAt(b));
  const kept = maxItems === undefined ? entries : entries.slice(Math.max(0, entries.length - maxItems));
  return Object.fromEntries(kept);
}

/** `GET /object_info`: every node class any backend has; the first listed describes a class they share. */
export function mergeObjectInfo(answers: readonly Json[]): Json {
  const merged: Json = {};
  for (const answer of [...answers].reverse()) Object.assign(merged, answer);
  return merged;
}

/** `GET /system_stats`: the first backend's, with the devices of all of them. */
export function mergeSystemStats(answers: readonly Json[]): Json {
  const [first] = answers;
  if (first === undefined) return {};
  return { ...first, devices: answers.flatMap((answer) => listOf(answer['devices'])) };
}

/** `GET /api/jobs`: every backend's jobs, newest first by creation time, as the jobs API lists them. */
export function mergeJobs(answers: readonly Json[]): Json {
  const jobs = answers.flatMap((answer) => listOf(answer['jobs']));
  jobs.sort((a, b) => createTimeOf(b) - createTimeOf(a));
  return { ...answers[0], jobs };
}

function startedAt(entry: unknown): number {
  if (!isJson(entry) || !isJson(entry['status'])) return 0;
  const messages = listOf(entry['status']['messages']);
  for (const message of messages) {
    if (Array.isArray(message) && isJson(message[1]) && typeof message[1]['timestamp'] === 'number') {
      return message[1]['timestamp'];
    }
  }
  return 0;
}

function createTimeOf(job: unknown): number {
  return isJson(job) && typeof job['create_time'] === 'number' ? job['create_time'] : 0;
}

function numberOf(item: unknown): number {
  return Array.isArray(item) && typeof item[0] === 'number' ? item[0] : 0;
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
