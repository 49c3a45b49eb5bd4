/**
 * Child process of the daemon benchmark: the load generator, a second
 * process on loopback. It runs autocannon (a devDependency: the parent only
 * starts this child when the package resolves) with the parameters the
 * parent sends over IPC, tells the parent when the load starts, and sends
 * back autocannon's summary and the completion time and status of every
 * response, on the wall clock in milliseconds (performance.timeOrigin +
 * performance.now(), the same clock the parent uses).
 *
 * Messages: in  {url, token, body, connections, durationSeconds}
 *           out {type: 'started', at} then {type: 'done', summary, at: number[], status: number[]}
 *                or {type: 'error', message}
 */

/** What the parent asks for. */
export interface LoadRequest {
  readonly url: string;
  readonly token: string;
  readonly body: string;
  readonly connections: number;
  readonly durationSeconds: number;
}

/** autocannon's figures that the benchmark reports. */
export interface LoadSummary {
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly durationSeconds: number;
}

export type LoadMessage =
  | { readonly type: 'started'; readonly at: number }
  | { readonly type: 'done'; readonly summary: LoadSummary; readonly at: readonly number[]; readonly status: readonly number[] }
  | { readonly type: 'error'; readonly message: string };

/** The part of autocannon's API used here. */
interface Histogram {
  readonly average: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}
interface AutocannonResult {
  readonly requests: Histogram;
  readonly latency: Histogram;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly duration: number;
  readonly statusCodeStats: Readonly<Record<string, { count: number }>>;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number) => void): void;
}
type Autocannon = (opts: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

const now = () => performance.timeOrigin + performance.now();

function send(message: LoadMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

async function run(request: LoadRequest): Promise<void> {
  const name = 'autocannon';
  const autocannon = ((await import(name)) as { default: Autocannon }).default;
  const at: number[] = [];
  const status: number[] = [];
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: request.url,
        method: 'POST',
        connections: request.connections,
        duration: request.durationSeconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${request.token}` },
        body: request.body,
      },
      (error, r) => (error ? reject(error) : resolve(r)),
    );
    instance.on('response', (_client, code) => {
      at.push(now());
      status.push(code);
    });
    void send({ type: 'started', at: now() });
  });
  const summary: LoadSummary = {
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, Number(v.count)])),
    durationSeconds: result.duration,
  };
  await send({ type: 'done', summary, at, status });
}

if (!process.send) {
  process.stderr.write('daemon-load-child.js runs under the daemon benchmark (it needs an IPC channel)\n');
  process.exit(2);
}
process.once('message', (request: LoadRequest) => {
  run(request)
    .catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }))
    .finally(() => process.disconnect());
});
