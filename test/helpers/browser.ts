/**
 * Renders a page in a real headless Chromium (Debian's, driven by puppeteer-core; no browser is
 * ever downloaded) and reports what a person would see: console errors, requests the page tried,
 * each chart's drawn marks, the text, and a screenshot.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

const CANDIDATES = [
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

/** The browser to use: $PULSE_BROWSER, else Debian's chromium; undefined when none is installed. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PULSE_BROWSER) return existsSync(env.PULSE_BROWSER) ? env.PULSE_BROWSER : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

export const BROWSER_SEARCH = `$PULSE_BROWSER, ${CANDIDATES.join(', ')}`;

/** Flags that keep a headless run on this machine: no GPU, no sandbox (root in CI), no background traffic. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Containers often have a small /dev/shm, where Chromium's renderer would crash.
  '--disable-dev-shm-usage',
];

export interface ChartSeen {
  id: string;
  /** Elements marked as drawn values, and how many of them have a visible size. */
  marks: number;
  visibleMarks: number;
  width: number;
  height: number;
}

export interface Rendered {
  consoleErrors: string[];
  /** URLs other than the page itself that the page tried to load (all blocked). */
  requests: string[];
  charts: ChartSeen[];
  text: string;
  screenshot: string;
}

export async function renderPage(
  executablePath: string,
  file: string,
  screenshot: string,
): Promise<Rendered> {
  const profile = mkdtempSync(join(tmpdir(), 'pulse-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir: profile,
    args: FLAGS,
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 900 });
    const url = pathToFileURL(file).href;
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.url() === url) return void request.continue();
      requests.push(request.url());
      void request.abort();
    });
    await page.goto(url, { waitUntil: 'load' });
    const seen = await page.evaluate(() => ({
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person reads.
      text: document.body.innerText,
      charts: [...document.querySelectorAll('figure[data-chart]')].map((figure) => {
        const svg = figure.querySelector('svg')?.getBoundingClientRect();
        const marks = [...figure.querySelectorAll('[data-mark]')];
        return {
          id: figure.getAttribute('data-chart') ?? '',
          marks: marks.length,
          visibleMarks: marks.filter((m) => {
            const box = m.getBoundingClientRect();
            return box.width > 0 && box.height > 0;
          }).length,
          width: svg?.width ?? 0,
          height: svg?.height ?? 0,
        };
      }),
    }));
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot as `${string}.png`, fullPage: true });
    return { consoleErrors, requests, ...seen, screenshot };
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
