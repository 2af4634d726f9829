// GitSource.mergeBase: the default base of `convergit plan`, checked against `git merge-base`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeRepo } from '../support/git-repo.ts';
import { sourceFor } from './helpers.ts';

test('a feature branch and main that both moved on: the commit the feature started from', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    repo.write('a.yaml', 'a: 2\n');
    const fork = repo.commit('fork point');
    repo.git('checkout', '--quiet', '-b', 'feature');
    repo.write('f.yaml', 'f: 1\n');
    const feature = repo.commit('feature work');
    repo.git('checkout', '--quiet', 'main');
    repo.write('m.yaml', 'm: 1\n');
    repo.commit('main work');
    const source = sourceFor(repo.dir);
    assert.is(await source.mergeBase('feature', 'main'), fork);
    assert.is(await source.mergeBase('main', 'feature'), fork);
    assert.is(repo.git('merge-base', 'feature', 'main'), fork);
    // Shas, abbreviated shas and ancestry suffixes work as refs do.
    assert.is(await source.mergeBase(feature.slice(0, 7), 'main~1'), fork);
    // One is an ancestor of the other: that one.
    assert.is(await source.mergeBase('main~2', 'feature'), repo.git('rev-parse', 'main~2'));
    assert.is(await source.mergeBase('main', 'main'), repo.git('rev-parse', 'main'));
  } finally {
    repo.cleanup();
  }
});

test('after the feature is merged, the merge base is the feature\'s tip', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    repo.git('checkout', '--quiet', '-b', 'feature');
    repo.write('f.yaml', 'f: 1\n');
    const feature = repo.commit('feature work');
    repo.git('checkout', '--quiet', 'main');
    repo.write('m.yaml', 'm: 1\n');
    repo.commit('main work');
    repo.git('merge', '--quiet', '--no-ff', '--no-edit', 'feature');
    assert.is(await sourceFor(repo.dir).mergeBase('feature', 'main'), feature);
    assert.is(repo.git('merge-base', 'feature', 'main'), feature);
  } finally {
    repo.cleanup();
  }
});

test('unrelated histories have none: undefined', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    repo.git('checkout', '--quiet', '--orphan', 'other');
    repo.write('o.yaml', 'o: 1\n');
    repo.commit('unrelated');
    assert.is(await sourceFor(repo.dir).mergeBase('other', 'main'), undefined);
  } finally {
    repo.cleanup();
  }
});

test('an unknown ref is a SourceError RefNotFound naming it', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const e = await sourceFor(repo.dir).mergeBase('nope', 'main').catch((err) => err);
    assert.is(e.reason, 'RefNotFound');
    assert.match(e.message, /'nope'/);
  } finally {
    repo.cleanup();
  }
});

test.run();
