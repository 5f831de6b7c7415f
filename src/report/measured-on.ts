import type { ParityReport } from '../config/report.js';
import { comparisonTitle } from '../plan/variants.js';

/** Where multihead rows hold another graph's logits (the INT8 search's), and where task graphs were checked against multihead. */
export function measuredOnLines(report: ParityReport): string[] {
  const measured = report.tasks.flatMap((task) =>
    Object.entries(task.comparisons).flatMap(([comparison, metrics]) =>
      metrics.measuredOn ? [{ task: task.task, comparison, on: metrics.measuredOn }] : [],
    ),
  );
  const lines: string[] = [];
  const shared = measured.filter((m) => !m.comparison.startsWith('multihead-'));
  const searched = measured.filter((m) => m.comparison.startsWith('multihead-'));
  for (const graph of new Set(searched.map((s) => s.on.graph))) {
    const rows = searched.filter((s) => s.on.graph === graph);
    const { checkedSamples, standInSamples } = rows[0]!.on;
    const titles = [...new Set(rows.map((s) => `"${comparisonTitle(s.comparison)}"`))].join(', ');
    lines.push(
      `Rows ${titles} hold, on ${standInSamples ?? 'their'} calibration samples, the logits of ${graph}, which computes what the multihead graph does (checked: the multihead graph ran ${checkedSamples} other calibration samples itself, the shortest and the longest, and gave bit-identical logits); it ran every other sample itself.`,
      '',
    );
  }
  if (shared.length > 0) {
    const checked = Math.min(...shared.map((s) => s.on.checkedSamples));
    lines.push(
      `Each task graph ran on ${checked} samples (the shortest and the longest) and gave logits bit-identical to its multihead graph's output there; its rows are that output on every sample.`,
      '',
    );
  }
  return lines;
}
