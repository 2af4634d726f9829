import { runtimeConformance } from './runtime-conformance.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';

runtimeConformance('ProcessRuntime', () => new ProcessRuntime());
