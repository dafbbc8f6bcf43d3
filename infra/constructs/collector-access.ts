import { CfnOutput } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { KillSwitchResources } from './resources.ts';
import { acknowledgeCfnLint } from './acknowledge.ts';

/** Construct id of a program's collector policy (also its output's name). */
const policyId = (programId: string) => `CollectorPolicy${programId.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}`;

/**
 * The kill switch as collectors see it: one managed policy per program, which collector teams
 * attach to their roles. It allows reading that program's items of the ProgramState table (GetItem,
 * Query, limited by `dynamodb:LeadingKeys` to the program id) and decrypting with its key through
 * DynamoDB, and nothing else in the system: a collector of one program cannot read another's state.
 */
export class CollectorAccess extends Construct {
  readonly policies: Readonly<Record<string, ManagedPolicy>>;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources }) {
    super(scope, id);
    const { tables, key, config } = props.resources;
    const policies: Record<string, ManagedPolicy> = {};
    for (const { programId } of config.programs) {
      const policy = new ManagedPolicy(this, policyId(programId), {
        description: `killswitch collectors of ${programId}: read that program's state (the kill switch flag), nothing else`,
        statements: [
          new PolicyStatement({
            sid: 'ReadOwnProgramState',
            actions: ['dynamodb:GetItem', 'dynamodb:Query'],
            resources: [tables.programState.tableArn],
            conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [programId] } },
          }),
          new PolicyStatement({
            sid: 'DecryptProgramState',
            actions: ['kms:Decrypt'],
            resources: [key.keyArn],
            // Only for the ProgramState table: the key also encrypts the ledger, grants and data
            // subjects, which a collector role with broad DynamoDB reads elsewhere must not decrypt.
            conditions: {
              StringEquals: {
                'kms:ViaService': `dynamodb.${config.region}.amazonaws.com`,
                'kms:EncryptionContext:aws:dynamodb:tableName': tables.programState.tableName,
                'kms:EncryptionContext:aws:dynamodb:subscriberId': config.account,
              },
            },
          }),
        ],
      });
      policies[programId] = policy;
      new CfnOutput(this, `${policyId(programId)}Arn`, {
        value: policy.managedPolicyArn,
        description: `Attach to the roles of ${programId}'s collectors: read-only access to its kill switch flag`,
        exportName: `${config.stackPrefix}-CollectorPolicyArn-${programId}`,
      });
    }
    this.policies = policies;
    const tableOutput = new CfnOutput(this, 'ProgramStateTable', {
      value: tables.programState.tableName,
      description: 'tableName for KillSwitchGate',
      exportName: `${config.stackPrefix}-ProgramStateTable`,
    });
    acknowledgeCfnLint(tableOutput, [
      {
        id: 'W6001',
        reason:
          "Collector teams import <prefix>-ProgramStateTable from this stack, beside their program's collector policy; it re-exports the stateful stack's table name, a retained, deletion-protected table that is never replaced, and moving the export would break every collector stack that imports it.",
      },
    ]);
  }
}
