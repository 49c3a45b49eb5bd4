/**
 * `bioseal eval federated`: trains a face classifier across simulated
 * clients, some of them poisoning their updates, and reports clean accuracy
 * and attack success per round for one aggregation rule (src/federated/).
 * Face embeddings are computed once per run, in memory, with the default
 * face engine; `--synthetic` uses generated embeddings instead of images.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../errors.js';
import type { OptionsSpec } from '../command.js';
import type { Output } from '../output.js';

/** The options `eval federated` adds to `eval`. */
export const FEDERATED_OPTIONS: OptionsSpec = {
  clients: { type: 'string' },
  'malicious-fraction': { type: 'string' },
  rule: { type: 'string' },
  rounds: { type: 'string' },
  dataset: { type: 'string' },
  synthetic: { type: 'boolean' },
  seed: { type: 'string' },
  attack: { type: 'string' },
  'attack-from': { type: 'string' },
  'persons-per-client': { type: 'string' },
  participation: { type: 'string' },
  'local-epochs': { type: 'string' },
  'learning-rate': { type: 'string' },
  clip: { type: 'string' },
  'noise-multiplier': { type: 'string' },
  delta: { type: 'string' },
  trim: { type: 'string' },
  byzantine: { type: 'string' },
  'krum-select': { type: 'string' },
  'norm-bound': { type: 'string' },
  'krum-filter': { type: 'boolean' },
  bucket: { type: 'string' },
  'center-radius': { type: 'string' },
  'center-iterations': { type: 'string' },
  boost: { type: 'string' },
  'trigger-norm': { type: 'string' },
  'test-per-person': { type: 'string' },
};

/** The `eval federated` part of `bioseal eval --help`. */
export const FEDERATED_HELP = `eval federated trains a softmax classifier on face embeddings across
simulated clients that each hold the photos of a few people, a fraction of
them attacking, and reports clean accuracy and attack success (triggered
faces of other people classified as the target) per round, with the same
run without attackers beside it (docs/FEDERATED.md).
  --dataset DIR           one folder per person (default ../shared/data/orl-faces
                          next to the repository, when it exists)
  --synthetic             generated embeddings instead of images (tests, demos)
  --clients N             simulated clients (default 40)
  --malicious-fraction F  share of attacking clients (default 0.05)
  --attack KIND           backdoor (trigger, boosted: model replacement) or
                          replacement (a model that labels every face as the
                          target) (default backdoor)
  --attack-from R         first round the attackers attack (default 1)
  --rule R                fedavg|median|trimmed-mean|krum|multi-krum|centered-clip|bulyan
                          (default fedavg)
  --trim B                trimmed mean: share cut at each end (default 0.1)
  --byzantine F           f of Krum, Multi-Krum, Bulyan and the Krum filter (default: the actual
                          number of attackers, at least 1)
  --krum-select M         Multi-Krum: updates (bucket means) averaged (default count - F)
  --center-radius T       centered clipping: radius tau (default: the median distance, each iteration)
  --center-iterations L   centered clipping: iterations (default 3)
  --norm-bound median     scale every update down to the round's median update norm before the rule
  --bucket S              average random buckets of S updates, then apply the rule to the bucket means
                          (after --clip and --norm-bound)
  --krum-filter           keep the n - F best Krum-scored updates (bucket means) before the rule
                          (median, trimmed-mean, fedavg, centered-clip)
  --clip C                clip every update to L2 norm C
  --noise-multiplier Z    DP-FedAvg Gaussian noise z*C on the sum (needs fedavg and --clip);
                          reports epsilon for --delta (default 1e-5)
  --rounds K              (default 30)   --participation Q  client sampling rate (default 1)
  --persons-per-client K  (default 2)    --local-epochs E   (default 5)
  --learning-rate LR      (default 1)    --boost G          attackers' scale (default: replace)
  --trigger-norm T        (default 0.5)  --test-per-person N  held out per person (default 3)
  --seed S                (default 1): the same seed gives the same figures`;

const DEFAULTS = { clients: 40, maliciousFraction: 0.05, rounds: 30, seed: 1, personsPerClient: 2, localEpochs: 5, learningRate: 1, testPerPerson: 3, trim: 0.1, triggerNorm: 0.5, delta: 1e-5 };

/** ../shared/data/orl-faces beside the repository (dist/src/cli/commands/ is four levels down). */
function defaultDataset(): string | undefined {
  const dir = fileURLToPath(new URL('../../../../../shared/data/orl-faces', import.meta.url));
  return existsSync(dir) ? dir : undefined;
}

