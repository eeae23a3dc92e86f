import { z } from 'zod';
import { configSchema } from './schema.ts';

/**
 * The JSON Schema of strata.yaml, generated from the same zod schema that
 * validates it, so editors complete and check the file.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://strata.dev/schema/strata.schema.json', title: 'Strata study config (strata.yaml)' };
}
