import { App, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Validations } from 'aws-cdk-lib';
import { loadDeploymentConfig, DEFAULT_CONFIG_PATH, type DeploymentConfig } from './config.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';
import { StatelessStack } from './stacks/stateless-stack.ts';

/** Feature flags the app is built with, wherever it is built (CLI, tests, local runtime). */
export const FEATURE_FLAGS = {
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/core:checkSecretUsage': true,
} as const;

export interface KillSwitchApp {
  app: App;
  stateful: StatefulStack;
  stateless: StatelessStack;
}

export interface BuildOptions {
  /** Run the cdk-nag AwsSolutions checks on synth. @default true */
  readonly nag?: boolean;
}

/** Builds the whole system: the CDK CLI, the tests and the local runtime all call this. */
export function buildApp(config: DeploymentConfig, appOrProps: App | AppProps = {}, options: BuildOptions = {}): KillSwitchApp {
  const app = appOrProps instanceof App ? appOrProps : new App({ ...appOrProps, context: { ...FEATURE_FLAGS, ...appOrProps.context } });
  const env = { account: config.account, region: config.region };
  const stateful = new StatefulStack(app, `${config.stackPrefix}-Stateful`, {
    env,
    config,
    description: 'killswitch: state, ledger, keys, topics and bus',
    terminationProtection: true,
  });
  const stateless = new StatelessStack(app, `${config.stackPrefix}-Stateless`, {
    env,
    config,
    stateful,
    description: 'killswitch: functions, rules, queues and alarms',
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stateful, stateless };
}

// Entry point for `cdk synth` / `cdk deploy` (cdk.json runs this file with tsx).
if (import.meta.url === `file://${process.argv[1]}`) {
  const app = new App({ context: FEATURE_FLAGS });
  const configPath = (app.node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_PATH;
  buildApp(loadDeploymentConfig(configPath), app).app.synth();
}
