/**
 * A peephole pass over the ONNX nodes that tfjs-to-onnx.ts writes.
 */

/** What the pass reads and rewrites of a node. */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
}

/**
 * Rewrites max(min(x, hi), lo) and min(max(x, lo), hi) with scalar bounds
 * (lo <= hi) as Clip(x, lo, hi), absorbing a Relu before them when lo >= 0:
 * TF exports Relu6 and clip_by_value that way (FaceRes: Relu, Minimum,
 * Maximum after every convolution). onnxruntime fuses a Clip into the
 * convolution before it and keeps it in its blocked layout; lone Min and Max
 * run apart, with the tensor reordered before and after. The same values:
 * Clip is exactly min(max(x, lo), hi), and relu(x) = max(x, 0) is absorbed
 * by a lower bound of 0 or more. Only tensors read by the next node alone
 * are folded, so nothing else loses an input.
 */
export function foldClamps(nodes: OnnxNode[], scalars: ReadonlyMap<string, number>, graphOutputs: ReadonlySet<string>): void {
  const producer = new Map<string, OnnxNode>();
  const readers = new Map<string, number>();
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  }
  /** The tensor and the scalar bound (its name and value) of a Min or Max with one scalar operand. */
  const bound = (n: OnnxNode | undefined, op: 'Min' | 'Max'): { x: string; name: string; v: number } | undefined => {
    if (n?.op !== op || n.inputs.length !== 2) return undefined;
    const [a, b] = n.inputs as [string, string];
    if (scalars.has(b) && !scalars.has(a)) return { x: a, name: b, v: scalars.get(b) as number };
    if (scalars.has(a) && !scalars.has(b)) return { x: b, name: a, v: scalars.get(a) as number };
    return undefined;
  };
  const foldable = (t: string): boolean => readers.get(t) === 1 && !graphOutputs.has(t);
  const removed = new Set<OnnxNode>();
  for (const outer of nodes) {
    for (const [outerOp, innerOp] of [['Max', 'Min'], ['Min', 'Max']] as const) {
      const o = bound(outer, outerOp);
      if (!o || !foldable(o.x)) continue;
      const inner = producer.get(o.x);
      const i = bound(inner, innerOp);
      if (!inner || !i || removed.has(inner)) continue;
      const [lo, hi] = outerOp === 'Max' ? [o, i] : [i, o];
      if (!(lo.v <= hi.v)) continue;
      let x = i.x;
      removed.add(inner);
      const relu = producer.get(x);
      if (lo.v >= 0 && relu?.op === 'Relu' && foldable(x) && !removed.has(relu)) {
        removed.add(relu);
        x = relu.inputs[0] as string;
      }
      outer.op = 'Clip';
      outer.inputs = [x, lo.name, hi.name];
      break;
    }
  }
  const kept = nodes.filter((n) => !removed.has(n));
  nodes.splice(0, nodes.length, ...kept);
}
