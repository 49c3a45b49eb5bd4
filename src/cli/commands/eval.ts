import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { sharedEmbedder } from '../../biometrics/face/shared-embedder.js';
import type { Command } from '../command.js';
import type { FaceAnalysis } from '../../biometrics/face/embedder.js';
import type { Output } from '../output.js';
import { FEDERATED_HELP, FEDERATED_OPTIONS } from './eval-federated.js';
import { TAKEOVER_HELP, TAKEOVER_OPTIONS } from './eval-takeover.js';

const FMR_TARGETS = [1e-3, 1e-4, 2e-5];

interface DumpRecord {
  person: string;
  file: string;
  ok: boolean;
  embedding?: string;
}

interface EmbeddingDump {
  format: 'bioseal-face-embeddings/1';
  embedder: string;
  records: DumpRecord[];
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate on a dataset: face, liveness, keystroke, takeover, federated',
  help: `Usage: bioseal eval face DATASET_DIR [options]
       bioseal eval liveness DATASET_DIR [--max-per-person N] [--no-recapture] [--json]
       bioseal eval keystroke FILE.csv [--features all|timing] [--plot OUT.svg|OUT.png] [--json]
       bioseal eval takeover [--keystroke FILE.csv] [--faces DIR] [--keystroke-every S] [--face-every S] [--days N] [--trust FILE] [--json]
       bioseal eval federated [--clients N] [--malicious-fraction F] [--rule R] [--rounds K] [--dataset DIR] [--plot OUT.svg] [--json]

DATASET_DIR has one folder per person. Each person is enrolled from their first
--enrol images; every other image of theirs is a genuine comparison and every
image of everyone else an impostor comparison. Prints the EER, FNMR at FMR
1e-3, 1e-4 and 2e-5 (with 95% confidence intervals from resampling people),
how often the protected template gives back the face secret for genuine and
impostor attempts, and whether templates under two seeds can be linked.

Options:
  --enrol N             enrolment images per person (default 5)
  --max-per-person N    use at most N images per person (default 10)
  --embeddings FILE     cache: read embeddings from FILE if it exists, else write them there
  --no-exclude-cohort   also evaluate the people the shipped cohort mean was computed from
  --plot OUT.svg|OUT.png  draw the DET curve
  --json                print the report as JSON

eval liveness reports ISO/IEC 30107-3 figures: BPCER on challenge sequences
built from each person's own photos (frontal then turned; eyes open, closed,
open), and APCER for a still image replayed as video, a mirrored recording of
the turn, a photo that does not respond to the challenge, and recaptured
(shrunk, blurred, re-encoded) images against the passive check.

eval keystroke measures the keystroke detector on a CSV in the MEU-Mobile KSD
layout: each subject enrolled on their first 25 repetitions, genuine = the
rest, impostor = the first 5 of every other subject; mean and pooled EER with
the scaled Manhattan baseline side by side (docs/KEYSTROKE.md).

${FEDERATED_HELP}

${TAKEOVER_HELP}`,
  options: {
    enrol: { type: 'string' },
    'max-per-person': { type: 'string' },
    embeddings: { type: 'string' },
    'no-exclude-cohort': { type: 'boolean' },
    plot: { type: 'string' },
    'no-recapture': { type: 'boolean' },
    features: { type: 'string' },
    ...FEDERATED_OPTIONS,
    ...TAKEOVER_OPTIONS,
  },
  async run(values, positionals, out) {
    const [kind, dir, ...rest] = positionals;
    if (kind === 'liveness') {
      if (!dir || rest.length) throw new UsageError('eval liveness takes one DATASET_DIR');
      return evalLiveness(dir, values, out);
    }
    if (kind === 'federated') return (await import('./eval-federated.js')).evalFederated(positionals.slice(1), values, out);
    if (kind === 'keystroke') return (await import('./eval-keystroke.js')).evalKeystroke(positionals.slice(1), values, out);
    if (kind === 'takeover') return (await import('./eval-takeover.js')).evalTakeover(positionals.slice(1), values, out);
    if (kind !== 'face') throw new UsageError(kind ? `cannot evaluate "${kind}" (this version evaluates: face, liveness, keystroke, federated, takeover)` : 'eval needs a kind: bioseal eval face DATASET_DIR');
    if (!dir || rest.length) throw new UsageError('eval face takes one DATASET_DIR');
    const int = (name: string, dflt: number) => {
      const v = values[name] === undefined ? dflt : Number(values[name]);
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a positive integer`);
      return v;
    };
    const enrol = int('enrol', 5);
    const maxPerPerson = int('max-per-person', 10);
    const { listDataset, analyseDataset, evaluateFaces } = await import('../../eval/face-eval.js');
    const { cohortFor, cohortPeople } = await import('../../biometrics/template/cohort.js');
    const { FACE_TEMPLATE_PARAMS } = await import('../../enrolment/face.js');
    const cache = values.embeddings as string | undefined;
    let embedderName: string;
    let images: { person: string; file: string; embedding: Float32Array }[];
    let failures: { file: string; code: string }[] = [];
    let msPerImage = 0;
    if (cache && existsSync(cache)) {
      const dump = JSON.parse(readFileSync(cache, 'utf8')) as EmbeddingDump;
      embedderName = dump.embedder;
      images = dump.records
        .filter((r) => r.ok && r.embedding)
        .map((r) => {
          const b = Buffer.from(r.embedding!, 'base64');
          return { person: r.person, file: r.file, embedding: new Float32Array(b.buffer, b.byteOffset, b.length / 4).slice() };
        });
      failures = dump.records.filter((r) => !r.ok).map((r) => ({ file: r.file, code: 'cached failure' }));
      out.info(`read ${images.length} embeddings (${embedderName}) from ${cache}`);
    } else {
      const embedder = await sharedEmbedder();
      embedderName = embedder.name;
      const excludeNow = values['no-exclude-cohort'] ? new Set<string>() : new Set(cohortPeople(embedder.name));
      const people = listDataset(dir, maxPerPerson, excludeNow);
      const { readImageFile } = await import('../../biometrics/face/image.js');
      const r = await analyseDataset(people, embedder, (f) => readImageFile(f), (d, t) => {
        if (!out.json && process.stderr.isTTY) process.stderr.write(`\ranalysing ${d}/${t}`);
      });
      if (!out.json && process.stderr.isTTY) process.stderr.write('\n');
      images = r.images;
      failures = r.failures;
      msPerImage = r.msPerImage;
      if (cache) {
        const dump: EmbeddingDump = {
          format: 'bioseal-face-embeddings/1',
          embedder: embedderName,
          records: [
            ...images.map((x) => ({ person: x.person, file: x.file, ok: true, embedding: Buffer.from(x.embedding.buffer, x.embedding.byteOffset, x.embedding.byteLength).toString('base64') })),
            ...failures.map((f) => ({ person: '', file: f.file, ok: false })),
          ],
        };
        writeFileSync(cache, JSON.stringify(dump));
      }
    }
    const exclude = values['no-exclude-cohort'] ? new Set<string>() : new Set(cohortPeople(embedderName));
    const used = images.filter((x) => !exclude.has(x.person));
    const cohort = cohortFor(embedderName);
    const report = await evaluateFaces(used, { enrol, cohort, params: FACE_TEMPLATE_PARAMS, fmrTargets: FMR_TARGETS });
    const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
    out.info(`face model ${embedderName}${msPerImage ? `, ${msPerImage.toFixed(0)} ms per image` : ''}; cohort ${cohort?.id ?? 'none'}${exclude.size ? ` (its ${exclude.size} people excluded)` : ''}`);
    out.info(`${report.people} people enrolled from ${enrol} images each; ${report.images - (images.length - used.length)} images, ${failures.length} not usable (no face, several faces, unreadable)`);
    out.info(`comparisons: ${report.genuine_comparisons} genuine, ${report.impostor_comparisons} impostor`);
    out.info(`EER: ${pct(report.eer)} (95% CI ${pct(report.eer_ci.low)}-${pct(report.eer_ci.high)})`);
    for (const [k, v] of Object.entries(report.fnmr_at_fmr)) {
      const ci = report.fnmr_at_fmr_ci[k]!;
      out.info(`FNMR at FMR ${k}: ${pct(v)} (95% CI ${pct(ci.low)}-${pct(ci.high)})${report.fmr_resolvable[k] ? '' : ' [too few impostor comparisons to resolve this FMR: no false match was seen]'}`);
    }
    out.info(`face secret recovered: ${pct(report.secret_recovery_genuine)} of genuine attempts, ${pct(report.secret_recovery_impostor)} of impostor attempts (${report.secret_recoveries_impostor} of ${report.impostor_comparisons})`);
    out.info(`template: BCH(${(1 << report.template.m) - 1}, t=${report.template.t}) x ${report.template.blocks}, ${report.template.bits} bits, ${report.template.messageBits} message bits`);
    out.info(`unlinkability (share of agreeing template bits): same person under two seeds ${pct(report.unlinkability.same_person_two_seeds)}, different people ${pct(report.unlinkability.different_people)}, same person same seed ${pct(report.unlinkability.same_person_same_seed)}`);
    if (values.plot) {
      const { detSvg, writePlot } = await import('../../eval/det-plot.js');
      await writePlot(values.plot as string, detSvg([{ label: `${embedderName} (EER ${pct(report.eer)})`, scores: report.scores }], `DET: ${dir}`));
      out.info(`DET curve written to ${values.plot}`);
    }
    const { scores: _scores, ...summary } = report;
    out.result({ ...summary, embedder: embedderName, cohort: cohort?.id ?? null, failures: failures.length, ms_per_image: msPerImage, enrol });
  },
};

async function evalLiveness(dir: string, values: Record<string, unknown>, out: Output): Promise<number> {
  const maxPerPerson = values['max-per-person'] === undefined ? 10 : Number(values['max-per-person']);
  if (!Number.isInteger(maxPerPerson) || maxPerPerson < 1) throw new UsageError('--max-per-person must be a positive integer');
  const { listDataset } = await import('../../eval/face-eval.js');
  const { evaluateLiveness } = await import('../../eval/liveness-eval.js');
  const { readImageFile, decodeImage } = await import('../../biometrics/face/image.js');
  const people = listDataset(dir, maxPerPerson);
  const embedder = await sharedEmbedder();
  const analysed: { person: string; frames: FaceAnalysis[] }[] = [];
  const recaptured: FaceAnalysis[] = [];
  const total = people.reduce((s, p) => s + p.images.length, 0);
  let done = 0;
  let failures = 0;
  const recapture = !values['no-recapture'];
  const { default: sharp } = recapture ? await import('sharp') : { default: undefined };
  for (const p of people) {
    const frames: FaceAnalysis[] = [];
    for (const file of p.images) {
      try {
        frames.push(await embedder.analyze(await readImageFile(file)));
        if (sharp) {
          // A recapture: the photo shrunk, blurred and re-encoded, as a camera would see a printed or displayed copy.
          const img = await readImageFile(file);
          const w = Math.max(32, Math.round(img.width / 2));
          const bytes = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
            .resize(w).blur(1.2).resize(img.width, img.height).jpeg({ quality: 45 }).toBuffer();
          try {
            recaptured.push(await embedder.analyze(await decodeImage(new Uint8Array(bytes))));
          } catch {
            // a recapture the detector cannot even find is refused: not an accepted attack
          }
        }
      } catch {
        failures++;
      }
      done++;
      if (!out.json && process.stderr.isTTY) process.stderr.write(`\ranalysing ${done}/${total}`);
    }
    analysed.push({ person: p.id, frames });
  }
  if (!out.json && process.stderr.isTTY) process.stderr.write('\n');
  const r = evaluateLiveness(analysed, recapture ? recaptured : undefined);
  const pct = (x: { rate: number; errors: number; trials: number }) => `${(100 * x.rate).toFixed(2)}% (${x.errors}/${x.trials})`;
  out.info(`face model ${embedder.name}; ${total - failures} images of ${people.length} people (${failures} not usable)`);
  out.info(`BPCER, challenge with passive check: ${pct(r.bpcer)}`);
  for (const [c, v] of Object.entries(r.bpcer_by_challenge)) out.info(`  ${c}: ${pct(v)} (people whose photos cannot show it: ${r.unperformable[c as keyof typeof r.unperformable]})`);
  out.info(`BPCER, passive check alone per image: ${pct(r.bpcer_passive)}`);
  out.info(`APCER, still image replayed as video: ${pct(r.apcer.still_replay)}`);
  out.info(`APCER, mirrored recording of the turn: ${pct(r.apcer.mirrored_turn)}`);
  out.info(`APCER, photo that does not respond: ${pct(r.apcer.no_response)}`);
  if (r.apcer.recapture_passive) out.info(`APCER, recaptured image against the passive check alone: ${pct(r.apcer.recapture_passive)}`);
  out.result({ embedder: embedder.name, people: people.length, images: total - failures, failures, ...r });
  return 0;
}
