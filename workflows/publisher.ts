/**
 * What a case shows outside its history: its search attributes (the list, the filters, the report),
 * the Temporal UI's current details, and its Slack panel. Written only when what it shows changed.
 */
import type { SearchAttributeUpdatePair, TypedSearchAttributes } from '@temporalio/common';
import { caseDetails, visibilityOf, type CaseState } from '../playbook';
import { SA } from './messages';
import { PATCHES, type PatchGate } from './patches';

export interface PublisherPort {
  /** The search attributes the run holds now (what it started with, before any upsert). */
  current(): TypedSearchAttributes;
  upsert(changed: SearchAttributeUpdatePair[]): void;
  details(text: string): void;
  /** After every publish: the Slack panel follows the case (Outbox.refreshPanel). */
  refreshPanel(): void;
}

/** How a value compares: unset, null and an empty list are all "no value" to Temporal. */
const visible = (value: unknown) => JSON.stringify(value === undefined || (Array.isArray(value) && value.length === 0) ? null : value);

export class Publisher {
  private published: Record<string, string> = {};
  private seeded = false;
  private compare = (value: unknown) => JSON.stringify(value);

  constructor(
    private readonly port: PublisherPort,
    private readonly has: PatchGate,
  ) {}

  publish(state: CaseState): void {
    if (!this.seeded) {
      this.seeded = true;
      if (this.has(PATCHES.publishKnown)) {
        this.compare = visible;
        const current = this.port.current();
        this.published = Object.fromEntries(Object.entries(SA).map(([name, key]) => [name, visible(current.get(key as never))]));
      }
    }
    const values = visibilityOf(state);
    const changed: SearchAttributeUpdatePair[] = [];
    for (const [name, key] of Object.entries(SA)) {
      const value = values[name as keyof typeof values];
      const json = this.compare(value);
      if (this.published[name] === json) continue;
      this.published = { ...this.published, [name]: json };
      changed.push({ key, value: value === null || (Array.isArray(value) && value.length === 0) ? null : value } as SearchAttributeUpdatePair);
    }
    if (changed.length > 0) this.port.upsert(changed);
    this.port.details(caseDetails(state));
    this.port.refreshPanel();
  }
}
