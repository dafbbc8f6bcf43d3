import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { TableName } from '#shared/adapters/dynamodb/table-definitions.ts';
import type { DeploymentConfig } from '../config.ts';

/** The stateful resources every capability construct receives, typed. */
export interface KillSwitchResources {
  readonly config: DeploymentConfig;
  readonly key: IKey;
  readonly tables: Readonly<Record<TableName, Table>>;
  readonly alertTopic: ITopic;
  readonly noticeTopic: ITopic;
  /** The detectors' bus: `Anomaly Detected` comes in here. */
  readonly bus: IEventBus;
  /** killswitch's own events (`Kill Switch Engaged`, …): only killswitch's functions may put events here. */
  readonly domainBus: IEventBus;
  readonly logRetention: RetentionDays;
  /** The bucket the ledger's chain heads are exported to (Object Lock, compliance mode): its name, fixed by the configuration. */
  readonly ledgerAnchors: string;
}

/** The programs configuration as the functions read it (`KILLSWITCH_PROGRAMS`). */
export const programsVariable = (config: DeploymentConfig): string => JSON.stringify(config.programs);
