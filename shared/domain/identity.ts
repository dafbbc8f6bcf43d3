import { PolicyRefusedError } from './errors.ts';
import type { Principal } from '../schemas/common.ts';

/**
 * Which verified identities are operators, and who the person behind each is.
 *
 * The two-person rule compares people, not ARNs. An assumed-role ARN ends in a session name, and
 * whoever assumes a role may pick any session name they like, so `…/KillswitchOperators/alice` and
 * `…/KillswitchOperators/Alice` could be one person. killswitch therefore trusts a session name
 * only on roles whose trust policy binds it to something the caller cannot choose:
 *
 * - the operators role killswitch creates: its trust policy requires the session name to equal the
 *   caller's IAM user name (`${aws:username}`), or, for the federation roles the configuration
 *   lists (`operators.sourceIdentityRoleArns`), the source identity the identity provider set
 *   (`${aws:SourceIdentity}`, which nobody can change within the role chain);
 * - an operators role of your own (`operators.roleArn`), which must have the same conditions;
 * - IAM Identity Center permission-set roles (`operators.identityCenterRoleArns`), whose session
 *   name Identity Center sets to the user's name.
 *
 * The person is that session name, lower-cased (IAM user names are unique regardless of case), and
 * the role does not enter into it: the same person through two roles is one person.
 */
export interface OperatorTrust {
  account: string;
  /** Names of the roles whose sessions are operators (the part after `assumed-role/`). */
  roleNames: readonly string[];
}

const ASSUMED_ROLE = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;

/** The verified principal of an operator request, with the person the two-person rule compares. */
export function operatorPrincipal(verifiedArn: string, trust: OperatorTrust): Principal {
  const m = ASSUMED_ROLE.exec(verifiedArn);
  if (!m) {
    throw new PolicyRefusedError(
      `${verifiedArn} is not a session of an operators role: operators call killswitch through a role session (the operators role or an IAM Identity Center permission set), never as an IAM user or root`,
    );
  }
  const [, account, role, session] = m as unknown as [string, string, string, string];
  if (account !== trust.account || !trust.roleNames.includes(role)) {
    throw new PolicyRefusedError(
      `role ${role} in account ${account} is not an operators role of this deployment (trusted: ${trust.roleNames.join(', ')} in ${trust.account})`,
    );
  }
  return { id: verifiedArn, verified: true, person: session.toLowerCase() };
}

/** Two principals are the same person (for the two-person rule). Unverified principals are nobody. */
export function samePerson(a: Pick<Principal, 'person'> | string | undefined, b: Pick<Principal, 'person'> | string | undefined): boolean {
  const pa = typeof a === 'string' ? a : a?.person;
  const pb = typeof b === 'string' ? b : b?.person;
  return pa !== undefined && pb !== undefined && pa.toLowerCase() === pb.toLowerCase();
}

/** Direct invocation of break-glass carries no verified identity; it is recorded as such. */
export const BREAK_GLASS: Principal = { id: 'break-glass:unverified', verified: false };

export function requireOperator(principal: Principal, what: string): asserts principal is Principal & { person: string } {
  if (!principal.verified || !principal.person) {
    throw new PolicyRefusedError(
      `only a verified operator (a session of an operators role, through the operator Function URL) may ${what}`,
    );
  }
}
