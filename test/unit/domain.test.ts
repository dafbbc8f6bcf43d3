import { describe, expect, it } from 'vitest';
import { decide } from '#shared/domain/policy.ts';
import { incidentIdFor, uuidFor } from '#shared/domain/ids.ts';
import { parseOrThrow, ValidationError } from '#shared/domain/errors.ts';
import { AnomalyEventSchema } from '#shared/schemas/anomaly.ts';
import { OperatorCommandSchema } from '#shared/schemas/operator.ts';
import { IncidentIdSchema } from '#shared/schemas/common.ts';
import { z } from 'zod';
import { anomaly, program } from '../support/fixtures.ts';

describe('Function: decide', () => {
  it('pauses CRITICAL and HIGH and records MEDIUM and LOW by default', () => {
    const p = program();
    expect(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'].map((severity) => decide(p, anomaly({ severity: severity as never })).action)).toEqual([
      'PAUSE',
      'PAUSE',
      'RECORD',
      'RECORD',
    ]);
  });

  it("takes all of the program's datasets when the anomaly names none, and reports unknown ones", () => {
    expect(decide(program(), anomaly({ datasetIds: [] })).datasetIds).toEqual(['keystrokes', 'mouse', 'transcripts']);
    expect(decide(program(), anomaly({ datasetIds: ['mouse', 'payroll', 'mouse'] }))).toMatchObject({
      datasetIds: ['mouse'],
      unknownDatasetIds: ['payroll'],
    });
  });
});

describe('Ids', () => {
  it('derives the same incident id from the same cause, a valid one', () => {
    const at = new Date('2026-11-27T10:00:00Z');
    expect(incidentIdFor('mci/a1', at)).toBe(incidentIdFor('mci/a1', at));
    expect(incidentIdFor('mci/a1', at)).not.toBe(incidentIdFor('mci/a2', at));
    expect(IncidentIdSchema.safeParse(incidentIdFor('mci/a1', at)).success).toBe(true);
  });

  it('derives valid UUIDs from seeds', () => {
    expect(z.uuid().safeParse(uuidFor('alice/k1')).success).toBe(true);
    expect(uuidFor('alice/k1')).toBe(uuidFor('alice/k1'));
  });
});

describe('Validation errors name the field', () => {
  const event = (detail: Record<string, unknown>) => ({
    version: '0',
    id: 'e1',
    source: 'com.example.dlp',
    account: '111111111111',
    time: '2026-11-27T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    'detail-type': 'Anomaly Detected',
    detail,
  });
  const good = { ...anomaly() };

  it.each([
    ['severity', { severity: 'APOCALYPTIC' }, 'detail.severity'],
    ['programId', { programId: 'Not A Slug' }, 'detail.programId'],
    ['observedAt', { observedAt: 'yesterday' }, 'detail.observedAt'],
    [
      'exposure window',
      { exposure: { audience: 'x', window: { start: '2026-11-27T10:00:00Z', end: '2026-11-26T10:00:00Z' } } },
      'detail.exposure.window.end',
    ],
    ['summary control characters', { summary: 'bad\u0007bell' }, 'detail.summary'],
  ])('rejects a bad %s', (_, change, path) => {
    try {
      parseOrThrow(AnomalyEventSchema, event({ ...good, ...change }), 'Anomaly Detected event');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((i) => i.path)).toContain(path);
      expect((error as Error).message).toContain(path);
    }
  });

  it('rejects an unknown operator action', () => {
    expect(() => parseOrThrow(OperatorCommandSchema, { action: 'resume-now', programId: 'mci' }, 'operator command')).toThrow(/action/);
  });

  it('strips unknown and prototype-polluting keys', () => {
    const parsed = parseOrThrow(AnomalyEventSchema, event({ ...good, __proto__: { polluted: true }, extra: 1 }), 'event');
    expect(Object.keys(parsed.detail)).not.toContain('extra');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('Notice types', () => {
  it('accepts notify for every notice type with a template (exposure by default, update, resolved), and nothing else', () => {
    expect(
      parseOrThrow(OperatorCommandSchema, { action: 'notify', incidentId: 'inc-20261127-aaaaaaaaaaaa' }, 'operator command'),
    ).toMatchObject({ noticeType: 'exposure' });
    for (const noticeType of ['update', 'resolved'])
      expect(
        parseOrThrow(OperatorCommandSchema, { action: 'notify', incidentId: 'inc-20261127-aaaaaaaaaaaa', noticeType }, 'operator command'),
      ).toMatchObject({ noticeType });
    expect(() =>
      parseOrThrow(
        OperatorCommandSchema,
        { action: 'notify', incidentId: 'inc-20261127-aaaaaaaaaaaa', noticeType: 'reminder' },
        'operator command',
      ),
    ).toThrow(/noticeType/);
  });
});
