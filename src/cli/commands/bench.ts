import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import type { BenchSection } from '../../bench/index.js';

/** BYTES, or a number with a binary suffix: 512M, 1G, 1GiB, 64k. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--size: "${text}" is not a size (BYTES, or e.g. 256M, 1G)`);
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.round(Number(m[1]) * scale);
  if (!Number.isSafeInteger(bytes) || bytes < 2 ** 20) throw new UsageError('--size must be at least 1 MiB');
  if (bytes > 2 ** 32) throw new UsageError('--size must be at most 4 GiB (open into memory is limited to 4 GiB)');
  return bytes;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure bioseal against its baselines: container, face, factors, daemon, he',
  help: `Usage: bioseal bench [SECTION...] [--size BYTES] [--runs N] [--dir DIR] [--json]

Sections (default: all): container, face, factors, daemon, he.

container: on this machine, in one run and on the same random data:
  1. check of a sealed file vs 'age -d -o /dev/null' of the same data (goal: >= 5x faster)
  2. open into memory vs fs.readFile of the plaintext (goal: <= 1.2x)
  3. seal throughput and peak RSS at SIZE and SIZE/4 (goal: flat, a 4 GiB seal < 256 MiB)
  4. a 128 MB sealed ONNX model to a ready onnxruntime session vs the plain file
     (goal: <= 5% slower), and the key unwrap alone (goal: < 1.7 ms)
Reports the median of N runs. Needs about 3.5x SIZE of free disk in DIR.

face: one 640x480 frame (from a demo photo shipped with face-api) through
detection, landmarks, quality, anti-spoof, liveness and embedding, after
warm-up (goal: <= 50 ms); model load is reported apart.

factors: what each device factor adds to an unlock beyond the person's own
action, against the real software device the bench starts itself: passkey
(assertions from Chromium's virtual authenticator, verified to the slot secret;
goal < 1.7 ms), pkcs11 (SoftHSM2, after its PIN check; goal < 1.7 ms), fido2
(parsing and verifying the tool's answer; no device round trip) and tpm (the
real unseal round trip through swtpm and tpm2-tools).

daemon: a daemon in this process serving sealed MLPs (256-2048x2-10, 19 MB,
and 256-4096x3-10, 139 MB):
  1. per call, interleaved in one run (--rounds rounds on the small model, a
     quarter of them on the large one): onnxruntime session.run directly, the
     daemon's JSON inference step, the same with the policy and trust checks
     (token, Cedar decision, lock re-check, audit entry), and HTTP end to end;
     goal: the checks cost <= 0.5% of throughput (HTTP is reported apart)
  2. 100 clients from a second process (autocannon, a devDependency) for
     --duration seconds: requests/s, p50/p99 latency, errors (goal: none)
  3. the same with POST /v1/lock at half time: every response written after
     the lock answer arrived must be 423

he: encrypted template matching (CKKS, N=8192) on 1024-dimensional
embedding-like unit vectors: the service's 1:1 match on ciphertexts (goal
< 20 ms; device encrypt and decrypt reported apart), a 1:N search over 1,000
packed templates (goal < 1 s), the largest error of a decrypted score
(goal < 1e-4), and key and ciphertext sizes. With --json the keys
match_1to1_ms, search_1000_ms and max_abs_error are also at the top level.

Options:
  --size BYTES   payload size (default 1G; suffixes K, M, G)
  --runs N       timed runs per measurement (default 3)
  --duration S   seconds of each daemon load run (default 60, at most 300)
  --rounds N     daemon per-call rounds side by side (default 2000, 100 to 100000)
  --dir DIR      where to make the temporary directory (default the OS temp dir);
                 it is removed afterwards
  --json         one JSON object with every figure (progress is not shown)`,
  options: {
    size: { type: 'string' },
    runs: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    dir: { type: 'string' },
  },
  async run(values, positionals, out) {
    const { BENCH_SECTIONS } = await import('../../bench/index.js');
    const unknown = positionals.filter((p) => !(BENCH_SECTIONS as readonly string[]).includes(p));
    if (unknown.length) throw new UsageError(`bench: unknown section "${unknown[0]}" (sections: ${BENCH_SECTIONS.join(', ')})`);
    const sizeBytes = values.size === undefined ? undefined : parseSize(values.size as string);
    const durationSeconds = values.duration === undefined ? undefined : Number(values.duration);
    if (durationSeconds !== undefined && !(Number.isInteger(durationSeconds) && durationSeconds >= 1 && durationSeconds <= 300)) throw new UsageError('--duration must be an integer from 1 to 300 (seconds)');
    const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
    if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 100 && rounds <= 100_000)) throw new UsageError('--rounds must be an integer from 100 to 100000');
    let runs: number | undefined;
    if (values.runs !== undefined) {
      runs = Number(values.runs);
      if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new UsageError('--runs must be an integer from 1 to 100');
    }
    // Loaded only when benchmarking, so other commands do not pay for it at start-up.
    const { describeReport, runBench } = await import('../../bench/index.js');
    const report = await runBench({
      sections: positionals as BenchSection[],
      sizeBytes,
      runs,
      durationSeconds,
      rounds,
      dir: values.dir as string | undefined,
      log: out.json ? undefined : (line) => process.stderr.write(`bench: ${line}\n`),
    });
    for (const line of describeReport(report)) out.info(line);
    out.result(report);
  },
};
