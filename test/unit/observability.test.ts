import { afterEach, describe, expect, it, vi } from 'vitest';
import { observability } from '#shared/runtime/observability.ts';

describe('Function: observability', () => {
  const level = process.env.POWERTOOLS_LOG_LEVEL;
  afterEach(() => {
    process.env.POWERTOOLS_LOG_LEVEL = level;
    vi.restoreAllMocks();
  });

  const written = () => {
    const lines: string[] = [];
    const capture = (chunk: unknown) => (lines.push(String(chunk)), true);
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const)
      vi.spyOn(console, method).mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
    return lines;
  };

  it('says nothing at INFO when an invocation counted no metric (a status read is not a warning)', () => {
    // Prepare
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const { metrics } = observability('probe');
    const lines = written();
    // Act
    metrics.publishStoredMetrics();
    // Assess
    expect(lines.filter((l) => l.includes('No application metrics'))).toEqual([]);
  });

  it('keeps every other warning of Metrics a warning, through the function logger (with its service)', () => {
    // Prepare
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const { metrics } = observability('probe');
    const lines = written();
    // Act: a dimension with an invalid (empty) value is refused with a warning.
    metrics.addDimension('severity', '');
    // Assess
    expect(lines.some((l) => l.includes('"level":"WARN"') && l.includes('killswitch-probe'))).toBe(true);
  });
});
