import type { Quarantine } from '#shared/grants/quarantine-policy.ts';

/** The bucket of the sample program's transcripts, as the quarantine tests use it. */
export const BUCKET = 'mci-transcripts';

/** A bucket's own policy, as a platform team would have it: TLS only. Quarantines must leave it exactly so. */
export const TEAM_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'TlsOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ],
};

/** The incident's quarantine of the transcripts' raw/ prefix: owners and break-glass still read. */
export const quarantineOf = (incidentId: string, prefix = 'raw/'): Quarantine => ({
  incidentId,
  bucket: BUCKET,
  prefix,
  exempt: ['arn:aws:iam::111111111111:role/mci-owners', 'arn:aws:iam::111111111111:role/Killswitch-BreakGlass'],
});
