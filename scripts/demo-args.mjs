// The arguments `npm run demo` passes to rapidfit-export (shared with the test that runs the demo's job).
import { fixturePath, validationPath } from '../fixtures/models.mjs';

/**
 * The demo's export: the embedded demo model with default options (INT8 auto, default gates) and its
 * own validation texts (RapidFit seed data), as a user would run it.
 */
export function demoArgs(out = 'demo-bundle') {
  return [fixturePath('minilm-3task'), '-o', out, '--samples', validationPath('minilm-3task')];
}
