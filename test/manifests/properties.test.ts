// Property-based tests of the manifest loader and the plan (generators in properties.ts). A modest number of runs
// here; `npm run torture` runs many more (test/torture/manifest-properties.long.ts).
import { test } from 'uvu';
import { propertySuite } from './property-suite.ts';

propertySuite(test, Number(process.env.PROPERTY_RUNS ?? 40));
test.run();