export async function evalFederated(positionals: readonly string[], values: Record<string, unknown>, out: Output): Promise<number> {
  if (positionals.length) throw new UsageError('eval federated takes no positional arguments (use --dataset DIR)');
  if (values.plot !== undefined && !/\.svg$/i.test(values.plot as string)) throw new UsageError('--plot writes SVG: give a file name ending in .svg');
  const num = (name: string, dflt: number | undefined, check: (v: number) => boolean, what: string): number | undefined => {
    const raw = values[name];
    if (raw === undefined) return dflt;
    const v = Number(raw);
    if (raw === '' || !check(v)) throw new UsageError(`--${name} must be ${what}`);
    return v;
  };
  const posInt = (v: number) => Number.isInteger(v) && v >= 1;
  const pos = (v: number) => Number.isFinite(v) && v > 0;
  const { AGGREGATION_RULES } = await import('../../federated/aggregate.js');
  const { ATTACKS } = await import('../../federated/attacks.js');
  const rule = (values.rule as string | undefined) ?? 'fedavg';
  if (!(AGGREGATION_RULES as readonly string[]).includes(rule)) throw new UsageError(`--rule must be one of ${AGGREGATION_RULES.join(', ')}`);
  const { NORM_BOUNDS } = await import('../../federated/norm-bound.js');
  const normBound = values['norm-bound'] as string | undefined;
  if (normBound !== undefined && !(NORM_BOUNDS as readonly string[]).includes(normBound)) throw new UsageError(`--norm-bound must be one of ${NORM_BOUNDS.join(', ')}`);
  const attack = (values.attack as string | undefined) ?? 'backdoor';
  if (!(ATTACKS as readonly string[]).includes(attack)) throw new UsageError(`--attack must be one of ${ATTACKS.join(', ')}`);
  const clip = num('clip', undefined, pos, 'a positive number');
  const noiseMultiplier = num('noise-multiplier', undefined, pos, 'a positive number');
  if (noiseMultiplier !== undefined && (clip === undefined || rule !== 'fedavg')) throw new UsageError('--noise-multiplier needs --rule fedavg and --clip C (the noise is calibrated to the clipping norm)');
  const bucket = num('bucket', undefined, posInt, 'a positive integer');
  if (noiseMultiplier !== undefined && bucket !== undefined) throw new UsageError('--noise-multiplier cannot be combined with --bucket (the noise is calibrated to single updates)');
  const centerRadius = num('center-radius', undefined, pos, 'a positive number');
  const centerIterations = num('center-iterations', undefined, posInt, 'a positive integer');
  if ((centerRadius !== undefined || centerIterations !== undefined) && rule !== 'centered-clip') throw new UsageError('--center-radius and --center-iterations need --rule centered-clip');
  const options = {
    clients: num('clients', DEFAULTS.clients, posInt, 'a positive integer')!,
    maliciousFraction: num('malicious-fraction', DEFAULTS.maliciousFraction, (v) => v >= 0 && v < 0.5, 'a number in [0, 0.5)')!,
    attack: attack as (typeof ATTACKS)[number],
    rule: rule as (typeof AGGREGATION_RULES)[number],
    rounds: num('rounds', DEFAULTS.rounds, (v) => posInt(v) && v <= 10_000, 'an integer from 1 to 10000')!,
    seed: num('seed', DEFAULTS.seed, (v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32, 'an integer from 0 to 2^32-1')!,
    personsPerClient: num('persons-per-client', DEFAULTS.personsPerClient, posInt, 'a positive integer')!,
    participation: num('participation', 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]')!,
    local: { epochs: num('local-epochs', DEFAULTS.localEpochs, posInt, 'a positive integer')!, learningRate: num('learning-rate', DEFAULTS.learningRate, pos, 'a positive number')!, batchSize: 8, weightDecay: 0.01 },
    serverLearningRate: 1,
    clip,
    noiseMultiplier,
    delta: num('delta', DEFAULTS.delta, (v) => v > 0 && v < 1, 'a number in (0, 1)')!,
    trimFraction: num('trim', DEFAULTS.trim, (v) => v >= 0 && v < 0.5, 'a number in [0, 0.5)')!,
    byzantine: num('byzantine', undefined, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
    select: num('krum-select', undefined, posInt, 'a positive integer'),
    normBound: normBound as (typeof NORM_BOUNDS)[number] | undefined,
    krumFilter: values['krum-filter'] ? true : undefined,
    bucket,
    centeredClipRadius: centerRadius,
    centeredClipIterations: centerIterations,
    maxNorm: 1e6,
    target: 0,
    triggerNorm: num('trigger-norm', DEFAULTS.triggerNorm, pos, 'a positive number')!,
    boost: num('boost', undefined, pos, 'a positive number'),
    attackFrom: num('attack-from', 1, posInt, 'a positive integer')!,
  };
  const testPerPerson = num('test-per-person', DEFAULTS.testPerPerson, posInt, 'a positive integer')!;
  const maxPerPerson = num('max-per-person', 10, posInt, 'a positive integer')!;

  const { seededRandom } = await import('../../eval/metrics.js');
  const { federatedDataFromEmbeddings } = await import('../../federated/face-data.js');
  const progress = !out.json && Boolean(process.stderr.isTTY);
  let source: string;
  let embedder: string;
  let items: { person: string; embedding: Float32Array }[];
  if (values.synthetic) {
    if (values.dataset) throw new UsageError('give either --dataset or --synthetic');
    const { syntheticEmbeddings } = await import('../../federated/synthetic.js');
    items = syntheticEmbeddings({ people: 40, perPerson: 10, dimensions: 128, seed: options.seed }) as typeof items;
    source = 'synthetic';
    embedder = 'synthetic (40 people x 10, 128 dimensions)';
  } else {
    const dir = (values.dataset as string | undefined) ?? defaultDataset();
    if (!dir) throw new UsageError('no dataset: give --dataset DIR (one folder per person) or --synthetic');
    const { listDataset, analyseDataset } = await import('../../eval/face-eval.js');
    const { sharedEmbedder } = await import('../../biometrics/face/shared-embedder.js');
    const { readImageFile } = await import('../../biometrics/face/image.js');
    const people = listDataset(dir, maxPerPerson);
    const engine = await sharedEmbedder();
    const r = await analyseDataset(people, engine, (f) => readImageFile(f), (d, t) => {
      if (progress) process.stderr.write(`\rembedding faces ${d}/${t}`);
    });
    if (progress) process.stderr.write('\n');
    if (r.failures.length) out.info(`${r.failures.length} images not usable (no face, several faces, unreadable)`);
    items = r.images;
    source = dir;
    embedder = engine.name;
  }
  const data = federatedDataFromEmbeddings(items, { testPerPerson, random: seededRandom(options.seed) });
  const { evaluateFederated } = await import('../../federated/simulation.js');
  const report = evaluateFederated(data, options, (stage, round, rounds) => {
    if (progress) process.stderr.write(`\r${stage}: round ${round}/${rounds}   ${round === rounds ? '\n' : ''}`);
  });

  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  out.info(`${data.people.length} people, ${data.train.length} training and ${data.test.length} test embeddings (${embedder}) from ${source}`);
  out.info(`${report.clients} clients with ${options.personsPerClient} people each, ${report.malicious_clients} attacking (${attack}) from round ${options.attackFrom}; rule ${rule}${clip !== undefined ? `, clipping at ${clip}` : ''}${normBound ? `, norms bounded by the ${normBound}` : ''}${bucket !== undefined ? `, buckets of ${bucket}` : ''}${values['krum-filter'] ? ', Krum filter' : ''}${noiseMultiplier ? `, noise multiplier ${noiseMultiplier}` : ''}; ${report.rounds} rounds`);
  const every = Math.max(1, Math.ceil(report.rounds / 10));
  out.info('round  clean accuracy  attack success  clean, no attackers');
  report.per_round.clean_accuracy.forEach((c, i) => {
    if ((i + 1) % every && i !== report.rounds - 1) return;
    out.info(`${String(i + 1).padStart(5)}  ${pct(c).padStart(14)}  ${pct(report.per_round.attack_success[i]!).padStart(14)}  ${pct(report.per_round.clean_accuracy_unattacked[i]!).padStart(19)}`);
  });
  out.info(`final: clean accuracy ${pct(report.clean_accuracy)} (no attackers ${pct(report.clean_accuracy_unattacked)}; plain averaging, no attackers ${pct(report.clean_accuracy_fedavg_unattacked)}), attack success ${pct(report.attack_success)}`);
  if (report.privacy) out.info(`privacy: (epsilon ${report.privacy.epsilon.toFixed(2)}, delta ${report.privacy.delta}) per client after ${report.rounds} rounds (${report.privacy.accountant}, order ${report.privacy.order})`);
  if (values.plot) {
    const { roundsSvg } = await import('../../federated/round-plot.js');
    const { writeFileAtomic } = await import('../../util/atomic-file.js');
    const svg = roundsSvg(report, `federated, ${rule}${normBound ? ` + ${normBound} norm bound` : ''}${bucket !== undefined ? ` + buckets of ${bucket}` : ''}${values['krum-filter'] ? ' + Krum filter' : ''}: ${report.malicious_clients} of ${report.clients} clients attacking (${attack})`);
    await writeFileAtomic(values.plot as string, async (h) => void (await h.writeFile(svg)), { overwrite: true });
    out.info(`per-round chart written to ${values.plot}`);
  }
  out.result({
    ...report,
    ...(report.privacy ? { epsilon: report.privacy.epsilon, delta: report.privacy.delta } : {}),
    dataset: source,
    embedder,
  });
  return 0;
}
