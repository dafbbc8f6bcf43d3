import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { PUBLISHED_SCHEMAS, jsonSchemaOf } from '#shared/schemas/json-schema.ts';

describe('Published JSON Schemas', () => {
  it.each(Object.keys(PUBLISHED_SCHEMAS))('schemas/%s.schema.json is up to date with the zod schema (run npm run schemas)', (name) => {
    const committed = JSON.parse(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), 'utf8'));
    expect(committed).toEqual(jsonSchemaOf(name));
  });

  it('requires the fields detectors must send', () => {
    expect(jsonSchemaOf('anomaly-detected').required).toEqual(
      expect.arrayContaining(['anomalyId', 'programId', 'detector', 'severity', 'kind', 'observedAt', 'summary']),
    );
  });
});
