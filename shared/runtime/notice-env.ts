import { NoticeSettingsSchema } from '../schemas/notices.ts';
import { jsonOf } from './env.ts';

/** What notices say and where they point (the `notices` section of the configuration): the operator and the sender read it. */
export const NoticeEnvVars = {
  noticeSettings: { NOTICE_SETTINGS: jsonOf(NoticeSettingsSchema) },
} as const;
