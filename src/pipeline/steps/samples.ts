import { InputError } from '../../errors.js';
import { SAMPLE_SEED } from '../../quantize/policy.js';
import { readUserSamples } from '../../samples/user-samples.js';
import { gatesForTask } from '../../verify/gates.js';
import { embeddedSamples, planSamples } from '../../verify/samples.js';
import type { ExportContext, Step } from '../context.js';

/** An accuracy gate needs gold labels for its task in the texts it judges: refused before anything is exported. */
function checkAccuracyGates(c: ExportContext): void {
  const labelled = new Set((c.samples!.gold ?? []).flatMap((labels) => Object.keys(labels ?? {})));
  for (const task of c.tasks) {
    const gates = gatesForTask(task, c.options.fp32Tolerance, c.options.int8Top1, c.options.gates);
    if (gates.some((gate) => gate.metric === 'accuracyDrop') && !labelled.has(task)) {
      throw new InputError(
        `an accuracy_drop gate applies to task "${task}", but no --samples text has a label for it`,
        {
          hint: 'give labelled validation texts with --samples (seed data, .jsonl "labels", or a CSV column per task)',
        },
      );
    }
  }
}

/**
 * The verification texts: the user's --samples (read in any format, labels checked against the
 * model, merged by text) and the embedded texts, split for the INT8 choice (seeded, stratified).
 */
export const readSamples: Step = {
  title: 'Read the samples',
  timing: 'samples',
  async run(c, task) {
    const labelMaps = Object.fromEntries(c.spec!.tasks.map((t) => [t.name, t.label2id]));
    const user =
      c.options.samples.length > 0
        ? await readUserSamples(c.options.samples, {
            labelMaps,
            ...(c.options.textColumn ? { textColumn: c.options.textColumn } : {}),
            ...(c.options.labelColumns ? { labelColumns: c.options.labelColumns } : {}),
          })
        : undefined;
    const tuned = c.options.quantize === 'int8' && c.options.int8 === 'auto';
    c.samples = planSamples({
      seed: SAMPLE_SEED,
      embedded: embeddedSamples(SAMPLE_SEED, c.options.sampleLimit),
      ...(user ? { user } : {}),
      tuned,
    });
    if (tuned && c.samples.splits.calibration === 0) {
      throw new InputError('--int8 auto needs at least two texts: half choose the INT8 graph, half judge it', {
        hint: 'give more texts with --samples, or raise --samples-limit',
      });
    }
    checkAccuracyGates(c);
    const { calibration, judged, embedded } = c.samples.splits;
    task.title = `Read the samples: ${c.samples.source}; ${
      tuned ? `${calibration} to calibrate INT8, ${judged} to judge it` : `${judged} judged`
    }${embedded > 0 ? `, ${embedded} embedded (robustness)` : ''}`;
  },
};
