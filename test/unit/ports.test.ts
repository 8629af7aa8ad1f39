/** Ports for tests and local stacks: below the OS's ephemeral range, free, never handed out twice. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort, portIsFree } from '../../config/ports';

const ephemeralLow = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
})();

test('a free port is below the ephemeral range (no outgoing connection or OS-chosen port can take it) and below 32768', async () => {
  const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
  for (const port of ports) {
    expect(port).toBeGreaterThanOrEqual(20_000);
    expect(port).toBeLessThan(Math.min(ephemeralLow, 32_768));
  }
  expect(new Set(ports).size).toBe(ports.length); // never the same twice
});

test('it can be listened on, and a port listened on is not handed out', async () => {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  try {
    expect(await portIsFree(port)).toBe(false);
    // Every port of the range taken but 400 (chosen for something not yet listening): one of those comes back.
    const high = Math.min(ephemeralLow, 32_768);
    const open = new Set(Array.from({ length: 400 }, (_, i) => 25_000 + i));
    const taken = new Set(Array.from({ length: high - 20_000 }, (_, i) => 20_000 + i).filter((p) => !open.has(p)));
    const other = await freePort(taken);
    expect(open.has(other)).toBe(true);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
