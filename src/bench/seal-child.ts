/**
 * Child process of the seal benchmark: seals one file and prints its own
 * figures as JSON on stdout. Running in a fresh process makes its peak RSS
 * (process.resourceUsage().maxRSS) the seal's alone.
 *
 * Usage: node seal-child.js INPUT OUTPUT KEYFILE HOME
 */
import { readFileSync } from 'node:fs';
import { sealModel } from '../operations/seal.js';

/**
 * Peak RSS of this process's own memory: VmHWM from /proc/self/status on
 * Linux. getrusage's maxRSS is not usable alone for a child on Linux: it is
 * carried across fork+exec from the parent's high-water mark, so it reports
 * the larger of the two.
 */
function ownPeakRss(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const [input, output, keyFile, home] = process.argv.slice(2);
if (!input || !output || !keyFile || !home) {
  process.stderr.write('usage: seal-child.js INPUT OUTPUT KEYFILE HOME\n');
  process.exit(2);
}
// Everything is loaded before the clock starts: this RSS is node plus bioseal, idle.
const idleRssBytes = process.memoryUsage().rss;
const t0 = performance.now();
const r = await sealModel({ input, output, policies: ['keyfile'], keyFiles: [keyFile], home, useIdentities: false });
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(
  JSON.stringify({
    plaintextLength: r.plaintextLength,
    sealedLength: r.sealedLength,
    seconds,
    idleRssBytes,
    resourceUsageMaxRssBytes: process.resourceUsage().maxRSS * 1024,
    vmHwmBytes: ownPeakRss(),
  }) + '\n',
);
