/**
 * The zod members killswitch uses, as one namespace: `import { z } from './zod.ts'`.
 *
 * zod's own `z` namespace holds every member (all locales included), so a bundler must keep all
 * of it: about 450 KB minified in every Lambda bundle. Re-exporting only what we use lets esbuild
 * keep those members alone (about 85 KB). Add a member here when a schema needs it.
 */
export {
  array,
  boolean,
  coerce,
  discriminatedUnion,
  email,
  enum,
  iso,
  literal,
  NEVER,
  number,
  object,
  record,
  string,
  toJSONSchema,
  unknown,
  url,
  uuid,
  ZodError,
  ZodType,
  ZodObject,
} from 'zod';
export type { infer, input, output } from 'zod';
