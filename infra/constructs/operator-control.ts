import { CfnOutput, Duration } from 'aws-cdk-lib';
import { AccountRootPrincipal, ArnPrincipal, Role, type IRole } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LEDGER_KIND_INDEX } from '#shared/stores/ledger/keys.ts';
import { KillSwitchFunction } from './killswitch-function.ts';
import { programsVariable, type KillSwitchResources } from './resources.ts';

/**
 * Operator control: the operator function behind a Function URL with AWS_IAM auth (the only
 * way to request or approve a resume, because only there does Lambda verify who calls), and a
 * break-glass function that can only pause, invocable directly by the same operators role.
 */
export class OperatorControl extends Construct {
  readonly function: KillSwitchFunction;
  readonly breakGlass: KillSwitchFunction;
  readonly url: FunctionUrl;
  readonly operatorsRole: IRole;

  constructor(
    scope: Construct,
    id: string,
    props: { readonly resources: KillSwitchResources; readonly grantWorkQueue: IQueue; readonly noticePlanQueue: IQueue },
  ) {
    super(scope, id);
    const { resources } = props;
    const { config } = resources;

    this.function = this.#operatorFunction(resources, 'Operator', 'functions/operator/handler.ts', 'killswitch: operator actions (Function URL, verified identity)')
      .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['GetItem', 'Query', 'UpdateItem'])
      .bindTable(resources.tables.ledger, 'LEDGER_TABLE', ['GetItem', 'Query', 'PutItem', 'UpdateItem'], [LEDGER_KIND_INDEX])
      .bindQueue(props.grantWorkQueue, 'GRANT_WORK_QUEUE_URL')
      .bindQueue(props.noticePlanQueue, 'NOTICE_PLAN_QUEUE_URL');
    this.breakGlass = this.#operatorFunction(resources, 'BreakGlass', 'functions/operator/break-glass.ts', 'killswitch: break-glass pause (direct invoke, unverified)')
      .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['GetItem', 'UpdateItem'])
      .bindTable(resources.tables.ledger, 'LEDGER_TABLE', ['GetItem', 'PutItem']);
    for (const fn of [this.function, this.breakGlass]) {
      fn.bindBus(resources.bus, 'EVENT_BUS_NAME')
        .bindTopic(resources.alertTopic, 'ALERT_TOPIC_ARN')
        .setEnvironment('KILLSWITCH_PROGRAMS', programsVariable(config))
        .addAlarms(resources.alertTopic);
    }

    this.url = this.function.function.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });

    this.operatorsRole = config.operators.roleArn
      ? Role.fromRoleArn(this, 'OperatorsRole', config.operators.roleArn, { mutable: false })
      : new Role(this, 'OperatorsRole', {
          assumedBy: new AccountRootPrincipal(),
          description: 'killswitch operators: pause, status, two-person resume (assume with your own session name)',
          maxSessionDuration: Duration.hours(1),
        });
    // Resource-based permissions, so the same grants hold for a created or an imported role.
    // lambda:InvokeFunction on the operator function only with lambda:InvokedViaFunctionUrl:
    // nobody can invoke it directly with a forged request context.
    const operators = new ArnPrincipal(this.operatorsRole.roleArn);
    this.function.function.addPermission('OperatorsInvokeUrl', {
      principal: operators,
      action: 'lambda:InvokeFunctionUrl',
      functionUrlAuthType: FunctionUrlAuthType.AWS_IAM,
    });
    this.function.function.addPermission('OperatorsInvokeViaUrl', {
      principal: operators,
      action: 'lambda:InvokeFunction',
      invokedViaFunctionUrl: true,
    });
    this.breakGlass.function.addPermission('OperatorsBreakGlass', { principal: operators, action: 'lambda:InvokeFunction' });

    new CfnOutput(this, 'OperatorUrl', { value: this.url.url, description: 'killswitch CLI --url' });
    new CfnOutput(this, 'BreakGlassFunction', { value: this.breakGlass.function.functionName, description: 'killswitch CLI --break-glass' });
    new CfnOutput(this, 'OperatorsRoleArn', { value: this.operatorsRole.roleArn });
  }

  #operatorFunction(resources: KillSwitchResources, id: string, entry: string, description: string): KillSwitchFunction {
    return new KillSwitchFunction(this, id, {
      entry,
      description,
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: Duration.seconds(30),
    });
  }
}
