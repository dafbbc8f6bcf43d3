import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { startFauxqs } from 'fauxqs';
import { AnomalyTrigger } from '#shared/killswitch/trigger.ts';
import { ProgramRegistry } from '#shared/runtime/env.ts';
import { ProgramConfigSchema } from '#shared/schemas/config.ts';
import { AnomalyDetailSchema } from '#shared/schemas/anomaly.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { AnomalyLog, AuditTrail, IncidentLedger, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';
import { DomainEventPublisher } from '#shared/adapters/aws/domain-event-publisher.ts';
import { OperatorAlerts } from '#shared/adapters/aws/operator-alerts.ts';
import { LocalEventBus } from '#local/event-bus.ts';
import { serve } from '#local/http.ts';
import { benchDb, percentile, round } from './support.ts';

/**
 * kill-path: anomalies (one per distinct program) through the anomaly trigger, from hand-off
 * until the state write is acknowledged, against one raw conditional UpdateItem on the same
 * table, interleaved. ratio_p50 = kill-path p50 / raw p50 (target ≤ 1.5).
 */
export async function killPath({ quick }: { quick: boolean }) {
  const programs = quick ? 100 : 1000;
  const db = await benchDb();
  const fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: 'eu-west-1' });
  const bus = new LocalEventBus('111111111111', 'eu-west-1', ['bench-bus']);
  const busServer = await serve(bus.handler());
  try {
    const { topicArn } = fauxqs.createTopic('bench-alerts', { region: 'eu-west-1' });
    const state = new ProgramStateStore(db.doc, db.tables.programState);
    const ledger = new LedgerTable(db.doc, db.tables.ledger);
    const ids = Array.from({ length: programs }, (_, i) => `p${String(i).padStart(5, '0')}`);
    for (const id of ids) {
      await state.register(id, new Date());
      await state.register(`raw-${id}`, new Date());
    }
    let writtenAt = 0;
    const trigger = new AnomalyTrigger({
      programs: new ProgramRegistry(ids.map((programId) => ProgramConfigSchema.parse({ programId, datasetIds: ['d'] }))),
      state,
      incidents: new IncidentLedger(ledger),
      audit: new AuditTrail(ledger),
      anomalies: new AnomalyLog(ledger),
      events: new DomainEventPublisher(new EventBridgeClient({ endpoint: busServer.endpoint }), 'bench-bus'),
      alerts: new OperatorAlerts(new SNSClient({ endpoint: fauxqs.address }), topicArn),
      onStateWritten: () => (writtenAt = performance.now()),
    });
    const raw: number[] = [];
    const kill: number[] = [];
    for (const id of ids) {
      let started = performance.now();
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tables.programState,
          Key: { programId: `raw-${id}`, scope: '*' },
          UpdateExpression: 'SET #s = :paused, #v = #v + :one',
          ConditionExpression: '#s = :active',
          ExpressionAttributeNames: { '#s': 'status', '#v': 'version' },
          ExpressionAttributeValues: { ':paused': 'PAUSED', ':active': 'ACTIVE', ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      raw.push(performance.now() - started);
      const anomaly = AnomalyDetailSchema.parse({
        anomalyId: `a-${id}`,
        programId: id,
        detector: 'bench',
        severity: 'CRITICAL',
        kind: 'access-exposure',
        observedAt: new Date().toISOString(),
        summary: 'bench',
      });
      started = performance.now();
      await trigger.handle(anomaly);
      kill.push(writtenAt - started);
    }
    const stats = (xs: number[]) => ({ p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)) });
    return {
      name: 'kill-path',
      programs,
      killPathMs: stats(kill),
      rawWriteMs: stats(raw),
      ratio_p50: round(percentile(kill, 50) / percentile(raw, 50)),
      target: { ratio_p50: '<= 1.5' },
    };
  } finally {
    await busServer.stop();
    await fauxqs.stop();
    await db.stop();
  }
}
