import pino from 'pino';

/** JSON lines, one per event; readable lines when a person is watching a terminal. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', name = 'escalations') {
  const pretty = process.stdout.isTTY && process.env.NODE_ENV !== 'production';
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.apiKey', '*.token', '*.password'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  });
}
export type Logger = pino.Logger;
