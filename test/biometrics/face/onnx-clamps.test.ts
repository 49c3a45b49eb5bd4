/**
 * The clamp peephole pass: TF's relu + clip_by_value (Relu, Minimum, Maximum)
 * becomes one Clip that onnxruntime fuses into the convolution before it, and
 * nothing is folded that would change a value or take a tensor from a reader.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { foldClamps, type OnnxNode } from '../../../src/biometrics/face/onnx-clamps.js';

const scalars = new Map([
  ['zero', 0],
  ['six', 6],
  ['minus', -1],
]);
const node = (op: string, inputs: string[], output: string): OnnxNode => ({ op, inputs, outputs: [output] });
const fold = (nodes: OnnxNode[], outputs: string[] = ['y']): string[] => {
  foldClamps(nodes, scalars, new Set(outputs));
  return nodes.map((n) => `${n.op}(${n.inputs.join(',')})->${n.outputs[0]}`);
};

describe('foldClamps', () => {
  test('Relu, Min(6), Max(0) after a convolution become one Clip(0, 6) of the convolution', () => {
    const nodes = [node('Conv', ['x', 'w'], 'c'), node('Relu', ['c'], 'r'), node('Min', ['r', 'six'], 'm'), node('Max', ['m', 'zero'], 'y')];
    assert.deepEqual(fold(nodes), ['Conv(x,w)->c', 'Clip(c,zero,six)->y']);
  });

  test('the other order, and a constant first operand, fold the same way', () => {
    assert.deepEqual(fold([node('Max', ['zero', 'x'], 'm'), node('Min', ['six', 'm'], 'y')]), ['Clip(x,zero,six)->y']);
  });

  test('a Relu is kept when the lower bound is negative (it still clips at 0)', () => {
    const nodes = [node('Relu', ['x'], 'r'), node('Min', ['r', 'six'], 'm'), node('Max', ['m', 'minus'], 'y')];
    assert.deepEqual(fold(nodes), ['Relu(x)->r', 'Clip(r,minus,six)->y']);
  });

  test('a Relu whose output something else reads is kept', () => {
    const nodes = [node('Relu', ['x'], 'r'), node('Min', ['r', 'six'], 'm'), node('Max', ['m', 'zero'], 'y'), node('Add', ['r', 'y'], 'z')];
    assert.deepEqual(fold(nodes, ['z']), ['Relu(x)->r', 'Clip(r,zero,six)->y', 'Add(r,y)->z']);
  });

  test('nothing folds when the intermediate tensor has another reader or is a graph output', () => {
    const shared = [node('Min', ['x', 'six'], 'm'), node('Max', ['m', 'zero'], 'y'), node('Add', ['m', 'y'], 'z')];
    const before = fold(structuredClone(shared), ['z']);
    assert.deepEqual(before, ['Min(x,six)->m', 'Max(m,zero)->y', 'Add(m,y)->z']);
    assert.deepEqual(fold([node('Min', ['x', 'six'], 'm'), node('Max', ['m', 'zero'], 'y')], ['m', 'y']), ['Min(x,six)->m', 'Max(m,zero)->y']);
  });

  test('bounds that cross (lo > hi), or bounds that are tensors, are left as they are', () => {
    assert.deepEqual(fold([node('Min', ['x', 'zero'], 'm'), node('Max', ['m', 'six'], 'y')]), ['Min(x,zero)->m', 'Max(m,six)->y']);
    assert.deepEqual(fold([node('Min', ['x', 'w'], 'm'), node('Max', ['m', 'zero'], 'y')]), ['Min(x,w)->m', 'Max(m,zero)->y']);
    assert.deepEqual(fold([node('Min', ['x', 'six'], 'm'), node('Min', ['m', 'zero'], 'y')]), ['Min(x,six)->m', 'Min(m,zero)->y']);
  });
});
