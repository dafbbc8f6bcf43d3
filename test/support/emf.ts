/* The metrics Powertools printed as CloudWatch embedded metric format (EMF), for tests that check alarms and widgets against them. */

/** A metric as emitted: namespace, name, and its dimensions with their values. */
export interface Emitted {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  /** The sum of the values this record gives the metric (EMF: a number or an array of them). */
  value: number;
  /** The values themselves. */
  values: number[];
}

/** The EMF records in what the functions printed (Powertools writes one JSON object per line). */
export function emittedMetrics(output: string): Emitted[] {
  const out: Emitted[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"CloudWatchMetrics"')) continue;
    let record: Record<string, unknown> & {
      _aws?: { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    for (const directive of record._aws?.CloudWatchMetrics ?? [])
      for (const dimensionSet of directive.Dimensions)
        for (const metric of directive.Metrics)
          out.push({
            namespace: directive.Namespace,
            name: metric.Name,
            dimensions: Object.fromEntries(dimensionSet.map((d) => [d, String(record[d])])),
            values: ([] as unknown[]).concat(record[metric.Name]).map(Number),
            value: ([] as unknown[]).concat(record[metric.Name]).reduce((sum: number, v) => sum + Number(v), 0),
          });
  }
  return out;
}
