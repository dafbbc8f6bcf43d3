import { CfnOutput } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { KillSwitchResources } from './resources.ts';

/**
 * The kill switch as collectors see it: a managed policy that collector teams attach to
 * their roles. It allows reading the ProgramState table (GetItem, Query) and decrypting
 * with its key, and nothing else in the system.
 */
export class CollectorAccess extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources }) {
    super(scope, id);
    const { tables, key, config } = props.resources;
    this.policy = new ManagedPolicy(this, 'CollectorPolicy', {
      description: 'killswitch collectors: read the program state (the kill switch flag), nothing else',
      statements: [
        new PolicyStatement({
          sid: 'ReadProgramState',
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [tables.programState.tableArn],
        }),
        new PolicyStatement({
          sid: 'DecryptProgramState',
          actions: ['kms:Decrypt'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${config.region}.amazonaws.com` } },
        }),
      ],
    });
    new CfnOutput(this, 'CollectorPolicyArn', {
      value: this.policy.managedPolicyArn,
      description: 'Attach to collector roles: read-only access to the kill switch flag',
      exportName: `${config.stackPrefix}-CollectorPolicyArn`,
    });
    new CfnOutput(this, 'ProgramStateTable', {
      value: tables.programState.tableName,
      description: 'tableName for KillSwitchGate',
      exportName: `${config.stackPrefix}-ProgramStateTable`,
    });
  }
}
