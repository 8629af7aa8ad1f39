/**
 * The point of no return of a send that must not happen twice, written into Temporal before the send
 * passes it.
 *
 * A customer's email is taken by the mail server when it reads the message's last line. A worker that
 * dies after that and before Temporal heard of the completed send would have the send tried again, and
 * the customer would read it twice. So the activity records "passing" in its heartbeat details, and
 * waits until Temporal has taken that record, before the message's last line goes out:
 * - A retry that finds the record does not send again. The attempt before it may have died before the
 *   last line left, so the email is recorded as sent but not confirmed, with the reason. The window
 *   where that email is lost: between Temporal's answer and the write of the last line, one turn of
 *   the worker's event loop.
 * - A retry that does not find it sends: the server never read the last line, so it kept nothing.
 * - When the send failed and the server did not keep the message, the record is taken back, and the
 *   next attempt sends.
 *
 * The heartbeats of such an activity are all written here, one at a time, straight to Temporal
 * (RecordActivityTaskHeartbeat with the activity's task token): the SDK's own throttled heartbeats
 * could land after the record and erase it.
 */
import { Context } from '@temporalio/activity';

/** What an attempt left in its heartbeat details. */
type Phase = { send: 'before' | 'passing' | 'not-kept' };

/** Heartbeats every second, as the other sends do: a worker that dies stops them, and Temporal tries again after 5 s. */
const BEAT_MS = 1_000;

export const UNCONFIRMED =
  'not confirmed: the worker sending it stopped after handing it to the mail server and before the server answered; not sent again, so nobody receives it twice';

export class SendMark {
  private phase: Phase = { send: 'before' };
  /** Heartbeats go one after another, so the last one Temporal takes is the last phase. */
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly ctx: Context,
    /** An earlier attempt of this activity recorded that it was passing the point of no return. */
    readonly passedBefore: boolean,
  ) {
    this.timer = setInterval(() => void this.beat().catch(() => undefined), BEAT_MS);
  }

  /** In an activity task (not a local try, nor outside Temporal): the mark, its first heartbeat written. */
  static async begin(): Promise<SendMark | undefined> {
    let ctx: Context;
    try {
      ctx = Context.current();
    } catch {
      return undefined;
    }
    if (ctx.info.isLocal) return undefined;
    try {
      void ctx.client; // a worker's activity has the worker's client; a test's mock environment may not
    } catch {
      return undefined;
    }
    const before = ctx.info.heartbeatDetails as Phase | undefined;
    const mark = new SendMark(ctx, before?.send === 'passing');
    // The first heartbeat says this attempt has not passed yet (unless one before it did: that stays).
    if (mark.passedBefore) mark.phase = { send: 'passing' };
    await mark.beat().catch(() => undefined);
    return mark;
  }

  /** Records that the send is passing its point of no return; resolves once Temporal has taken it. */
  pass(): Promise<void> {
    this.phase = { send: 'passing' };
    return this.beat();
  }

  /** The server did not keep the message: the next attempt may send it. */
  notKept(): Promise<void> {
    this.phase = { send: 'not-kept' };
    return this.beat().catch(() => undefined);
  }

  end(): void {
    clearInterval(this.timer);
  }

  private beat(): Promise<void> {
    const details = this.phase;
    const next = this.chain.then(async () => {
      const client = this.ctx.client;
      const converter = client.options.loadedDataConverter;
      let payloads = [converter.payloadConverter.toPayload(details)];
      for (const codec of converter.payloadCodecs) payloads = await codec.encode(payloads);
      await client.workflowService.recordActivityTaskHeartbeat({
        namespace: this.ctx.info.activityNamespace,
        taskToken: this.ctx.info.taskToken,
        details: { payloads },
        identity: client.options.identity,
      });
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
