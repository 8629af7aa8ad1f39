/**
 * The webhooks' names, shared by the workflows, the activities and the API: workflow ids, delivery ids
 * (the `webhook-id` header) and the one search attribute that lists deliveries.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const WEBHOOK_STREAM_WORKFLOW = 'webhookStreamWorkflow' as const;
export const WEBHOOK_ENDPOINT_WORKFLOW = 'webhookEndpointWorkflow' as const;

/**
 * A stream's endpoint, case and the statuses of its deliveries, as `endpoint:<id>`, `case:<id>` and
 * `status:<status>`: one KeywordList for all three filters (the dev server's SQL visibility has three).
 */
export const WEBHOOK_TAGS = defineSearchAttributeKey('WebhookTags', SearchAttributeType.KEYWORD_LIST);

export function webhookTags(endpoint: string, caseId: string, statuses: readonly string[]): string[] {
  return [`endpoint:${endpoint}`, `case:${caseId}`, ...[...new Set(statuses)].sort().map((s) => `status:${s}`)];
}

/** An endpoint's id (config, delivery ids, the list's filter): 1 to 40 of a-z, 0-9 and -. */
export const ENDPOINT_ID = '[a-z0-9-]{1,40}';
/** A case id as the API makes them (api/case-ids.ts: slugs), as delivery ids and the list's filter carry it. */
export const WEBHOOK_CASE_ID = '[a-z0-9-]{1,200}';
const DELIVERY_ID = new RegExp(`^msg_(${ENDPOINT_ID})_(${WEBHOOK_CASE_ID})_([1-9]\\d{0,9})$`);

/** One endpoint's deliveries of one case. Endpoint and case ids are of a-z, 0-9 and -. */
export const streamWorkflowId = (endpoint: string, caseId: string) => `webhooks:${endpoint}:${caseId}`;
export const endpointWorkflowId = (endpoint: string) => `webhook-endpoint:${endpoint}`;

/** The `webhook-id` of a case's event for an endpoint: the same on every attempt and retry. */
export const deliveryIdFor = (endpoint: string, caseId: string, sequence: number) => `msg_${endpoint}_${caseId}_${sequence}`;

export function parseDeliveryId(id: string): { endpoint: string; caseId: string; sequence: number } | undefined {
  const m = DELIVERY_ID.exec(id);
  return m ? { endpoint: m[1], caseId: m[2], sequence: Number(m[3]) } : undefined;
}
