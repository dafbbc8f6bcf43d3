import { noticeSettingsOf } from './exposure-notices.ts';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import { AccountRootPrincipal, ArnPrincipal, PolicyDocument, PolicyStatement, Role, type CfnRole, type IRole } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LEDGER_KIND_INDEX } from '#shared/adapters/dynamodb/ledger/keys.ts';
import { KillSwitchFunction } from './killswitch-function.ts';
import { programsVariable, type KillSwitchResources } from './resources.ts';

/** Executions reserved for each operator entry point: people on call can always pause, even while the account's other functions take all its concurrency. */
const OPERATOR_CONCURRENCY = 5;

/** The role name in a role ARN (the last path segment), which is what a session's assumed-role ARN shows. */
export const roleNameOf = (roleArn: string): string => roleArn.split('/').pop()!;

/**
 * The operators role's trust policy. Anyone in the account with sts:AssumeRole on it may assume it,
 * but only under a session name they cannot choose, because the two-person rule compares the person
 * the session name names (shared/domain/identity.ts):
 * - IAM users: the session name and the source identity must be their IAM user name;
 * - sessions of the federation roles listed in `operators.sourceIdentityRoleArns`, which carry a
 *   source identity the identity provider set (and nobody can change within the role chain): the
 *   session name must be that source identity. Only those roles: a role whose trust policy lets its
 *   callers set any source identity would let them pick whose name they act under.
 * IAM Identity Center users do not come through this role: they call killswitch with their
 * permission set's role (`operators.identityCenterRoleArns`), whose session name Identity Center
 * sets to their user name. (Letting them in here too, under their user id, would give one person two
 * names: one could request under the name and approve under the id.)
 */
export function operatorsTrustPolicy(sourceIdentityRoleArns: readonly string[] = []): PolicyDocument {
  const root = new AccountRootPrincipal();
  const statement = (sid: string, actions: string[], conditions: Record<string, Record<string, string | string[]>>) =>
    new PolicyStatement({ sid, principals: [root], actions, conditions });
  return new PolicyDocument({
    statements: [
      statement('IamUsersUnderTheirOwnName', ['sts:AssumeRole', 'sts:SetSourceIdentity'], {
        StringEquals: { 'sts:RoleSessionName': '${aws:username}', 'sts:SourceIdentity': '${aws:username}' },
      }),
      ...(sourceIdentityRoleArns.length
        ? [
            statement('FederatedSessionsUnderTheirSourceIdentity', ['sts:AssumeRole', 'sts:SetSourceIdentity'], {
              ArnEquals: { 'aws:PrincipalArn': [...sourceIdentityRoleArns] },
              Null: { 'aws:SourceIdentity': 'false' },
              StringEquals: { 'sts:RoleSessionName': '${aws:SourceIdentity}' },
            }),
          ]
        : []),
    ],
  });
}

/**
 * Operator control: the operator function behind a Function URL with AWS_IAM auth (the only way to
 * request or approve a resume, because only there does Lambda verify who calls), and a break-glass
 * function that can only pause, invocable directly by the same operators. Operators are sessions of
 * the operators role, or of the IAM Identity Center permission-set roles the configuration lists.
 */
export class OperatorControl extends Construct {
  readonly function: KillSwitchFunction;
  readonly breakGlass: KillSwitchFunction;
  readonly url: FunctionUrl;
  readonly operatorsRole: IRole;
  /** Every role whose sessions are operators. */
  readonly operatorRoleArns: string[];

