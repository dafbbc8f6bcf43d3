import type { Quarantine } from '#shared/grants/quarantine-policy.ts';
import { teamBucketPolicy } from '#local/seed.ts';

/** The bucket of the sample program's transcripts, as the quarantine tests use it. */
export const BUCKET = 'mci-transcripts';

/** A bucket's own policy, as a platform team would have it: TLS only. Quarantines must leave it exactly so. */
export const TEAM_POLICY = teamBucketPolicy(BUCKET);

/** The incident's quarantine of the transcripts' raw/ prefix: owners and break-glass still read. */
export const quarantineOf = (incidentId: string, prefix = 'raw/'): Quarantine => ({
  incidentId,
  bucket: BUCKET,
  prefix,
  exempt: ['arn:aws:iam::111111111111:role/mci-owners', 'arn:aws:iam::111111111111:role/Killswitch-BreakGlass'],
});
