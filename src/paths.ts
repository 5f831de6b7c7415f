import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (holds package.json, python-bridge/ and src/onnx/onnx-ml.proto). Works from src/ and dist/. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BRIDGE_ROOT = join(PACKAGE_ROOT, 'python-bridge');
export const BRIDGE_SOURCE = join(BRIDGE_ROOT, 'src');
export const LOCK_FILE = join(BRIDGE_ROOT, 'requirements.lock');
