/**
 * \`bioseal audit show|verify|head\`: reads the audit log through the audit
 * library. A tampered log is reported finding by finding and exits with
 * E_TAMPERED (4); --json puts the findings inside the error document.
 */
import { readFileSync } from 'node:fs';
import { openAuditLog, parseSince, parseTreeHeadJson, treeHeadToJson, type AuditEntry, type AuditFinding, type AuditLog, type TreeHeadJson } from '../../audit/index.js';
import { biosealHomePath } from '../../home.js';
import { TamperedError, UsageError } from '../../errors.js';
import { describeFsError } from '../../util/atomic-file.js';
import { exitCodeFor } from '../exit-codes.js';
import type { Command } from '../command.js';
import type { Output } from '../output.js';

/** One line per entry: position, time, type, who, what, the decision and its explanation. */
function entryLine(e: AuditEntry): string {
  const who = [e.actor, e.subject].filter((x) => x !== null).join(' -> ');
  const why = e.reasons.length ? `: ${e.reasons.join('; ')}` : '';
  const decision = e.decision ? ` ${e.decision}${why}` : why ? ` ${why.slice(2)}` : '';
  const details = Object.keys(e.details).length ? `  ${JSON.stringify(e.details)}` : '';
  return `#${e.seq} ${e.time} ${e.type}${who ? ` ${who}` : ''}${decision ? ` |${decision}` : ''}${details}`;
}

function headLine(head: TreeHeadJson): string {
  return `latest signed head: size ${head.size}, root ${head.root}, signed ${head.time}, key ${head.keyId.slice(0, 16)}`;
}

async function openForReading(values: Record<string, unknown>): Promise<AuditLog> {
  const file = values.file as string | undefined;
  return openAuditLog(biosealHomePath(), { readOnly: true, ...(file ? { file } : {}) });
}

async function show(values: Record<string, unknown>, out: Output): Promise<void> {
  const since = values.since === undefined ? undefined : parseSince(values.since as string);
  const log = await openForReading(values);
  try {
    const entries = log.entries(since ? { since } : {});
    for (const e of entries) out.info(entryLine(e));
    if (entries.length === 0) out.info(since ? `no entries since ${since.toISOString()}` : 'no entries');
    let head: TreeHeadJson | undefined;
    try {
      head = log.headJson();
      out.info(headLine(head));
    } catch (error) {
      if (!(error instanceof TamperedError)) throw error;
      out.warn(`${error.message}`);
    }
    out.result({ entries, ...(since ? { since: since.toISOString() } : {}), ...(head ? { head } : {}) });
  } finally {
    log.close();
  }
}

function findingLine(f: AuditFinding): string {
  return `  [${f.kind}] ${f.message}`;
}

async function verify(values: Record<string, unknown>, out: Output): Promise<number | void> {
  let witness;
  if (values.head !== undefined) {
    const file = values.head as string;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw describeFsError(error, file);
    }
    witness = parseTreeHeadJson(text);
  }
  const log = await openForReading(values);
  try {
    const started = performance.now();
    const report = log.verify(witness ? { witness } : {});
    const seconds = (performance.now() - started) / 1000;
    for (const note of report.notes) out.warn(note);
    const latest = report.latest && log.publicKey ? treeHeadToJson(report.latest, log.publicKey) : undefined;
    const summary = {
      entries: report.entries,
      heads: report.heads,
      signedSize: report.signedSize,
      verifiedSize: report.verifiedSize,
      ...(witness ? { witnessSize: witness.head.size } : {}),
      ...(latest ? { head: latest } : {}),
      seconds,
    };
    if (report.ok) {
      out.info(`OK ${log.file}: ${report.entries} entries and ${report.heads} signed heads verified (every leaf, root, signature and consistency proof)${witness ? `; consistent with the saved head of size ${witness.head.size}` : ''}`);
      if (latest) out.info(`${headLine(latest)} (keep a copy elsewhere: bioseal audit head > FILE)`);
      out.result({ ok: true, file: log.file, ...summary });
      return;
    }
    // A tampered log is the command's answer, not a crash: list every finding, then fail with E_TAMPERED.
    const first = report.findings[0]!;
    const message = `the audit log ${log.file} was tampered with: ${report.findings.length} problem(s); first: ${first.message}`;
    if (out.json) {
      const doc = JSON.stringify({ error: { code: 'E_TAMPERED', message, findings: report.findings, ...summary } }, null, 2);
      process.stdout.write(doc + '\n');
    } else {
      for (const f of report.findings) process.stderr.write(findingLine(f) + '\n');
      process.stderr.write(`bioseal: ${message} [E_TAMPERED]\n`);
    }
    return exitCodeFor('E_TAMPERED');
  } finally {
    log.close();
  }
}

async function head(values: Record<string, unknown>): Promise<void> {
  const log = await openForReading(values);
  try {
    // The head document is the output in both modes: it is meant to be saved (bioseal audit head > FILE).
    process.stdout.write(JSON.stringify(log.headJson(), null, 2) + '\n');
  } finally {
    log.close();
  }
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'show or verify the tamper-evident audit log',
  help: `Usage:
  bioseal audit show [--since T] [--file DB] [--json]
  bioseal audit verify [--head FILE] [--file DB] [--json]
  bioseal audit head [--file DB]

The audit log ($BIOSEAL_HOME/audit.db) records every unlock, lock, policy
decision, enrolment change and trust change, hashed into an RFC 6962 Merkle
tree whose heads are signed with the log key ($BIOSEAL_HOME/audit.key).

show     one line per entry with its decision and explanation, then the latest
         signed head
verify   recomputes every leaf and the tree, checks every head's signature and
         root and the consistency between heads, and names each edited,
         deleted, inserted or reordered entry by its position. Exits 0 only
         when the log is intact, 4 (E_TAMPERED) when it is not.
head     prints the latest signed head as JSON. Keep copies elsewhere: a log
         cut short together with its heads, or rewritten and re-signed with a
         new key, can only be caught against a head saved outside it.

Options:
  --since T     only entries appended at or after T: an ISO 8601 time
                (2026-05-01T09:30:00Z) or a duration back from now (90s, 15m, 1h, 7d, 2w)
  --head FILE   also check the log against a head saved earlier (bioseal audit head > FILE)
  --file DB     the audit database (default $BIOSEAL_HOME/audit.db)`,
  options: { since: { type: 'string' }, head: { type: 'string' }, file: { type: 'string' } },
  async run(values, positionals, out) {
    const [action, ...rest] = positionals;
    if (!action || !['show', 'verify', 'head'].includes(action)) throw new UsageError('audit needs show, verify or head (see bioseal audit --help)');
    if (rest.length) throw new UsageError(`audit ${action} takes no further arguments`);
    if (action !== 'show' && values.since !== undefined) throw new UsageError('--since applies to audit show');
    if (action !== 'verify' && values.head !== undefined) throw new UsageError('--head applies to audit verify');
    if (action === 'show') return show(values, out);
    if (action === 'verify') return verify(values, out);
    return head(values);
  },
};
