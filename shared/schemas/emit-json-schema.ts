// `npm run schemas`: writes schemas/<name>.schema.json from the zod schemas.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PUBLISHED_SCHEMAS, jsonSchemaOf } from './json-schema.ts';

const dir = fileURLToPath(new URL('../../schemas/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const name of Object.keys(PUBLISHED_SCHEMAS)) {
  writeFileSync(`${dir}${name}.schema.json`, `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`);
  console.log(`schemas/${name}.schema.json`);
}
