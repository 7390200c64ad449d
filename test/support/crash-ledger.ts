/**
 * What the clients of a crash test were told, and a check of a server's data against it.
 *
 * Every write ends in one of three outcomes: acknowledged (a success envelope arrived), refused
 * (an error envelope arrived) or unknown (the connection died with the server). Acknowledged
 * writes must survive every crash; refused ones must leave nothing behind; unknown ones may go
 * either way but never half-way (a register is one transaction: all its faces or none).
 * Registers are told apart by their externalImageId, which is unique per request.
 */
export type Outcome = 'acked' | 'refused' | 'unknown';

interface RegisterRecord {
  groupId: string;
  /** Which test image was sent; faces per image are learnt from acknowledged registers. */
  image: string;
  outcome: Outcome;
  faceIds: string[];
}

export interface ListedFace {
  faceId: string;
  externalImageId?: string;
}

export class CrashLedger {
  readonly groupCreates = new Map<string, Outcome>();
  readonly groupDeletes = new Map<string, Outcome>();
  readonly registers = new Map<string, RegisterRecord>();
  readonly faceDeletes = new Map<string, Outcome>();
  /** Faces an acknowledged register of each image added. */
  private readonly facesPerImage = new Map<string, number>();

  register(tag: string, groupId: string, image: string, outcome: Outcome, faceIds: string[] = []): void {
    this.registers.set(tag, { groupId, image, outcome, faceIds });
    if (outcome === 'acked') this.facesPerImage.set(image, Math.max(this.facesPerImage.get(image) ?? 0, faceIds.length));
  }

  /** Acknowledged faces still expected in the group: not deleted, in a group not deleted. */
  ackedLiveFaces(groupId: string): { faceId: string; tag: string; deleteOutcome?: Outcome }[] {
    const out: { faceId: string; tag: string; deleteOutcome?: Outcome }[] = [];
    for (const [tag, r] of this.registers) {
      if (r.groupId !== groupId || r.outcome !== 'acked') continue;
      for (const faceId of r.faceIds) out.push({ faceId, tag, deleteOutcome: this.faceDeletes.get(faceId) });
    }
    return out;
  }

  /** Groups that must exist: creation acknowledged, and no delete that may have happened. */
  groupsThatMustExist(): string[] {
    return [...this.groupCreates].filter(([g, o]) => o === 'acked' && (this.groupDeletes.get(g) ?? 'refused') === 'refused').map(([g]) => g);
  }

  /** Problems with the set of groups a server lists. */
  checkGroups(listed: string[]): string[] {
    const problems: string[] = [];
    const present = new Set(listed);
    for (const g of this.groupsThatMustExist()) if (!present.has(g)) problems.push(`acknowledged group ${g} is missing`);
    for (const g of present) {
      const created = this.groupCreates.get(g);
      if (created === undefined || created === 'refused') problems.push(`group ${g} exists but its creation was ${created ?? 'never requested'}`);
      if (this.groupDeletes.get(g) === 'acked') problems.push(`group ${g} exists after its deletion was acknowledged`);
    }
    return problems;
  }

  /** Problems with one group's listed faces. */
  checkFaces(groupId: string, listed: ListedFace[]): string[] {
    const problems: string[] = [];
    const listedIds = new Set(listed.map((f) => f.faceId));
    if (listedIds.size !== listed.length) problems.push(`${groupId}: the listing repeats a face`);
    for (const f of this.ackedLiveFaces(groupId)) {
      const present = listedIds.has(f.faceId);
      // A refused delete changed nothing: the face must still be there.
      const mayBeGone = f.deleteOutcome === 'acked' || f.deleteOutcome === 'unknown';
      if (!present && !mayBeGone) problems.push(`${groupId}: acknowledged face ${f.faceId} (${f.tag}) is lost`);
      if (present && f.deleteOutcome === 'acked') problems.push(`${groupId}: face ${f.faceId} is back after its deletion was acknowledged`);
    }
    const byTag = new Map<string, ListedFace[]>();
    for (const f of listed) {
      const tag = f.externalImageId ?? '(none)';
      byTag.set(tag, [...(byTag.get(tag) ?? []), f]);
    }
    for (const [tag, faces] of byTag) {
      const r = this.registers.get(tag);
      if (!r) {
        problems.push(`${groupId}: faces ${faces.map((f) => f.faceId).join(',')} come from no register request (${tag})`);
        continue;
      }
      if (r.groupId !== groupId) problems.push(`${groupId}: face of ${tag} was registered into ${r.groupId}`);
      if (r.outcome === 'refused') problems.push(`${groupId}: ${tag} was refused, yet ${faces.length} of its faces are stored`);
      if (r.outcome === 'acked') {
        for (const f of faces) if (!r.faceIds.includes(f.faceId)) problems.push(`${groupId}: ${f.faceId} is stored under ${tag}, which did not return it`);
      }
      if (r.outcome === 'unknown') {
        // Interrupted registers are all or nothing: as many faces as the image gives, or none.
        const expected = this.facesPerImage.get(r.image);
        if (expected !== undefined && faces.length !== expected) problems.push(`${groupId}: interrupted ${tag} left ${faces.length} faces; all (${expected}) or none expected`);
      }
    }
    return problems;
  }

  counts(): Record<string, number> {
    const count = (m: Map<string, { outcome: Outcome } | Outcome>, o: Outcome) => [...m.values()].filter((v) => (typeof v === 'string' ? v : v.outcome) === o).length;
    const ackedFaces = [...this.registers.values()].filter((r) => r.outcome === 'acked').reduce((n, r) => n + r.faceIds.length, 0);
    return {
      registersAcked: count(this.registers, 'acked'),
      registersRefused: count(this.registers, 'refused'),
      registersUnknown: count(this.registers, 'unknown'),
      facesAcked: ackedFaces,
      faceDeletesAcked: count(this.faceDeletes, 'acked'),
      faceDeletesUnknown: count(this.faceDeletes, 'unknown'),
      groupCreatesAcked: count(this.groupCreates, 'acked'),
      groupCreatesUnknown: count(this.groupCreates, 'unknown'),
      groupDeletesAcked: count(this.groupDeletes, 'acked'),
      groupDeletesUnknown: count(this.groupDeletes, 'unknown'),
    };
  }
}
