/**
 * For `npm run bench` only: the floor under the API's figures. A process of its own serving the calls
 * the bench times (POST /escalations, GET /escalations/:id, POST /escalations/:id/acknowledge) with
 * node:http alone around the product's own service (EscalationService: the same validation, start
 * request, view, kept views and update) — no Express, no helmet, no authentication, no request log, no
 * metrics. The API against this is what its
 * HTTP edge costs; this against the raw SDK in the bench's process is what any HTTP hop to a process of
 * its own costs on the same cores.
 */
import { createServer } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { actionSchemas, openSchema } from '../api/schemas';
import { EscalationService } from '../api/service';
import { DEFAULT_POLICY } from '../playbook';

async function main() {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const service = new EscalationService({ client: new Client({ connection }), taskQueue: process.env.TEMPORAL_TASK_QUEUE!, policy: () => DEFAULT_POLICY });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = async () => {
        if (req.method === 'POST' && req.url === '/escalations') {
          const body = openSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          return [201, (await service.open(body)).case] as const;
        }
        const id = /^\/escalations\/([\w.:-]+)$/.exec(req.url ?? '')?.[1];
        if (req.method === 'GET' && id) return [200, await service.get(id)] as const;
        const acknowledged = /^\/escalations\/([\w.:-]+)\/acknowledge$/.exec(req.url ?? '')?.[1];
        if (req.method === 'POST' && acknowledged) {
          const args = actionSchemas.acknowledge.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          return [200, await service.act(acknowledged, 'acknowledge', { ...args, by: 'bench' })] as const;
        }
        return [404, { error: 'not_found' }] as const;
      };
      answer().then(
        ([status, json]) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json)),
        (err: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) })),
      );
    });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`bare API on ${process.env.PORT}`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0)); // a CPU profile is written at exit
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
