// Writes schemas/kubernetes-<minor>.kinds.json, the built-in kinds of schemas/kubernetes-<minor>.swagger.json
// (src/model/openapi-kinds.ts), which model/kinds.ts reads at start instead of the whole document.
//   npx tsx scripts/update-openapi-kinds.ts [1.32]      (scripts/update-openapi.sh runs it)
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { kindsOfOpenApi } from '../src/model/openapi-kinds.ts';

const minor = process.argv[2] ?? '1.32';
const schemas = new URL('../schemas/', import.meta.url);
const kinds = kindsOfOpenApi(JSON.parse(readFileSync(new URL(`kubernetes-${minor}.swagger.json`, schemas), 'utf8')));
const out = new URL(`kubernetes-${minor}.kinds.json`, schemas);
writeFileSync(new URL(`${out.href}.tmp`), `${openApiKindsJson(kinds)}\n`);
renameSync(new URL(`${out.href}.tmp`), out);
console.log(`wrote ${out.pathname} (${kinds.length} kinds)`);

/** One kind a line: a diff after an update names the kinds that changed. */
function openApiKindsJson(ks: unknown[]): string {
  return `[\n${ks.map((k) => `  ${JSON.stringify(k)}`).join(',\n')}\n]`;
}
