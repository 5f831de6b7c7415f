import type { ParityReport } from '../config/report.js';
import { comparisonTitle } from '../plan/variants.js';
import { formatNumber } from '../verify/gates.js';
import { isHeadline, type Metrics } from './facts.js';

type Example = Metrics['worst'][number];

/** The texts worth a look for one task and comparison, or one line saying none is (`quiet`). */
export interface WorstSection {
  task: string;
  comparison: string;
  examples: Example[];
  flips: number;
  quiet?: string;
}

const MAX_EXAMPLES = 5;
/** Diffs this many times under their gate say nothing about a text: they are float noise. */
const QUIET_FACTOR = 10;

function maxAbsLimit(task: ParityReport['tasks'][number], comparison: string): number | undefined {
  return task.gates.find((g) => g.comparison === comparison && g.metric === 'maxAbsDiff')?.limit;
}

/** Flipped texts first (they matter), then the largest diffs, at most MAX_EXAMPLES. */
function examplesOf(metrics: Metrics): Example[] {
  const seen = new Set<number>();
  const picked: Example[] = [];
  for (const example of [...(metrics.flips ?? []), ...metrics.worst]) {
    if (seen.has(example.index) || picked.length >= MAX_EXAMPLES) continue;
    if (example.reference === example.candidate && picked.length >= 3) continue;
    seen.add(example.index);
    picked.push(example);
  }
  return picked;
}

function isQuiet(metrics: Metrics, limit: number | undefined): boolean {
  const flipped = (metrics.flips?.length ?? 0) > 0 || metrics.top1Agreement < 1;
  return limit !== undefined && metrics.maxAbsDiff !== null && metrics.maxAbsDiff * QUIET_FACTOR <= limit && !flipped;
}

export function worstSections(report: ParityReport): WorstSection[] {
  const sections: WorstSection[] = [];
  const quiet = new Map<string, { max: number; limit: number; tasks: number }>();
  for (const task of report.tasks) {
    for (const [comparison, metrics] of Object.entries(task.comparisons)) {
      if (!isHeadline(comparison)) continue;
      const limit = maxAbsLimit(task, comparison);
      if (isQuiet(metrics, limit)) {
        const q = quiet.get(comparison) ?? { max: 0, limit: limit!, tasks: 0 };
        quiet.set(comparison, {
          max: Math.max(q.max, metrics.maxAbsDiff!),
          limit: Math.min(q.limit, limit!),
          tasks: q.tasks + 1,
        });
        continue;
      }
      const examples = examplesOf(metrics);
      const flips = examples.filter((e) => e.reference !== e.candidate).length;
      if (examples.length > 0) sections.push({ task: task.task, comparison, examples, flips });
    }
  }
  const lines = [...quiet].map(([comparison, q]) => ({
    task: '',
    comparison,
    examples: [],
    flips: 0,
    quiet: `${comparisonTitle(comparison)}: no examples listed; every diff on ${q.tasks} task${q.tasks === 1 ? '' : 's'} is at most ${formatNumber(q.max)}, ${Math.floor(q.limit / Math.max(q.max, Number.MIN_VALUE))}x under the ${formatNumber(q.limit)} gate, and no top-1 flips.`,
  }));
  return [...lines, ...sections];
}
