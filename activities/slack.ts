import { ErrorCode, WebClient, type WebAPICallError } from '@slack/web-api';
import { ApplicationFailure } from '@temporalio/common';
import { PERMANENT_FAILURE } from './types';

/** Which message of which case a post is: carried in the post's metadata, so a retry can find it. */
export interface PostKey {
  caseId: string;
  messageId: string;
}

export interface SlackPost {
  channel: string;
  text: string;
  /** Block Kit blocks (the case's root post carries its control panel); `text` is the notification. */
  blocks?: Record<string, unknown>[];
  threadTs?: string | null;
  key: PostKey;
}

export interface SlackPoster {
  post(p: SlackPost): Promise<{ ts: string; channel: string }>;
  /** Replaces a post in place (the root post's panel). */
  update(p: { channel: string; ts: string; text: string; blocks: Record<string, unknown>[] }): Promise<void>;
  /** The post of this key already in the channel (or thread), if any. */
  find(p: { channel: string; threadTs?: string | null; key: PostKey }): Promise<{ ts: string; channel: string } | undefined>;
  /** A post's link (chat.getPermalink), undefined when Slack does not give one. */
  permalink(channel: string, ts: string): Promise<string | undefined>;
}

/** Where a rate-limited call's failure carries Slack's Retry-After (its details), and how to read it. */
const RETRY_AFTER_MS = 'retryAfterMs';
export function retryAfterMsOf(err: ApplicationFailure): number | undefined {
  const ms = Number((err.details?.[0] as Record<string, unknown> | undefined)?.[RETRY_AFTER_MS]);
  return ms > 0 ? ms : undefined;
}

/** The metadata event type of the service's posts. */
export const METADATA_EVENT = 'escalation_message';
/** How far back a retried post looks for itself. */
const LOOKBACK = 100;

/** Slack Web API errors that retrying cannot fix. */
const PERMANENT = new Set([
  'channel_not_found',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_in_channel',
  'is_archived',
  'missing_scope',
  'msg_too_long',
  'no_text',
  'invalid_arguments',
  'thread_not_found',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
]);

/**
 * Posts through @slack/web-api. The client's own retries are off: Temporal retries the activity,
 * waiting out Slack's Retry-After on a 429.
 */
export class SlackWebApiPoster implements SlackPoster {
  private readonly client: WebClient;
  constructor(token: string, apiUrl?: string) {
    this.client = new WebClient(token, {
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 15_000,
    });
  }

  async post(p: SlackPost) {
    try {
      const r = await this.client.chat.postMessage({
        channel: p.channel,
        text: p.text,
        ...(p.blocks ? { blocks: p.blocks as never } : {}),
        ...(p.threadTs ? { thread_ts: p.threadTs } : {}),
        unfurl_links: false,
        metadata: { event_type: METADATA_EVENT, event_payload: { case_id: p.key.caseId, message_id: p.key.messageId } },
      });
      return { ts: String(r.ts), channel: String(r.channel ?? p.channel) };
    } catch (err) {
      throw classify(err as WebAPICallError);
    }
  }

  async update(p: { channel: string; ts: string; text: string; blocks: Record<string, unknown>[] }) {
    try {
      await this.client.chat.update({ channel: p.channel, ts: p.ts, text: p.text, blocks: p.blocks as never });
    } catch (err) {
      throw classify(err as WebAPICallError);
    }
  }

  async permalink(channel: string, ts: string): Promise<string | undefined> {
    try {
      const r = await this.client.chat.getPermalink({ channel, message_ts: ts });
      return r.permalink ? String(r.permalink) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Looks for the post in the thread (or the channel, for a thread's first post) by its metadata.
   * Needs the `channels:history` scope; without it a retry posts again (and says so in the reason).
   */
  async find(p: { channel: string; threadTs?: string | null; key: PostKey }) {
    try {
      const page = p.threadTs
        ? await this.client.conversations.replies({ channel: p.channel, ts: p.threadTs, include_all_metadata: true, limit: LOOKBACK })
        : await this.client.conversations.history({ channel: p.channel, include_all_metadata: true, limit: LOOKBACK });
      const mine = (page.messages ?? []).find((m) => {
        const meta = m.metadata as { event_type?: string; event_payload?: Record<string, unknown> } | undefined;
        return meta?.event_type === METADATA_EVENT && meta.event_payload?.case_id === p.key.caseId && meta.event_payload?.message_id === p.key.messageId;
      });
      return mine?.ts ? { ts: String(mine.ts), channel: p.channel } : undefined;
    } catch (err) {
      const e = err as WebAPICallError;
      if (e.code === ErrorCode.PlatformError) return undefined; // e.g. missing_scope: post again
      throw classify(e);
    }
  }
}

function classify(err: WebAPICallError): Error {
  switch (err.code) {
    case ErrorCode.RateLimitedError:
      return ApplicationFailure.create({
        type: 'SlackRateLimited',
        message: `Slack rate limited: retry after ${err.retryAfter}s`,
        nextRetryDelay: `${Math.max(1, err.retryAfter)}s`,
        // The delay again, where a workflow can read it: the SDK drops nextRetryDelay from a failure it decodes.
        details: [{ [RETRY_AFTER_MS]: Math.max(1, err.retryAfter) * 1000 }],
      });
    case ErrorCode.PlatformError: {
      const code = String(err.data?.error ?? 'unknown_error');
      if (PERMANENT.has(code)) return ApplicationFailure.nonRetryable(`Slack: ${code}`, PERMANENT_FAILURE);
      return new Error(`Slack: ${code}`);
    }
    case ErrorCode.HTTPError:
      if (err.statusCode >= 400 && err.statusCode < 500 && err.statusCode !== 408) {
        return ApplicationFailure.nonRetryable(`Slack HTTP ${err.statusCode}`, PERMANENT_FAILURE);
      }
      return new Error(`Slack HTTP ${err.statusCode}`);
    default:
      return new Error(`Slack: ${err.message}`);
  }
}
