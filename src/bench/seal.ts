/**
 * Benchmark 3: seal throughput and peak memory.
 *
 * Each seal runs in a fresh child process (seal-child.ts), so its peak RSS
 * is the seal's alone. The time is sealModel from a file to a file,
 * including the final fsync of the output (writeFileAtomic). A file 4x
 * smaller is sealed too: if the peak RSS does not grow with the input, the
 * seal streams with constant memory, and a 4 GiB seal stays under the same
 * bound. The 4 GiB figure below is a linear extrapolation from the two
 * measured sizes, not a measurement.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promises as fs } from 'node:fs';
import {
  GIB,
  MIB,
  median,
  round,
  runChild,
  throughput,
  timeIt,
  timing,
  warmPageCache,
  writeRandomFile,
  type BenchContext,
  type Fixture,
  type Timing,
} from './common.js';

/** A 4 GiB seal must stay below this peak RSS. */
export const SEAL_GOAL_MAX_RSS = 256 * MIB;
/** RSS growth between the two sizes still called flat (allocator noise). */
const FLAT_TOLERANCE = 16 * MIB;

interface ChildReport {
  plaintextLength: number;
  sealedLength: number;
  seconds: number;
  idleRssBytes: number;
  resourceUsageMaxRssBytes: number;
  vmHwmBytes: number | null;
}

export interface SealSize extends Timing {
  readonly bytes: number;
  readonly gbPerSecond: number;
  /**
   * Highest peak RSS over the runs: the child's own high-water mark (VmHWM)
   * where the OS gives it, else process.resourceUsage().maxRSS.
   */
  readonly maxRssBytes: number;
  readonly maxRssMiB: number;
  /**
   * process.resourceUsage().maxRSS of the child, as reported. On Linux it is
   * inherited across fork+exec from the bench process's own peak, so it
   * overstates the seal when the bench itself is larger.
   */
  readonly resourceUsageMaxRssBytes: number;
  readonly rssSource: 'VmHWM' | 'resourceUsage';
  /** RSS of the child with everything loaded, before sealing. */
  readonly idleRssBytes: number;
}

export interface SealBench {
  readonly full: SealSize;
  /**
   * The disk alone: writing the same number of bytes from memory to a new
   * file and fsyncing it, as the seal does. The seal cannot beat this.
   */
  readonly plainWriteFsync: Timing & { gbPerSecond: number };
  /** Seal seconds / plain write+fsync seconds (medians). */
  readonly ratioVsPlainWrite: number;
  readonly quarter: SealSize;
  /** Peak RSS of the full-size seal minus that of the quarter-size seal. */
  readonly rssGrowthBytes: number;
  /** True when that growth is within allocator noise (16 MiB). */
  readonly rssFlat: boolean;
  /** Linear extrapolation of peak RSS to a 4 GiB input from the two sizes (growth clamped at 0). */
  readonly projected4GiBRssBytes: number;
  readonly projected4GiBRssMiB: number;
  readonly goal: { maxRssBytesAt4GiB: number; met: boolean };
}

function peak(r: ChildReport): number {
  return r.vmHwmBytes ?? r.resourceUsageMaxRssBytes;
}

async function sealSize(ctx: BenchContext, f: Fixture, input: string, bytes: number, label: string): Promise<SealSize> {
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'seal-child.js');
  const output = path.join(ctx.dir, `seal-out-${label}.bseal`);
  await warmPageCache(input);
  const reports: ChildReport[] = [];
  for (let i = 0; i < ctx.runs; i++) {
    await fs.rm(output, { force: true });
    const r = await runChild(process.execPath, [child, input, output, f.keyFilePath, f.home]);
    const rep = JSON.parse(r.stdout) as ChildReport;
    if (rep.plaintextLength !== bytes) throw new Error('bench: the seal child sealed the wrong length');
    reports.push(rep);
    ctx.log(`seal ${label} run ${i + 1}/${ctx.runs}: ${rep.seconds.toFixed(3)} s, peak RSS ${(peak(rep) / MIB).toFixed(1)} MiB`);
  }
  await fs.rm(output, { force: true });
  const t = throughput(timing(reports.map((r) => r.seconds)), bytes);
  const maxRss = Math.max(...reports.map(peak));
  return {
    bytes,
    ...t,
    maxRssBytes: maxRss,
    maxRssMiB: round(maxRss / MIB, 1),
    resourceUsageMaxRssBytes: Math.max(...reports.map((r) => r.resourceUsageMaxRssBytes)),
    rssSource: reports.every((r) => r.vmHwmBytes !== null) ? 'VmHWM' : 'resourceUsage',
    idleRssBytes: Math.round(median(reports.map((r) => r.idleRssBytes))),
  };
}

/** Writes `bytes` bytes (8 MiB blocks of random data) to a new file and fsyncs it. */
async function writeAndSync(file: string, bytes: number, block: Uint8Array): Promise<void> {
  const h = await fs.open(file, 'w', 0o600);
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(block.length, bytes - done);
      done += (await h.write(block, 0, n, done)).bytesWritten;
    }
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function benchSeal(ctx: BenchContext, f: Fixture): Promise<SealBench> {
  const quarterBytes = Math.floor(f.sizeBytes / 4);
  const quarterPath = path.join(ctx.dir, 'plain-quarter.bin');
  await writeRandomFile(quarterPath, quarterBytes);
  const full = await sealSize(ctx, f, f.plaintextPath, f.sizeBytes, 'full');
  const quarter = await sealSize(ctx, f, quarterPath, quarterBytes, 'quarter');
  await fs.rm(quarterPath, { force: true });

  const block = new Uint8Array(randomBytes(8 * MIB));
  const target = path.join(ctx.dir, 'plain-write.bin');
  const writes: number[] = [];
  for (let i = 0; i < ctx.runs; i++) {
    await fs.rm(target, { force: true });
    writes.push(await timeIt(() => writeAndSync(target, f.sizeBytes, block)));
    ctx.log(`plain write+fsync run ${i + 1}/${ctx.runs}: ${writes.at(-1)!.toFixed(3)} s`);
  }
  await fs.rm(target, { force: true });
  const plainWriteFsync = throughput(timing(writes), f.sizeBytes);

  const growth = full.maxRssBytes - quarter.maxRssBytes;
  const slope = Math.max(0, growth) / Math.max(1, f.sizeBytes - quarterBytes);
  const projected = Math.round(full.maxRssBytes + slope * Math.max(0, 4 * GIB - f.sizeBytes));
  return {
    full,
    plainWriteFsync,
    ratioVsPlainWrite: round(full.medianSeconds / plainWriteFsync.medianSeconds, 3),
    quarter,
    rssGrowthBytes: growth,
    rssFlat: Math.abs(growth) <= FLAT_TOLERANCE,
    projected4GiBRssBytes: projected,
    projected4GiBRssMiB: round(projected / MIB, 1),
    goal: { maxRssBytesAt4GiB: SEAL_GOAL_MAX_RSS, met: projected < SEAL_GOAL_MAX_RSS },
  };
}
