import type { NoticeSettings, NoticeType } from '../../schemas/notices.ts';

/** What a notice may say. Deliberately no field for the exposed data itself. */
export interface NoticeContext {
  incident: {
    incidentId: string;
    openedAt: string;
    /** Who could see the data, in words, and when. */
    exposure?: { audience: string; window: { start: string; end: string } };
    pausedAt?: string;
    accessRevoked: boolean;
    /** Follow-up notices: collection restarted (two people approved it), and when. */
    resumedAt?: string;
    /** Follow-up notices: the incident was closed, and when. */
    resolvedAt?: string;
    /** Follow-up notices: the revoked access was put back after review (two people approved it). */
    accessRestored?: boolean;
  };
  employee: { employeeId: string; categories: string[]; heldFrom: string; heldTo: string };
  settings: NoticeSettings;
}

export interface NoticeSection {
  heading: string;
  body: string;
}

export interface RenderedNotice {
  /** `<type>/v<version>/<locale>`: which template produced it, for the record. */
  templateId: string;
  subject: string;
  text: string;
  structured: {
    format: 'killswitch.notice.v1';
    templateId: string;
    title: string;
    incidentId: string;
    employeeId: string;
    categories: string[];
    exposureWindow: { start: string; end: string } | null;
    sections: NoticeSection[];
  };
}

export interface NoticeTemplate {
  type: NoticeType;
  version: number;
  locale: string;
  render(context: NoticeContext): { title: string; subject: string; sections: NoticeSection[] };
}
