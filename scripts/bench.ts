/**
 * `npm run bench`: the product against the raw Temporal SDK on one dev server, in one run; a script that
 * prints figures and ratios, never a test. The worker and the API run as their own processes (`npm run
 * worker`, `npm run api`), as users deploy them; this process drives them and the raw SDK side.
 *
 * Parts (BENCH_PARTS, comma-separated; all by default):
 *   requests   open (API POST /escalations vs `workflow.start` of the same workflow and input, and vs
 *              `workflow.start` of the product's whole start request: memo, search attributes, summary),
 *              acknowledge (API vs a raw `executeUpdate`) and get (API vs a raw query; the first read of
 *              each case, and cases read again, which the API answers from the view it read before while
 *              the workflow's history has not grown): p50, p99, throughput and ratios, the sides
 *              alternating in rounds so a slow moment lands on both.
 *              A third side is the floor under the API's figures: the same service behind node:http alone,
 *              in a process of its own (scripts/bench-bare-api.ts: no Express, helmet, auth, log or
 *              metrics), for the open, the first read and the acknowledge.
 *              BENCH_N (800) requests per side (BENCH_ACK_N, 300, for acknowledge: each needs a case of
 *              its own), BENCH_CONCURRENCY (8), BENCH_ROUNDS (10).
 *   edge       what the HTTP edge adds in CPU: the API's CPU per get (BENCH_N × 4) and per open (BENCH_N, on
 *              the queue no worker polls) with the load from a process of its own, against the CPU the raw
 *              SDK spends in this process on the same call (a describe: the API reads these cases again)
 *              and the same start request; and the CPU the bare node:http process spends on the same.
 *              Last, the Express app alone: the API's app in this process around a service that answers
 *              at once (no Temporal), against node:http answering the same view.
 *   sustained  opens through the API for BENCH_SUSTAIN_S seconds (20) with the worker processing each
 *              new case, against the same against a task queue no worker polls.
 *   burst      BENCH_BURST_N cases (1000) whose acknowledge deadlines fall evenly over
 *              BENCH_BURST_WINDOW_S seconds (10), the first n/25 seconds (at least 30) after the first
 *              open: lateness of each breach (p50/p99/max), time to drain, and queries of a case during
 *              the burst (failures, slowest), and the processes' peak RSS.
 *   held       BENCH_HELD_N open cases (1000) with deadlines at BENCH_HELD_RATE per second (5.5):
 *              lateness, and the worker's, the API's and the server's peak RSS.
 *   monday     Monday 10:00: BENCH_MONDAY_N cases (1000) opened before a calendar's business hours begin,
 *              so their acknowledge deadlines (one business minute) fall on the same second and their
 *              warnings BENCH_MONDAY_WARN_S (15) before; reads of cases, the board's first page and notes through the API
 *              before the burst (the baseline) and during it: lateness, latency percentiles and failures
 *              of each (failures by status), their ratios, peak RSS and CPU over the burst; BENCH_MONDAY_TEAM
 *              (read,reread,list,act; none: no team) picks the team's kinds of request. First, the floor (BENCH_MONDAY_FLOOR=0
 *              leaves it out): the same n deadlines and warnings as bare workflows (scripts/bench/floor/) on
 *              the same server, the team idle, their lateness what Temporal alone gives. Not in the default parts.
 *   case       events, bytes and replay time of saved cases (the same plays as rules 4 ran them and as today's rules do).
 *   heap       the workflow thread's heap per cached case: BENCH_HEAP_N cases (200) held by a worker in this
 *              process (debug mode runs the workflows on this thread, so its heap is theirs), with
 *              the shared modules preloaded as every worker runs them, against the same without.
 *   idle       a worker's resident memory at rest, started as `npm run worker` starts it (its workflow code
 *              bundled in a child process, worker/bundle.ts), against the same worker bundling in its own
 *              process, as every worker did before (scripts/bench-idle-worker.ts, each on a queue of its own).
 * BENCH_WORKERS (1): worker processes on the run's task queue, each `npm run worker` with its own cache.
 * BENCH_STORE: `tuned` (default: a database file with the pragmas `npm start` uses), `file` (a file,
 * SQLite's defaults), `memory` (the dev server's in-memory database), `cluster` (no dev server: `npm run
 * cluster`'s Temporal server, built from its Go module, on a throwaway PostgreSQL; its CPU is reported
 * apart from PostgreSQL's, counted over the postmaster and its backends).
 * BENCH_PROFILE=<dir> writes the worker's and the API's CPU profiles there (one file per thread).
 *
 * The harness (processes, measures, settings) is scripts/bench/harness.ts; each part is a file of its own there.
 */
import { BURST_N, BURST_WINDOW_S, HELD_N, HELD_RATE, MONDAY_N, PARTS, setUp } from './bench/harness';
import { monday } from './bench/monday';
import { requests } from './bench/requests';
import { edge } from './bench/edge';
import { sustained } from './bench/sustained';
import { deadlines } from './bench/deadlines';
import { savedCases } from './bench/case';
import { heap } from './bench/heap';
import { idle } from './bench/idle';

async function main() {
  const b = await setUp(PARTS);
  try {
    if (PARTS.has('requests')) await requests(b);
    if (PARTS.has('edge')) await edge(b);
    if (PARTS.has('sustained')) await sustained(b);
    if (PARTS.has('burst')) await deadlines(b, 'burst', BURST_N, BURST_WINDOW_S);
    if (PARTS.has('held')) await deadlines(b, 'held', HELD_N, Math.round(HELD_N / HELD_RATE));
    if (PARTS.has('monday')) await monday(b, MONDAY_N);
    if (PARTS.has('case')) await savedCases(b);
    if (PARTS.has('heap')) await heap(b);
    if (PARTS.has('idle')) await idle(b);
  } finally {
    await b.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
