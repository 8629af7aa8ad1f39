import { duration, localTime } from '../../playbook/format';

const T = Date.UTC(2026, 0, 5, 15, 0); // Mon 5 Jan 2026, 15:00 UTC

test('localTime writes a time in the zone asked for, the same on every call (one formatter per zone)', () => {
  expect(localTime(T, 'America/New_York')).toBe('Mon, Jan 5, 10:00 AM EST');
  expect(localTime(T, 'Europe/Paris')).toBe('Mon, Jan 5, 4:00 PM GMT+1');
  expect(localTime(T, 'America/New_York')).toBe('Mon, Jan 5, 10:00 AM EST');
  expect(localTime(T)).toBe('Mon, Jan 5, 3:00 PM UTC');
});

test('a zone Intl does not know falls back to ISO time, every time', () => {
  expect(localTime(T, 'Mars/Olympus_Mons')).toBe('2026-01-05T15:00:00.000Z');
  expect(localTime(T, 'Mars/Olympus_Mons')).toBe('2026-01-05T15:00:00.000Z');
});

test('more zones than the cache holds still format correctly', () => {
  for (let i = 0; i < 450; i++) expect(localTime(T, `Etc/GMT${i % 2 ? '+' : '-'}${(i % 8) + 1}`)).toMatch(/^Mon, Jan 5, /);
  for (let i = 0; i < 250; i++) localTime(T, `Nowhere/Zone_${i}`);
  expect(localTime(T, 'Asia/Tokyo')).toBe('Tue, Jan 6, 12:00 AM GMT+9');
});

test('duration reads as people say it', () => {
  expect(duration(125 * 60_000)).toBe('2h 5m');
  expect(duration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 4h');
});
