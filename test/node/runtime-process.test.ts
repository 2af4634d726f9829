import { runtimeConformance } from '../../src/node/runtime/conformance.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';

runtimeConformance('ProcessRuntime', () => new ProcessRuntime());
