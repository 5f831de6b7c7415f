import { appendFile, writeFile } from 'node:fs/promises';
import type { GateResult } from '../config/report.js';
import { formatNumber } from './gates.js';

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JUnit XML: one test case per task and gate, so CI systems show which gate failed. */
export function renderJunit(
  tasks: Array<{ task: string; gates: GateResult[] }>,
  suite = 'rapidfit-export parity',
): string {
  const cases = tasks.flatMap((task) =>
    task.gates.map((gate) => {
      const name = `${gate.comparison} ${gate.metric} ${gate.op} ${formatNumber(gate.limit)}`;
      const body = gate.passed
        ? ''
        : `<failure message="${xml(`${gate.metric} = ${formatNumber(gate.value)}, limit ${gate.op} ${formatNumber(gate.limit)}`)}"/>`;
      return `    <testcase classname="${xml(task.task)}" name="${xml(name)}">${body}</testcase>`;
    }),
  );
  const failures = tasks.reduce((sum, task) => sum + task.gates.filter((gate) => !gate.passed).length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${xml(suite)}" tests="${cases.length}" failures="${failures}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

export async function writeJunit(file: string, tasks: Array<{ task: string; gates: GateResult[] }>): Promise<void> {
  await writeFile(file, renderJunit(tasks));
}

/** Appends the Markdown report to GitHub Actions' job summary when running there. */
export async function appendStepSummary(markdown: string): Promise<void> {
  const target = process.env.GITHUB_STEP_SUMMARY;
  if (target) await appendFile(target, `${markdown}\n`);
}
