/** Terminal colours for the demo, off when output is not a terminal or NO_COLOR is set. */
const on = process.stdout.isTTY && !process.env.NO_COLOR;
const wrap = (code: string) => (text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

export const paint = {
  head: (text: string) => wrap('1;36')(`\n== ${text}`),
  alert: wrap('1;31'),
  warn: wrap('33'),
};
