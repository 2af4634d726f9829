// The manifest property tests (test/manifests/property-suite.ts) with many runs: part of `npm run torture`.
// PROPERTY_RUNS sets how many (default 1000); PROPERTY_SEED replays a failure fast-check printed.
import { test } from 'uvu';
import { propertySuite } from '../manifests/property-suite.ts';

propertySuite(test, Number(process.env.PROPERTY_RUNS ?? 1000));
test.run();
