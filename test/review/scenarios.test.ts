// Golden-file tests of `convergit plan` over the scenario repositories in fixtures/plan-scenarios: each scenario is
// the _base tree on main plus a feature branch (its head/ files over _base, minus `remove`), planned against a
// settled live state of _base on two nodes (or against the merge base), rendered as text, markdown and json.
// UPDATE_FIXTURES=1 rewrites the expected files; review the diff before committing it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { makeRepo } from '../support/git-repo.ts';
import { settledLive } from '../support/simulated-live.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { loadDesired } from '../../src/sync/desired.ts';
import { planRevision, type PlanAgainst } from '../../src/review/plan-revision.ts';
import { exitCodeOf } from '../../src/review/review.ts';
import { renderReport } from '../../src/review/render.ts';
import type { KubeObject } from '../../src/model/object.ts';

const ROOT = 'fixtures/plan-scenarios';
const UPDATE = process.env.UPDATE_FIXTURES === '1';
/** Every file under `dir`, by path relative to it. */
const read = (dir: string): Record<string, string> => Object.fromEntries(
  (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
const nodes = (yaml.loadAll(readFileSync(join(ROOT, 'nodes.yaml'), 'utf8')) as KubeObject[]).filter(Boolean);
const scenarios = readdirSync(ROOT).filter((d) => !d.startsWith('_') && statSync(join(ROOT, d)).isDirectory()).sort();

interface Scenario { description: string; against: 'live' | 'base'; exit: number; remove?: string[] }

for (const name of scenarios) {
  const dir = join(ROOT, name);
  const s = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8')) as Scenario;
  test(`${name}: ${s.description}`, async () => {
    const repo = makeRepo(read(join(ROOT, '_base')), { message: 'base' });
    const data = mkdtempSync(join(tmpdir(), 'convergit-scenario-'));
    try {
      const baseSha = repo.git('rev-parse', 'HEAD');
      repo.git('checkout', '-q', '-b', 'feature');
      for (const f of s.remove ?? []) repo.remove(f);
      if (existsSync(join(dir, 'head'))) for (const [f, text] of Object.entries(read(join(dir, 'head')))) repo.write(f, text);
      const refSha = repo.commit('feature change');
      const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir: data, interval: 0 });
      await source.prepare();
      let against: PlanAgainst = { branch: 'main' };
      if (s.against === 'live') {
        const applied = await loadDesired(await source.read(baseSha), source, {});
        assert.equal(applied.issues.filter((i) => i.severity === 'error'), [], '_base must be valid');
        against = { live: { live: settledLive(applied.objects.map((d) => d.object), nodes), lastApplied: baseSha }, source: 'server', name: 'http://127.0.0.1:7480' };
      }
      const report = await planRevision(source, { ref: 'feature', path: '' }, against);
      assert.is(exitCodeOf(report, true), s.exit, `exit code of ${name}`);
      // Commit ids change with every run; everything else must match the golden files byte for byte.
      const stable = (text: string) => text.replaceAll(refSha, '<ref-sha>').replaceAll(refSha.slice(0, 7), '<ref>')
        .replaceAll(baseSha, '<base-sha>').replaceAll(baseSha.slice(0, 7), '<base>');
      for (const [file, format] of [['expected.txt', 'text'], ['expected.md', 'markdown'], ['expected.json', 'json']] as const) {
        const actual = stable(renderReport(report, format));
        const path = join(dir, file);
        if (UPDATE) writeFileSync(path, actual);
        assert.ok(existsSync(path), `${path} is missing: run UPDATE_FIXTURES=1 npm test, then review it`);
        assert.fixture(actual, readFileSync(path, 'utf8'), `${name}/${file}`);
      }
    } finally {
      repo.cleanup();
      rmSync(data, { recursive: true, force: true });
    }
  });
}

test('every scenario directory has a scenario.json', () => {
  assert.ok(scenarios.length >= 8);
  for (const name of scenarios) assert.ok(existsSync(join(ROOT, name, 'scenario.json')), name);
});

test.run();
