import { describe, expect, it } from 'vitest';
import { checkTaskConsistency } from '../../src/config/model-spec.js';
import { parseModelFacts, selectTasks } from '../../src/export/model-spec.js';
import { InputError } from '../../src/errors.js';

const task = {
  name: 'sentiment',
  num_labels: 3,
  id2label: { '0': 'neg', '1': 'neu', '2': 'pos' },
  label2id: { neg: 0, neu: 1, pos: 2 },
  layers: [
    [32, 32],
    [3, 32],
  ] as Array<[number, number]>,
  parameter_count: 1155,
};

const facts = {
  format: 'rapidfit',
  model_dir: '/m',
  weights_file: '/m/task_heads.pt',
  encoder: {
    model_type: 'bert',
    hidden_size: 32,
    num_layers: 2,
    vocab_size: 100,
    max_position_embeddings: 512,
    parameter_count: 1000,
  },
  pooling: 'mean',
  head_config: { hidden_layers: 1, hidden_multiplier: 1, activation: 'gelu', dropout: 0.2 },
  tasks: [task],
  tokenizer_dir: '/m/encoder',
};

describe('task consistency', () => {
  it('accepts a consistent task', () => {
    expect(checkTaskConsistency(task)).toEqual([]);
  });
  it('reports a head whose output size disagrees with the labels', () => {
    const problems = checkTaskConsistency({
      ...task,
      layers: [
        [32, 32],
        [4, 32],
      ],
    });
    expect(problems.join()).toMatch(/head outputs 4 logits but task_num_labels says 3/);
  });
  it('reports id2label and label2id that are not inverse', () => {
    const problems = checkTaskConsistency({ ...task, label2id: { neg: 0, neu: 2, pos: 1 } });
    expect(problems.join()).toMatch(/id2label\[1\] = "neu" but label2id\["neu"\] = 2/);
  });
  it('reports missing ids and a wrong label count', () => {
    expect(checkTaskConsistency({ ...task, id2label: { '0': 'neg', '1': 'neu', '5': 'pos' } }).join()).toMatch(
      /missing ids 2/,
    );
    expect(checkTaskConsistency({ ...task, id2label: { '0': 'neg' }, label2id: { neg: 0 } }).join()).toMatch(
      /id2label has 1 labels/,
    );
  });
  it('reports head layers that do not chain', () => {
    expect(
      checkTaskConsistency({
        ...task,
        layers: [
          [16, 32],
          [3, 32],
        ],
      }).join(),
    ).toMatch(/layer 1 expects 32 inputs, gets 16/);
  });
});

describe('parseModelFacts', () => {
  it('builds a ModelSpec with parameter counts', () => {
    const spec = parseModelFacts(facts, '/m');
    expect(spec.tasks[0]!.name).toBe('sentiment');
    expect(spec.parameterCount).toBe(1000 + 1155);
    expect(spec.pooling).toBe('mean');
  });
  it('names task_heads.pt when labels disagree with the head', () => {
    const bad = { ...facts, tasks: [{ ...task, num_labels: 4 }] };
    expect(() => parseModelFacts(bad, '/m')).toThrow(InputError);
    try {
      parseModelFacts(bad, '/m');
    } catch (error) {
      expect((error as InputError).details.file).toBe('/m/task_heads.pt');
      expect((error as InputError).exitCode).toBe(2);
    }
  });
  it('refuses an unknown pooling and task names unusable as file names', () => {
    expect(() => parseModelFacts({ ...facts, pooling: 'attention' }, '/m')).toThrow(/pooling/);
    expect(() => parseModelFacts({ ...facts, tasks: [{ ...task, name: '../evil' }] }, '/m')).toThrow(/task names/);
  });
  it('selects tasks and refuses unknown ones', () => {
    const spec = parseModelFacts(facts, '/m');
    expect(selectTasks(spec, undefined)).toEqual(['sentiment']);
    expect(() => selectTasks(spec, ['topic'])).toThrow(/unknown task\(s\) topic; the model has sentiment/);
  });
});