  constructor(
    scope: Construct,
    id: string,
    props: { readonly resources: KillSwitchResources; readonly grantWorkQueue: IQueue; readonly noticePlanQueue: IQueue },
  ) {
    super(scope, id);
    const { resources } = props;
    const { config } = resources;

    if (config.operators.roleArn) {
      this.operatorsRole = Role.fromRoleArn(this, 'OperatorsRole', config.operators.roleArn, { mutable: false });
    } else {
      const role = new Role(this, 'OperatorsRole', {
        roleName: `${config.stackPrefix}Operators`,
        assumedBy: new AccountRootPrincipal(),
        description: 'killswitch operators: pause, status, two-person resume (session name bound to the person; see the trust policy)',
        maxSessionDuration: Duration.hours(1),
      });
      (role.node.defaultChild as CfnRole).assumeRolePolicyDocument = operatorsTrustPolicy(config.operators.sourceIdentityRoleArns);
      this.operatorsRole = role;
    }
    const operatorsRoleName = config.operators.roleArn ? roleNameOf(config.operators.roleArn) : `${config.stackPrefix}Operators`;
    this.operatorRoleArns = [this.operatorsRole.roleArn, ...config.operators.identityCenterRoleArns];
    const roleNames = [operatorsRoleName, ...config.operators.identityCenterRoleArns.map(roleNameOf)];

    this.function = this.#operatorFunction(
      resources,
      'Operator',
      'functions/operator/handler.ts',
      'killswitch: operator actions (Function URL, verified identity)',
      OPERATOR_CONCURRENCY,
    )
      .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['GetItem', 'Query', 'UpdateItem'])
      .bindLedger(resources.tables.ledger, resources.ledgerAnchors, ['GetItem', 'Query', 'PutItem', 'UpdateItem'], [LEDGER_KIND_INDEX], {
        verify: true,
      })
      .bindNoticeBatches(resources.tables.ledger, ['BatchGetItem'])
      // A dry-run pause counts the grants a revocation would remove.
      .bindTable(resources.tables.grants, 'GRANTS_TABLE', ['Query'])
      // status and incident show count the agents' halt acknowledgements: the counters only, never
      // the per-agent records (collector ids), by partition-key prefix (its key is the tables' DataKey).
      .setEnvironment('ACKS_TABLE', resources.tables.acks.tableName)
      .bindQueue(props.grantWorkQueue, 'GRANT_WORK_QUEUE_URL')
      .bindQueue(props.noticePlanQueue, 'NOTICE_PLAN_QUEUE_URL')
      .setEnvironment('KILLSWITCH_ACCOUNT', config.account)
      .setEnvironment('OPERATOR_ROLES', JSON.stringify(roleNames))
      // `notices show`: an employee's notice rendered again with the settings the senders use.
      .setEnvironment('NOTICE_SETTINGS', JSON.stringify(noticeSettingsOf(config)));
    this.function.role.addToPolicy(
      new PolicyStatement({
        sid: 'CountAcknowledgements',
        actions: ['dynamodb:Query'],
        resources: [resources.tables.acks.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['acked#*', 'seen#*'] } },
      }),
    );
    this.breakGlass = this.#operatorFunction(
      resources,
      'BreakGlass',
      'functions/operator/break-glass.ts',
      'killswitch: break-glass pause (direct invoke, unverified)',
      OPERATOR_CONCURRENCY,
    )
      .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['GetItem', 'UpdateItem'])
      .bindLedger(resources.tables.ledger, resources.ledgerAnchors, ['GetItem', 'PutItem']);
    for (const fn of [this.function, this.breakGlass]) {
      fn.bindBus(resources.domainBus, 'EVENT_BUS_NAME')
        .bindTopic(resources.alertTopic, 'ALERT_TOPIC_ARN')
        .setEnvironment('KILLSWITCH_PROGRAMS', programsVariable(config))
        .addAlarms(resources.alertTopic);
    }

    this.url = this.function.function.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });

    // Resource-based permissions, so the same grants hold for a created or an imported role.
    // lambda:InvokeFunction on the operator function only with lambda:InvokedViaFunctionUrl:
    // nobody can invoke it directly with a forged request context.
    this.operatorRoleArns.forEach((roleArn, i) => {
      const operators = new ArnPrincipal(roleArn);
      const suffix = i === 0 ? '' : String(i);
      this.function.function.addPermission(`OperatorsInvokeUrl${suffix}`, {
        principal: operators,
        action: 'lambda:InvokeFunctionUrl',
        functionUrlAuthType: FunctionUrlAuthType.AWS_IAM,
      });
      this.function.function.addPermission(`OperatorsInvokeViaUrl${suffix}`, {
        principal: operators,
        action: 'lambda:InvokeFunction',
        invokedViaFunctionUrl: true,
      });
      this.breakGlass.function.addPermission(`OperatorsBreakGlass${suffix}`, { principal: operators, action: 'lambda:InvokeFunction' });
    });

    new CfnOutput(this, 'OperatorUrl', { value: this.url.url, description: 'killswitch CLI --url' });
    new CfnOutput(this, 'BreakGlassFunction', {
      value: this.breakGlass.function.functionName,
      description: 'killswitch CLI --break-glass',
    });
    // An output's Description must be a literal string (CloudFormation rejects an intrinsic there): the account from the configuration.
    new CfnOutput(this, 'OperatorsRoleArn', {
      value: this.operatorsRole.roleArn,
      description: `assume with your own identity, e.g. aws sts assume-role --role-session-name <your IAM user name> --source-identity <the same> (account ${config.account})`,
    });
  }

  #operatorFunction(
    resources: KillSwitchResources,
    id: string,
    entry: string,
    description: string,
    reservedConcurrency: number,
  ): KillSwitchFunction {
    return new KillSwitchFunction(this, id, {
      entry,
      description,
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: Duration.seconds(30),
      reservedConcurrency,
    });
  }
}
