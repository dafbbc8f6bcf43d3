import type { Grant, RestoreOutcome, RevocationSnapshot } from '../schemas/grants.ts';
import {
  isNotRevoked,
  type AccessEntry,
  type AccessHolds,
  type AccessSystem,
  type GrantBackend,
  type GrantPage,
  type RevokeOutcome,
} from './ports.ts';

interface Cursor {
  /** Index into the dataset's phases: its access systems in order, then the registry. */
  p: number;
  /** The registry's own cursor, or the last key listed of a system. */
  c?: string;
}
const encode = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');
function decode(cursor: string | undefined): Cursor {
  if (!cursor) return { p: 0 };
  const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
  if (!Number.isInteger(c.p) || c.p < 0) throw new Error('grant cursor: p must be a non-negative integer');
  return c;
}

/**
 * The grant backend the revoker and the restorer use: a dataset's grants are those of every
 * access system it maps to (the bucket-policy quarantine first, the immediate cut-off; then Lake
 * Formation and S3 Access Grants) followed by those of the grant registry.
 *
 * Entries several incidents can share (a Lake Formation permission, an Access Grant) go through
 * holds: the first holder revokes it in the system; the last release restores it, unless someone
 * took a hold while the restore ran, in which case it is revoked again at once. A held entry is
 * listed even when the system no longer shows it (it is revoked), so a second incident holds it
 * too and the first one's restore leaves it revoked. What a system cannot revoke is returned as
 * NotRevoked (the revoker records and reports it).
 */
export class RoutedGrantBackend implements GrantBackend {
  readonly name = 'routed';
  constructor(
    private readonly registry: GrantBackend,
    private readonly systems: readonly AccessSystem[],
    private readonly holds: AccessHolds,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  #phases(datasetId: string): (AccessSystem | undefined)[] {
    return [...this.systems.filter((s) => s.covers(datasetId)), undefined];
  }

