import type { Principal } from '../schemas/common.ts';
import { requireOperator } from '../domain/identity.ts';
import type { KillSwitchViews, IncidentView } from '../killswitch/views.ts';
import { currentTemplateIds } from '../notices/render.ts';
import type { NoticeType } from '../schemas/notices.ts';
import type { Clock } from '../killswitch/ports.ts';
import { registerEntry, type RegisterEntry } from './register.ts';
import type { IntegrityView, VerifyLedger } from './verify.ts';

export interface ReportView {
  action: 'report';
  generatedAt: string;
  generatedBy: string;
  /** The incident as `incident show` reads it: record, timeline, audit trail, counts, the Art. 33 clock. */
  incident: Omit<IncidentView, 'action'>;
  /** Its breach-register entry: the numbers, measures and decisions. */
  register: RegisterEntry;
  /** The ledger's integrity proof at the time of the report (absent where the chains are not available). */
  integrity?: IntegrityView;
  /** The notice templates of each notice type planned (each notice keeps its own template id; `notices show` shows one). */
  noticeTemplates: { noticeType: string; templateIds: string[] }[];
}

/**
 * Use case: what an incident report is made of (the CLI renders it as Markdown, HTML or PDF): the
 * incident view, its register entry and a fresh verification of its chains, in one read so that
 * the numbers, the timeline and the proof describe the same moment.
 */
export class IncidentReport {
  readonly #clock: Clock;
  constructor(
    private readonly deps: {
      views: KillSwitchViews;
      integrity?: VerifyLedger;
      notices?: {
        counts(
          incidentId: string,
          type?: 'exposure',
        ): Promise<{ planned: number; pending: number; sending: number; sent: number; failed: number }>;
      };
      clock?: Clock;
    },
  ) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async build(incidentId: string, principal: Principal): Promise<ReportView> {
    requireOperator(principal, 'build an incident report');
    const now = this.#clock();
    const [{ action: _, ...incident }, integrity, exposure] = await Promise.all([
      this.deps.views.incident(incidentId),
      this.deps.integrity?.incident(incidentId),
      this.deps.notices?.counts(incidentId, 'exposure'),
    ]);
    const types = [
      ...new Set(
        incident.timeline.filter((t) => t.type === 'NOTICES_PLANNED').map((t) => String(t.data?.noticeType ?? 'exposure') as NoticeType),
      ),
    ];
    return {
      action: 'report',
      generatedAt: now.toISOString(),
      generatedBy: principal.person ?? principal.id,
      incident,
      register: registerEntry(incident.incident, incident.timeline, exposure, now),
      ...(integrity ? { integrity } : {}),
      noticeTemplates: types.map((noticeType) => ({ noticeType, templateIds: currentTemplateIds(noticeType) })),
    };
  }
}
