import type { Command } from 'commander';
import { agentSecret } from '../../../../shared/killswitch/enrolment.ts';
import type { CliContext } from '../context.ts';
import { localClientConfig, readLocalState } from '../local-state.ts';
import { CliError, Exit } from '../exit-codes.ts';

const COLLECTOR_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `agents enrol`: the platform team's step when it provisions an endpoint agent. Reads the
 * enrolment master from Secrets Manager with the caller's own AWS credentials (operators' role
 * cannot: only who may provision agents is granted GetSecretValue) and prints the agent's secret,
 * HMAC-SHA256(master, context ‖ collectorId), to install with the agent — never to log.
 */
export function register(program: Command, cli: CliContext): void {
  const agents = program
    .command('agents')
    .description('endpoint agents: enrol one (derive the secret its acknowledgements are signed with)');
  agents
    .command('enrol')
    .description("print an agent's enrolment secret (base64url), derived from the deployment's master secret")
    .argument('<collectorId>', "the agent's id, as it will send it in every acknowledgement (1-128 of A-Z a-z 0-9 . _ : -)")
    .option(
      '--secret-id <arn>',
      'the master secret (stack output AgentEnrolmentSecretArn; env KILLSWITCH_AGENT_SECRET_ID)',
      cli.io.env.KILLSWITCH_AGENT_SECRET_ID,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch agents enrol laptop-4711 --secret-id arn:aws:secretsmanager:eu-west-1:111111111111:secret:…\n  killswitch --local agents enrol laptop-4711',
    )
    .action(async (collectorId: string, o: { secretId?: string }) => {
      if (!COLLECTOR_ID.test(collectorId)) throw new CliError('collectorId: must be 1-128 of A-Z a-z 0-9 . _ : -', Exit.BAD_INPUT);
      const g = cli.globals();
      const local = g.local ? await readLocalState(g.stateDir) : undefined;
      const secretId = o.secretId ?? local?.agentEnrolmentSecretArn;
      if (!secretId) throw new CliError('--secret-id: required (stack output AgentEnrolmentSecretArn), or --local', Exit.BAD_INPUT);
      const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      const client = new SecretsManagerClient(
        local
          ? localClientConfig(local, local.endpoints.secretsmanager)
          : { region: g.region, ...(g.profile ? { profile: g.profile } : {}) },
      );
      let master: string | undefined;
      try {
        master = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
      } catch (error) {
        throw new CliError(`cannot read the enrolment master ${secretId}: ${(error as Error).message}`, Exit.FAILURE);
      }
      if (!master || master.length < 32) throw new CliError(`${secretId}: missing or shorter than 32 characters`, Exit.FAILURE);
      const secret = agentSecret(Buffer.from(master, 'utf8'), collectorId).toString('base64url');
      cli.print(
        { collectorId, secret },
        () => `${collectorId}  ${secret}\n(install it with the agent as ack.secret; it signs this agent's acknowledgements only)`,
      );
    });
}
