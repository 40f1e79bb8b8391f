/**
 * Slack's `<!date^…>` tokens. The server renders them in UTC (a pure, testable text); the page's
 * script re-renders each `<time>` in the reader's own time zone, as Slack does.
 */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Formats Unix seconds with Slack's date tokens, in UTC ("{date_short_pretty} at {time}"). */
export function formatSlackDate(seconds: number, format: string): string {
  const d = new Date(seconds * 1000);
  const y = d.getUTCFullYear();
  const month = MONTHS[d.getUTCMonth()] ?? '';
  const day = d.getUTCDate();
  const short = `${month.slice(0, 3)} ${day}, ${y}`;
  const long = `${DAYS[d.getUTCDay()]}, ${month} ${ordinal(day)}, ${y}`;
  const tokens: Record<string, string> = {
    date_num: `${y}-${pad(d.getUTCMonth() + 1)}-${pad(day)}`,
    date: `${month} ${ordinal(day)}, ${y}`,
    date_short: short,
    date_long: long,
    date_pretty: `${month} ${ordinal(day)}, ${y}`,
    date_short_pretty: short,
    date_long_pretty: long,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`,
    time_secs: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`,
  };
  return format.replace(/\{([a-z_]+)\}/g, (whole, name: string) => tokens[name] ?? whole);
}
