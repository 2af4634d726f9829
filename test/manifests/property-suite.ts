// The property tests themselves, for a given number of runs: registered on a uvu suite by the quick and long runs.
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { damage, fc, filesOf, load, loadValid, mutate, mutation, planOf, textDamage, validRepo, wellPlaced } from './properties.ts';
import { objectKey } from '../../src/model/key.ts';
import { gitKinds } from '../../src/model/kinds.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import { applyPlan } from '../../src/sync/apply.ts';

export function propertySuite(test: Test, runs: number) {
  // The seed is printed, so a run that fails or hangs can be replayed with PROPERTY_SEED.
  const seed = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`  property seed ${seed} (PROPERTY_SEED=${seed} replays this run)`);
  const opts = { numRuns: runs, seed };

  test('valid repositories load with no error and every object', () => {
    fc.assert(fc.property(validRepo, ({ objects, files }) => {
      const loaded = loadValid(filesOf(objects, files));
      assert.is(loaded.length, objects.length);
    }), opts);
  });

  test('a mutated object never crashes the loader, and every issue names its file, line and field', () => {
    fc.assert(fc.property(validRepo, fc.nat(), mutation, ({ objects, files }, which, m) => {
      const i = which % objects.length;
      const input = filesOf(objects.map((o, j) => (j === i ? mutate(o, m) : o)), files);
      const problem = wellPlaced(input, load(input));
      assert.is(problem, undefined, problem);
    }), opts);
  });

  test('damaged YAML text (bytes, truncation, duplicate keys, alias bombs, depth, long keys) never crashes the loader', () => {
    fc.assert(fc.property(validRepo, textDamage, ({ objects, files }, d) => {
      const input = filesOf(objects, files);
      input[0] = { ...input[0], content: damage(input[0].content, d) };
      const r = load(input);
      const problem = wellPlaced(input, r);
      assert.is(problem, undefined, problem);
      if (d.op === 'duplicate-key' || (d.op === 'alias-bomb' && d.levels >= 6)) {
        assert.ok(r.issues.some((i) => i.severity === 'error' && i.file === input[0].path), `${d.op} is refused`);
      }
    }), opts);
  });

  test('the plan of a loaded state against itself is empty', () => {
    fc.assert(fc.property(validRepo, ({ objects, files }) => {
      const desired = loadValid(filesOf(objects, files));
      const plan = planOf({ desired, live: structuredClone(desired), inventory: desired.map(objectKey) });
      assert.equal(plan.steps, []);
      assert.is(plan.unchanged, desired.length);
    }), opts);
  });

  test('apply then plan is empty, from whatever state the store was left in', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convergit-props-'));
    const store = await openStore(dir);
    let inventory: string[] = [];
    try {
      await fc.assert(fc.asyncProperty(validRepo, async ({ objects, files }) => {
        const desired = loadValid(filesOf(objects, files));
        const live = async () => (await Promise.all(gitKinds().map((k) => store.list(k)))).flat();
        const plan = planOf({ desired, live: await live(), inventory });
        await applyPlan(store, plan, 'f'.repeat(40));
        inventory = plan.inventory;
        const again = planOf({ desired, live: await live(), inventory });
        assert.equal(again.steps.map((s) => `${s.action} ${s.key} ${JSON.stringify(s.patch ?? '')}`), [], yaml.dump(desired));
      }), { ...opts, numRuns: Math.max(5, Math.ceil(runs / 4)) });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
