import { describe, expect, it } from 'vitest';
import { sampleApp } from '../support/cdk.ts';

/** Asset hashes change with every source edit; the snapshot is about the infrastructure. */
function normalise(template: unknown): unknown {
  return JSON.parse(
    JSON.stringify(template)
      .replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '<asset-hash>$1')
      .replace(/"S3Key":"[^"]+"/g, '"S3Key":"<asset>"'),
  );
}

describe('Snapshot', () => {
  it('matches the reviewed templates', () => {
    const { stateful, stateless } = sampleApp();
    expect(normalise(stateful.toJSON())).toMatchSnapshot('stateful');
    expect(normalise(stateless.toJSON())).toMatchSnapshot('stateless');
  });
});
