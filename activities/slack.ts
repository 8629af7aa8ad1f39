import { ErrorCode, WebClient, type WebAPICallError } from '@slack/web-api';
import { ApplicationFailure } from '@temporalio/common';
import { PERMANENT_FAILURE } from './types';

export interface SlackPost {
  channel: string;
  text: string;
  threadTs?: string | null;
}

export interface SlackPoster {
  post(p: SlackPost): Promise<{ ts: string; channel: string }>;
}

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
        ...(p.threadTs ? { thread_ts: p.threadTs } : {}),
        unfurl_links: false,
      });
      return { ts: String(r.ts), channel: String(r.channel ?? p.channel) };
    } catch (err) {
      throw classify(err as WebAPICallError);
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
