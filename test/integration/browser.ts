import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

// The browser the Web UI test drives: Debian's chromium (apt package `chromium`, installed by
// scripts/setup.sh) through playwright-core, which never downloads a browser of its own. Below it,
// what an operator looks at in the Temporal Web UI (2.4x), as locators on its real markup.

/** $CHROMIUM_PATH, else /usr/bin/chromium, else `chromium` on PATH. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv}: no such file`);
    return fromEnv;
  }
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  const onPath = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  throw new Error(
    'no chromium for the Web UI test: run `npm run setup` (it installs the apt package chromium) or set CHROMIUM_PATH',
  );
}

/** Headless chromium; --no-sandbox because the tests run as root. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

/** Waits until `locator` is visible; a timeout names what the UI did not show. */
export async function shows(locator: Locator, what: string, timeout = 20_000): Promise<void> {
  try {
    await locator.filter({ visible: true }).first().waitFor({ timeout });
  } catch (err) {
    throw new Error(
      `the Web UI does not show ${what} (${locator}): ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `"Key": "value"` (or `"Key": ["a", "b"]`) as the UI's JSON view prints it, any whitespace. */
function jsonEntry(key: string, value: string | string[]): RegExp {
  const literal = (v: string) => escapeRegExp(JSON.stringify(v));
  const shown = Array.isArray(value) ? `\\[\\s*${value.map(literal).join(',\\s*')}\\s*\\]` : literal(value);
  return new RegExp(`${literal(key)}:\\s*${shown}`);
}

/** A tab of the workflow page (history, pending-activities, user-metadata, search-attributes, ...). */
export async function openTab(page: Page, tab: string): Promise<void> {
  await page.getByTestId(`${tab}-tab`).click();
  await page.waitForURL(new RegExp(`/${tab}(\\?|$)`));
}

/**
 * The markdown the UI renders for a section of the User Metadata tab (Summary, Details, Current
 * Details): each is an iframe below the section's heading.
 */
export function markdownSection(page: Page, heading: string) {
  return page
    .getByRole('heading', { name: heading, exact: true })
    .locator('xpath=ancestor::div[.//iframe][1]')
    .locator('iframe')
    .first()
    .contentFrame();
}

/** The workflow page: its ID in the heading, its type and the status badge. */
export async function showsWorkflow(
  page: Page,
  link: string,
  w: { workflowId: string; workflowType: string; status: string },
): Promise<void> {
  await page.goto(link);
  await shows(
    page.getByTestId('workflow-id-heading').filter({ hasText: w.workflowId }),
    `workflow ${w.workflowId}`,
  );
  await shows(
    page.getByRole('link', { name: w.workflowType, exact: true }),
    `workflow type ${w.workflowType}`,
  );
  await shows(page.getByText(w.status, { exact: true }), `status ${w.status}`);
}

/** The Search Attributes tab: its JSON view holds each attribute with its value. */
export async function showsSearchAttributes(
  page: Page,
  attributes: Record<string, string | string[]>,
): Promise<void> {
  await openTab(page, 'search-attributes');
  const json = page.getByRole('textbox').filter({ hasText: '"indexedFields"' });
  for (const [key, value] of Object.entries(attributes))
    await shows(
      json.filter({ hasText: jsonEntry(key, value) }),
      `search attribute ${key}=${JSON.stringify(value)}`,
    );
}

/**
 * A pending activity: its type on the Pending Activities tab; on the History tab, the pending row
 * of its type whose event (same ID) was scheduled with `summary`. Ends on the History tab with the
 * events loaded.
 */
export async function showsPendingActivity(
  page: Page,
  a: { type: string; summary: string },
  timeout = 20_000,
): Promise<void> {
  await openTab(page, 'pending-activities');
  await shows(page.getByRole('heading', { name: a.type, exact: true }), `${a.type} under Pending Activities`);
  await openTab(page, 'history');
  const scheduled = page
    .getByTestId('event-summary-row')
    .filter({ hasText: 'Activity Task Scheduled' })
    .filter({ hasText: a.summary });
  await shows(scheduled, `a ${a.type} scheduled with summary "${a.summary}" in the event history`);
  const pending = page.getByTestId('pending-activity-summary-row').filter({ hasText: a.type }).first();
  await shows(pending, `a pending ${a.type} activity in the event history`);
  // The pending row carries a placeholder ID until the history has loaded: poll for the match.
  const deadline = Date.now() + timeout;
  let eventId = '';
  while (Date.now() < deadline) {
    eventId = (await pending.getByRole('link').first().innerText()).trim();
    if (await scheduled.filter({ has: page.getByRole('link', { name: eventId, exact: true }) }).count())
      return;
    await page.waitForTimeout(250);
  }
  throw new Error(
    `the Web UI does not show the pending ${a.type} (event ${eventId}) as the one scheduled with summary "${a.summary}"`,
  );
}

/**
 * The User Metadata tab: the static summary, an event with metadata (an activity's summary), and
 * a row of the Current Details table (its first cells, exactly).
 */
export async function showsUserMetadata(
  page: Page,
  m: { summary: string; eventSummary: string; currentDetailsRow: string[] },
): Promise<void> {
  await openTab(page, 'user-metadata');
  await shows(
    markdownSection(page, 'Summary').getByText(m.summary, { exact: true }),
    `summary "${m.summary}"`,
  );
  await shows(page.getByText(m.eventSummary, { exact: true }), `event with metadata "${m.eventSummary}"`);
  const details = markdownSection(page, 'Current Details');
  let row = details.getByRole('row');
  for (const cell of m.currentDetailsRow)
    row = row.filter({ has: details.getByRole('cell', { name: cell, exact: true }) });
  await shows(row, `a Current Details row ${m.currentDetailsRow.join(' | ')}`);
}

/** The workflows list, filtered by a visibility query as an operator types it. */
export async function listShows(
  page: Page,
  at: { uiUrl: string; namespace: string },
  query: string,
  workflowId: string,
): Promise<void> {
  const list = `${at.uiUrl}/namespaces/${encodeURIComponent(at.namespace)}/workflows`;
  await page.goto(`${list}?query=${encodeURIComponent(query)}`);
  await shows(
    page.getByRole('link', { name: workflowId, exact: true }),
    `${workflowId} in the list for ${query}`,
  );
}
