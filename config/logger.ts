import pino from 'pino';

/**
 * JSON lines, one per event; readable lines when a person is watching a terminal. JSON lines are written
 * asynchronously: a slow reader of stdout (a log shipper, a full pipe) never stalls requests; what is
 * buffered is flushed when the process exits (only a SIGKILL can lose the last lines).
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', name = 'escalations') {
  const pretty = process.stdout.isTTY && process.env.NODE_ENV !== 'production';
  const options = {
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.apiKey', '*.token', '*.password'], censor: '[redacted]' },
  };
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } });
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
export type Logger = pino.Logger;
