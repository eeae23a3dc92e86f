// Writes schema/strata.schema.json from the config schema. `npm run schema`; a test checks it is current.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configJsonSchema } from '../src/core/config/json-schema.ts';

const target = resolve(import.meta.dirname, '../schema/strata.schema.json');
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