  #system(name: string): AccessSystem {
    const system = this.systems.find((s) => s.name === name);
    if (!system) throw new Error(`no access system ${name} is configured`);
    return system;
  }

  async list(datasetId: string, cursor?: string, limit = 200): Promise<GrantPage> {
    const phases = this.#phases(datasetId);
    const at = decode(cursor);
    const system = phases[at.p];
    if (at.p >= phases.length) return { grants: [] };
    if (!system) {
      const page = await this.registry.list(datasetId, at.c, limit);
      return { grants: page.grants, ...(page.cursor ? { cursor: encode({ p: at.p, c: page.cursor }) } : {}) };
    }
    const all = (await this.#grantsOf(system, datasetId)).filter((g) => at.c === undefined || g.key! > at.c);
    const page = all.slice(0, limit);
    const more = all.length > limit;
    return { grants: page, cursor: encode(more ? { p: at.p, c: page.at(-1)!.key! } : { p: at.p + 1 }) };
  }

  /** The system's entries in force and those held revoked, sorted by key, as grants. */
  async #grantsOf(system: AccessSystem, datasetId: string): Promise<Grant[]> {
    const live = await system.entries(datasetId);
    const grantedAt = this.clock().toISOString();
    const base = (e: AccessEntry) => ({
      datasetId,
      principal: e.principal,
      permission: e.permission,
      grantedBy: system.name,
      grantedAt,
      owner: e.owner,
      version: 1,
      backend: system.name,
      key: e.key,
      entry: e.entry,
      label: e.label,
      ...(e.notRevocable ? { notRevocable: e.notRevocable } : {}),
    });
    if (system.perIncident)
      return live
        .map((e) => ({
          ...base(e),
          status: e.heldBy?.length ? ('REVOKED' as const) : ('ACTIVE' as const),
          revokedByIncidents: e.heldBy ?? [],
        }))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
    const holds = new Map((await this.holds.held(datasetId, system.name)).map((h) => [h.entry.key, h]));
    const byKey = new Map<string, Grant>();
    for (const e of live) byKey.set(e.key, { ...base(e), status: 'ACTIVE', revokedByIncidents: holds.get(e.key)?.holders ?? [] });
    for (const [key, hold] of holds)
      if (!byKey.has(key)) byKey.set(key, { ...base(hold.entry), status: 'REVOKED', revokedByIncidents: hold.holders });
    return [...byKey.values()].sort((a, b) => (a.key! < b.key! ? -1 : 1));
  }

  async revoke(grant: Grant, incidentId: string, by: string, at: Date): Promise<RevokeOutcome> {
    if (grant.backend === 'dynamodb') return this.registry.revoke(grant, incidentId, by, at);
    if (grant.owner) return 'OWNER';
    if (grant.notRevocable) return { notRevoked: grant.notRevocable };
    const system = this.#system(grant.backend);
    const entry = entryOf(grant);
    if (system.perIncident) {
      const done = await system.revoke(grant.datasetId, entry, incidentId);
      if (isNotRevoked(done)) return done;
      if (done === 'GONE') return 'GONE';
      if (done === 'ALREADY') return 'ALREADY_HELD';
      return grant.revokedByIncidents.some((i) => i !== incidentId) ? 'ALSO_HELD' : 'REVOKED';
    }
    const { added, previous } = await this.holds.hold(grant.datasetId, system.name, entry, incidentId);
    const others = (previous?.holders ?? []).filter((i) => i !== incidentId);
    // Another incident's revoke finished and the system does not show it in force: nothing to do in the system.
    const alreadyOut = previous?.state === 'REVOKED' && others.length > 0 && grant.status === 'REVOKED';
    if (!alreadyOut) {
      const done = await system.revoke(grant.datasetId, entry, incidentId);
      if (isNotRevoked(done)) {
        // Not revoked, so not held: whether this delivery or an earlier one took the hold.
        await this.holds.release(grant.datasetId, system.name, entry.key, incidentId);
        return done;
      }
      // Gone, and nobody (no other incident, no other delivery) revoked it: it no longer exists, nothing is held.
      if (done === 'GONE' && (await this.holds.dropIfAlone(grant.datasetId, system.name, entry.key, incidentId))) return 'GONE';
    }
    // A concurrent delivery of this incident that saw the entry gone may have dropped the hold: take it again.
    for (let round = 0; round < 3; round++) {
      const marked = await this.holds.markRevoked(grant.datasetId, system.name, entry.key, incidentId);
      if (marked !== 'NOT_HELD') break;
      await this.holds.hold(grant.datasetId, system.name, entry, incidentId);
      const again = await system.revoke(grant.datasetId, entry, incidentId);
      if (isNotRevoked(again)) {
        await this.holds.release(grant.datasetId, system.name, entry.key, incidentId);
        return again;
      }
    }
    if (!added) return 'ALREADY_HELD';
    return others.length ? 'ALSO_HELD' : 'REVOKED';
  }

  async restore(snapshot: RevocationSnapshot, by: string, at: Date): Promise<{ outcome: RestoreOutcome; reason?: string }> {
    if (snapshot.backend === 'dynamodb') return this.registry.restore(snapshot, by, at);
    if (!snapshot.key || !snapshot.entry) return { outcome: 'SKIPPED', reason: 'the snapshot holds no entry to restore' };
    const system = this.#system(snapshot.backend);
    const entry = entryOfSnapshot(snapshot);
    if (system.perIncident) {
      const done = await system.restore(snapshot.datasetId, entry, snapshot.incidentId);
      if (done.outcome !== 'RESTORED') return done;
      const still = (await system.entries(snapshot.datasetId)).find((e) => e.key === entry.key)?.heldBy ?? [];
      return still.length ? { outcome: 'STILL_HELD', reason: `still quarantined by ${still.join(', ')}` } : done;
    }
    const { datasetId } = snapshot;
    const key = entry.key;
    let after = (await this.holds.release(datasetId, system.name, key, snapshot.incidentId)).after;
    if (!after) return { outcome: 'SKIPPED', reason: 'no hold was recorded for the entry (it was never revoked)' };
    for (let round = 0; round < 5; round++) {
      if (after.holders.length) {
        // A restore (this one, before a crash, or another) gave it back while a hold was taken: revoke it again first.
        if (after.state === 'RESTORING') await this.#revokeAgain(system, datasetId, entry);
        return { outcome: 'STILL_HELD', reason: `still revoked by ${after.holders.join(', ')}` };
      }
      if (after.state === 'RESTORED') return { outcome: 'RESTORED' };
      if (await this.holds.beginRestore(datasetId, system.name, key)) {
        const done = await system.restore(datasetId, entry, snapshot.incidentId);
        if (await this.holds.finishRestore(datasetId, system.name, key)) return done;
        const now = (await this.holds.release(datasetId, system.name, key, snapshot.incidentId)).after;
        // A concurrent restore of the same entry finished it first: it is back, as this one made it.
        if (!now?.holders.length) return done;
        // An incident took a hold while this restore ran: take it out again at once, and leave it to that incident.
        await this.#revokeAgain(system, datasetId, entry);
        return { outcome: 'STILL_HELD', reason: `held again by ${now.holders.join(', ')} while it was restored` };
      }
      // Someone took a hold (or finished a restore) between the release and the claim: look again.
      after = (await this.holds.release(datasetId, system.name, key, snapshot.incidentId)).after;
      if (!after) return { outcome: 'SKIPPED', reason: 'the hold record disappeared' };
    }
    throw new Error(`${entry.label}: its holds kept changing; the restore is retried`);
  }

  async #revokeAgain(system: AccessSystem, datasetId: string, entry: AccessEntry): Promise<void> {
    const again = await system.revoke(datasetId, entry, '');
    if (isNotRevoked(again)) throw new Error(`${entry.label}: held again by another incident but not revoked again: ${again.notRevoked}`);
    await this.holds.revokedAgain(datasetId, system.name, entry.key);
  }

  /** The registry answers; the access systems are checked by AWS itself. */
  canAccess(principal: string, datasetId: string, permission: Grant['permission']): Promise<boolean> {
    return this.registry.canAccess(principal, datasetId, permission);
  }
}

function entryOf(grant: Grant): AccessEntry {
  if (!grant.key || !grant.entry) throw new Error(`a ${grant.backend} grant without its key or entry`);
  return {
    key: grant.key,
    principal: grant.principal,
    permission: grant.permission,
    entry: grant.entry,
    label: grant.label ?? grant.key,
    owner: grant.owner,
  };
}

function entryOfSnapshot(s: RevocationSnapshot): AccessEntry {
  return { key: s.key!, principal: s.principal, permission: s.permission, entry: s.entry!, label: s.label ?? s.key!, owner: false };
}
