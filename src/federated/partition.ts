/**
 * Non-identically distributed client data, split by person: each client
 * holds the examples of only a few people (classes), as a phone holds the
 * photos of its few users. People are dealt to clients in a seeded shuffled
 * cycle (client i gets people i*k .. i*k+k-1, wrapping round), and each
 * person's examples are dealt out among the clients that hold that person.
 */
import { UsageError } from '../errors.js';
import type { UniformSource } from './gaussian-noise.js';

/** Fisher-Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], random: UniformSource): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * Splits `examples` among `clients` clients, `personsPerClient` people each.
 *
 * @throws {UsageError} a client would get no examples, or more people per client than there are people
 */
export function partitionByPerson<T extends { readonly label: number }>(
  examples: readonly T[],
  o: { clients: number; personsPerClient: number; random: UniformSource },
): T[][] {
  const people = [...new Set(examples.map((e) => e.label))].sort((a, b) => a - b);
  const { clients, personsPerClient: k } = o;
  if (!Number.isInteger(clients) || clients < 1) throw new UsageError('the number of clients must be a positive integer');
  if (!Number.isInteger(k) || k < 1 || k > people.length) throw new UsageError(`people per client must be an integer from 1 to ${people.length}`);
  const cycle = shuffled(people, o.random);
  const holders = new Map<number, number[]>(people.map((p) => [p, []]));
  for (let c = 0; c < clients; c++) {
    for (let r = 0; r < k; r++) holders.get(cycle[(c * k + r) % cycle.length]!)!.push(c);
  }
  const data: T[][] = Array.from({ length: clients }, () => []);
  for (const p of people) {
    const hs = holders.get(p)!;
    if (hs.length === 0) continue; // fewer slots than people: this person stays with no client
    shuffled(examples.filter((e) => e.label === p), o.random).forEach((e, i) => data[hs[i % hs.length]!]!.push(e));
  }
  const empty = data.findIndex((d) => d.length === 0);
  if (empty >= 0) throw new UsageError(`${clients} clients with ${k} people each leaves client ${empty} without examples: use fewer clients or more people per client`);
  return data;
}
