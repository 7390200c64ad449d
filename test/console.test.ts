import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import Fastify, { type FastifyInstance } from 'fastify';
import { CONSOLE_SETTINGS_PATH, defaultConsoleRoot, webConsole } from '../src/http/console.js';
import { buildServer } from '../src/http/server.js';
import { assertText, assertTexts, CHROMIUM, chromiumMissing, ensureBuilt, launchChromium, PROJECT, setRange, startConsoleServer, waitForCount, type ConsoleServer } from './support/console-browser.js';
import { fixture, fixturePath } from './support/fixtures.js';

const SCREENSHOTS = join(PROJECT, 'test-output', 'screenshots');

/** The plugin alone, on a Fastify with the server's router options (trailing slashes ignored). */
function pluginOnly(root: string): FastifyInstance {
  const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
  app.register(webConsole, { root });
  return app;
}

describe('console plugin (no browser)', () => {
  let fakeBuild: string;
  before(() => {
    fakeBuild = mkdtempSync(join(tmpdir(), 'facerec-console-'));
    mkdirSync(join(fakeBuild, 'assets'));
    writeFileSync(join(fakeBuild, 'index.html'), '<!doctype html><title>facerec console</title><script type="module" src="/console/assets/app-1234.js"></script>');
    writeFileSync(join(fakeBuild, 'assets', 'app-1234.js'), 'console.log(1)');
  });
  after(() => rmSync(fakeBuild, { recursive: true, force: true }));

  test('serves the page at /console and /console/, never cached, with a strict CSP', async () => {
    const app = pluginOnly(fakeBuild);
    for (const url of ['/console', '/console/']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.match(r.headers['content-type'] as string, /^text\/html/);
      assert.match(r.body, /facerec console/);
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.match(r.headers['content-security-policy'] as string, /script-src 'self'/);
      assert.match(r.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    await app.close();
  });

  test('serves hashed assets as immutable and nothing outside the build', async () => {
    const app = pluginOnly(fakeBuild);
    const js = await app.inject({ url: '/console/assets/app-1234.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.match(js.headers['cache-control'] as string, /immutable/);
    for (const url of ['/console/assets/missing.js', '/console/../package.json', '/console/%2e%2e/package.json']) {
      assert.equal((await app.inject({ url })).statusCode, 404, url);
    }
    await app.close();
  });

  test('without a build, /console says how to build it instead of failing', async () => {
    const app = pluginOnly(join(fakeBuild, 'not-there'));
    for (const url of ['/console', '/console/', '/console/assets/app.js']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 503, url);
      assert.match(r.body, /not built/);
      assert.match(r.body, /npm run build:web/);
    }
    await app.close();
  });

  test('/console/settings.json tells the console the upload cap, without credentials', async () => {
    for (const [options, expected] of [[{}, 3_000_000], [{ maxImageBytes: 1_234_567 }, 1_234_567]] as const) {
      const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
      app.register(webConsole, { root: fakeBuild, ...options });
      const r = await app.inject({ url: CONSOLE_SETTINGS_PATH });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.json(), { maxImageBytes: expected });
      await app.close();
    }
  });

  test('finds web/dist from the package root', () => {
    assert.equal(defaultConsoleRoot(), join(PROJECT, 'web', 'dist'));
  });
});

// ── end to end, in headless Chromium ───────────────────────────────────────

/** A JPEG of one face of `photo` with half a box of margin: a "new" photo of a registered person. */
async function faceCrop(photo: Uint8Array, bbox: { x0: number; y0: number; x1: number; y1: number }): Promise<Buffer> {
  const meta = await sharp(photo).metadata();
  const w = meta.width!;
  const h = meta.height!;
  const left = Math.max(0, Math.round((bbox.x0 - (bbox.x1 - bbox.x0) * 0.5) * w));
  const top = Math.max(0, Math.round((bbox.y0 - (bbox.y1 - bbox.y0) * 0.5) * h));
  const width = Math.min(w - left, Math.round((bbox.x1 - bbox.x0) * 2 * w));
  const height = Math.min(h - top, Math.round((bbox.y1 - bbox.y0) * 2 * h));
  return sharp(photo).extract({ left, top, width, height }).jpeg({ quality: 92 }).toBuffer();
}

const area = (b: { x0: number; y0: number; x1: number; y1: number }) => (b.x1 - b.x0) * (b.y1 - b.y0);

describe('console in Chromium: detect, compare, groups, register, browse, search, verify, privacy', { skip: chromiumMissing }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let work: string;
  /** A crop around the largest face of sample5, as a file the browser can upload. */
  let cropPath: string;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  /** The whole page, or one card of it when the page has grown long. */
  const shot = async (name: string, part?: Locator) => {
    if (part) await part.screenshot({ path: join(SCREENSHOTS, name) });
    else await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
  };
  const byTestId = (id: string, within: Page | Locator = page) => within.locator(`[data-testid="${id}"]`);
  const upload = (pickerTestId: string, file: string) => byTestId(pickerTestId).locator('input[type=file]').setInputFiles(file);
  /** API calls straight from the test, for setup the UI is not being tested on. */
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.origin}/v2.0/appkeys/${server.appKey}${path}`, {
      method,
      headers: { authorization: server.secretKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await res.json()) as any;
  };

  before(async () => {
    ensureBuilt();
    rmSync(SCREENSHOTS, { recursive: true, force: true }); // no stale pictures from an older run
    mkdirSync(SCREENSHOTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'facerec-console-files-'));
    server = await startConsoleServer();

    const sample5 = fixture('sample5.jpg');
    const detected = await api('POST', '/faces/detect', { image: { bytes: Buffer.from(sample5).toString('base64') } });
    const largest = detected.data.faceDetails.reduce((a: any, b: any) => (area(b.bbox) > area(a.bbox) ? b : a));
    cropPath = join(work, 'sample5-largest-face.jpg');
    writeFileSync(cropPath, await faceCrop(sample5, largest.bbox));

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30_000);
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} ${r.url()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('keys: wrong keys show the NHN error, right keys are kept for the session', async () => {
    await page.goto(`${server.origin}/console/`);
    await byTestId('app-key').fill(server.appKey);
    await byTestId('secret-key').fill('not-the-secret');
    await byTestId('connect').click();
    await assertText(byTestId('error'), /-41005 UnauthorizedAppKeyOrSecretKey/);
    await assertText(byTestId('error-detail'), /the appKey and the secret key in Authorization do not match an app/);
    await shot('01-keys-rejected.png');

    await byTestId('secret-key').fill(server.secretKey);
    await byTestId('connect').click();
    await byTestId('tab-detect').waitFor();
    assert.equal(await byTestId('current-app-key').textContent(), server.appKey);
    const stored = await page.evaluate(() => sessionStorage.getItem('facerec.console.keys'));
    assert.deepEqual(JSON.parse(stored!), { appKey: server.appKey, secretKey: server.secretKey });
    await page.reload();
    await byTestId('tab-detect').waitFor(); // still connected after a reload
  });

  test('detect: sample1 shows 3 faces with boxes, 5 landmarks each, pose, mask and spoofing', async () => {
    await byTestId('tab-detect').click();
    await upload('detect-picker', fixturePath('sample1.jpg'));
    await assertText(byTestId('detect-summary'), /^3 faces detected · 0 judged spoof \(balanced\)/);
    const overlay = byTestId('detect-overlay');
    assert.equal(await byTestId('face-box', overlay).count(), 3);
    assert.equal(await byTestId('landmark', overlay).count(), 15);
    const rows = byTestId('face-row', byTestId('detect-table'));
    assert.equal(await rows.count(), 3);
    for (const row of await rows.all()) {
      const text = (await row.textContent())!;
      assert.match(text, /live/, 'spoofing was asked for: every face has a verdict');
      assert.match(text, /mask/);
      assert.match(text, /[+−]?\d+°/, 'pose in degrees');
    }
    // The boxes sit on the picture: inside the image's rectangle on screen.
    const img = (await overlay.locator('img').boundingBox())!;
    for (const box of await byTestId('face-box', overlay).locator('rect').all()) {
      const b = (await box.boundingBox())!;
      assert.ok(b.x >= img.x - 2 && b.y >= img.y - 2 && b.x + b.width <= img.x + img.width + 2 && b.y + b.height <= img.y + img.height + 2);
      assert.ok(b.width > 10 && b.height > 10);
    }
    await shot('02-detect-sample1.png');
  });

  test('detect: a phone-sized photo over the upload limit is shrunk in the browser, said so, and detected', async () => {
    // sample1 upscaled to 4800×3200 at JPEG quality 100, sharpened: over 5 MB, like a phone photo.
    const big = await sharp(fixture('sample1.jpg')).resize({ width: 4800 }).sharpen().jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
    assert.ok(big.length > 3_000_000, `the test photo is ${big.length} bytes`);
    const bigPath = join(work, 'phone-photo.jpg');
    writeFileSync(bigPath, big);
    const sent: number[] = [];
    const onRequest = (r: import('playwright-core').Request) => {
      if (r.url().endsWith('/faces/detect')) sent.push(r.postDataBuffer()?.length ?? 0);
    };
    page.on('request', onRequest);
    await byTestId('tab-detect').click();
    await upload('detect-picker', bigPath);
    const mb = (n: number) => (n / 1_000_000).toFixed(1);
    await assertText(byTestId('image-shrunk', byTestId('detect-picker')), new RegExp(`^photo was ${mb(big.length)} MB, over the server's upload limit: sent as (\\d\\.\\d) MB (\\d+)×(\\d+)$`));
    const [, sentMb, width, height] = /sent as (\d\.\d) MB (\d+)×(\d+)/.exec((await byTestId('image-shrunk').textContent())!)!;
    assert.ok(Number(sentMb) <= 3.0, `sent ${sentMb} MB`);
    assert.ok(Number(width) < 4800 && Math.abs(Number(width) / Number(height) - 1.5) < 0.01, `the aspect ratio is kept: ${width}×${height}`);
    await assertText(byTestId('detect-summary'), /^3 faces detected/);
    page.off('request', onRequest);
    assert.equal(sent.length, 1);
    assert.ok(sent[0] < 3_000_000 + 4096, `the multipart body was ${sent[0]} bytes`);
    await shot('02b-detect-shrunk-photo.png');
  });

  test('compare: one request, the threshold slider re-splits matched and unmatched', async () => {
    await byTestId('tab-compare').click();
    await upload('compare-source', cropPath);
    await upload('compare-target', fixturePath('sample5.jpg'));
    const before = requests.filter((u) => u.endsWith('/faces/compare')).length;
    await byTestId('compare-run').click();
    await assertText(byTestId('compare-summary'), /^\d of 5 target faces match at threshold 70/);
    assert.equal(await byTestId('face-box', byTestId('compare-target-overlay')).count(), 5);
    assert.equal(await byTestId('face-crop', byTestId('compare-table')).count(), 5);
    const similarities = (await byTestId('compare-table').locator('td.num').allTextContents()).map(Number);
    assert.equal(similarities.length, 5, 'every target face comes back with its similarity');
    assert.ok(similarities[0] >= 90 && similarities.slice(1).every((s) => s < 90), `the crop's own face first: ${similarities}`);
    for (const threshold of [90, 1, 70]) {
      await setRange(byTestId('compare-threshold'), threshold);
      const expected = similarities.filter((s) => s >= threshold).length;
      await assertText(byTestId('compare-summary'), new RegExp(`^${expected} of 5 target faces match at threshold ${threshold}`));
      assert.equal(await byTestId('compare-table').locator('.badge', { hasText: /^matched$/ }).count(), expected);
      if (threshold === 90) await shot('03-compare-threshold-90.png');
    }
    assert.equal(requests.filter((u) => u.endsWith('/faces/compare')).length, before + 1, 'the slider does not call the API');
  });

  test('groups: create (and a bad id shows -40010), page with limit + nextToken, delete', async () => {
    for (let i = 1; i <= 6; i++) assert.equal((await api('POST', '/groups', { groupId: `g-0${i}` })).header.resultCode, 0);
    await byTestId('tab-groups').click();
    await byTestId('new-group-id').fill('Bad Id');
    await byTestId('create-group').click();
    await assertText(byTestId('error'), /-40010 InvalidGroupID/);
    // The server's reason, not only what -40010 usually means.
    await assertText(byTestId('error'), /-40010 InvalidGroupID — groupId contains 'B', a space, 'I'; groupId may use lower-case letters a-z, digits 0-9 and '-' only/);
    await shot('04-groups-bad-id.png');

    await byTestId('new-group-id').fill('staff');
    await byTestId('create-group').click();
    await byTestId('group-link').filter({ hasText: 'staff' }).waitFor();

    await byTestId('page-size').selectOption('5');
    await assertTexts(byTestId('group-link'), ['g-01', 'g-02', 'g-03', 'g-04', 'g-05']);
    await byTestId('next-page').click();
    await assertTexts(byTestId('group-link'), ['g-06', 'staff']);
    assert.equal(await byTestId('page-number').textContent(), 'page 2');
    assert.ok(await byTestId('next-page').isDisabled(), 'no nextToken on the last page');
    await shot('05-groups-page-2.png');

    const g06 = byTestId('group-row').filter({ hasText: 'g-06' });
    await byTestId('delete-group', g06).click(); // arms
    await byTestId('delete-group', g06).click(); // confirms
    await assertTexts(byTestId('group-link'), ['staff']);
    assert.equal((await api('GET', '/groups/g-06')).header.resultCode, -40030);
  });

  test('register: the 5 faces of sample5 are added and drawn', async () => {
    await byTestId('group-link').filter({ hasText: 'staff' }).click();
    await assertText(byTestId('group-title'), /^staff$/);
    await upload('register-picker', fixturePath('sample5.jpg'));
    assert.equal(await byTestId('register-external-id').inputValue(), 'sample5.jpg', 'file name as externalImageId');
    await byTestId('register-limit').fill('5');
    await byTestId('register-run').click();
    await assertText(byTestId('register-summary'), /^5 added, 0 not added/);
    assert.equal(await byTestId('face-box', byTestId('register-overlay')).count(), 5);
    await assertText(byTestId('group-face-count'), /^5$/);
    await shot('06-register-sample5.png');
  });

  test('browse: the faces list pages through the 5 stored faces', async () => {
    const faces = byTestId('faces-table');
    await waitForCount(byTestId('stored-face-row', faces), 5);
    const pager = byTestId('faces-pager');
    await byTestId('page-size', pager).selectOption('2');
    await waitForCount(byTestId('stored-face-row', faces), 2);
    await byTestId('next-page', pager).click();
    await assertText(byTestId('page-number', pager), /^page 2$/);
    await waitForCount(byTestId('stored-face-row', faces), 2);
    await shot('07-faces-page-2-of-3.png', page.locator('#faces'));
    await byTestId('next-page', pager).click();
    await assertText(byTestId('page-number', pager), /^page 3$/);
    await waitForCount(byTestId('stored-face-row', faces), 1);
    await byTestId('page-size', pager).selectOption('10');
    await waitForCount(byTestId('stored-face-row', faces), 5);
    for (const row of await byTestId('stored-face-row', faces).all()) assert.match((await row.textContent())!, /sample5\.jpg/);
  });

  test('search by image: the crop finds its own face first, with the query crop shown', async () => {
    const stored = (await api('GET', '/groups/staff/faces?limit=10')).data.faces as { faceId: string; bbox: any }[];
    const largest = stored.reduce((a, b) => (area(b.bbox) > area(a.bbox) ? b : a));

    await byTestId('search-mode-image').click();
    await upload('search-picker', cropPath);
    await setRange(byTestId('search-threshold'), 1); // all 5 faces come back, best first
    await byTestId('search-run').click();
    // Every face with similarity ≥ 1; a face scored 0 is left out by the server.
    await assertText(byTestId('search-summary'), /^[345] matches at threshold ≥ 1, best first/);
    const ids = await byTestId('match-face-id').allTextContents();
    assert.equal(ids[0], largest.faceId, 'the best match is the face the crop was cut from');
    const sims = (await byTestId('match-similarity').allTextContents()).map(Number);
    assert.ok(sims[0] >= 90, `same photo ${sims[0]}`);
    assert.ok(sims.slice(1).every((s) => s < 90), `others ${sims}`);
    assert.deepEqual([...sims].sort((a, b) => b - a), sims, 'best first');
    // The query crop is drawn (cut from the uploaded file in the browser).
    const crop = byTestId('face-crop', byTestId('search-result'));
    assert.ok(await crop.evaluate((c: HTMLCanvasElement) => c.width > 0 && c.height > 0));
    await assertText(byTestId('search-result'), /stored faces have no pictures/);
    await shot('08-search-by-image.png', page.locator('#search'));
  });

  test('search by faceId: from the face list, the query face itself is not in the results', async () => {
    const row = byTestId('stored-face-row').first();
    const faceId = (await byTestId('face-id', row).textContent())!;
    await byTestId('search-by-face', row).click();
    await assertText(byTestId('search-result'), new RegExp(`query faceId\\s*${faceId}`));
    assert.equal(await byTestId('search-face-id').inputValue(), faceId);
    const ids = await byTestId('match-face-id').allTextContents();
    assert.ok(!ids.includes(faceId));
    assert.ok(ids.length >= 2 && ids.length <= 4, `threshold 1: the other faces, ${ids.length}`);
    await shot('09-search-by-face-id.png', page.locator('#search'));
  });

  test('verify: the crop against its own stored face is the same person', async () => {
    const stored = (await api('GET', '/groups/staff/faces?limit=10')).data.faces as { faceId: string; bbox: any }[];
    const largest = stored.reduce((a, b) => (area(b.bbox) > area(a.bbox) ? b : a));
    await byTestId('verify-face', byTestId('stored-face-row').filter({ hasText: largest.faceId })).click();
    assert.equal(await byTestId('verify-face-id').inputValue(), largest.faceId);
    await upload('verify-picker', cropPath);
    await byTestId('verify-run').click();
    await assertText(byTestId('verify-verdict'), /same person/);
    assert.ok(Number(await byTestId('verify-similarity').textContent()) >= 90);
    await shot('10-verify.png', page.locator('#verify'));
  });

  test('privacy: look up a subject across groups with its consent, download the CSV, erase after confirming', async () => {
    const image = { bytes: Buffer.from(fixture('sample1.jpg')).toString('base64') };
    const xRegister = await fetch(`${server.origin}/x/v1/appkeys/${server.appKey}/groups/staff/faces`, {
      method: 'POST',
      headers: { authorization: server.secretKey, 'content-type': 'application/json' },
      body: JSON.stringify({ image, limit: 1, externalImageId: 'console-subject', consentRef: 'form-42', purpose: 'visitor badge' }),
    });
    assert.equal(((await xRegister.json()) as any).header.resultCode, 0);
    assert.equal((await api('POST', '/groups', { groupId: 'visitors' })).header.resultCode, 0);
    assert.equal((await api('POST', '/groups/visitors/faces', { image, limit: 1, externalImageId: 'console-subject' })).header.resultCode, 0);

    await byTestId('tab-privacy').click();
    await byTestId('subject-id').fill('bad id');
    await byTestId('subject-lookup').click();
    await assertText(byTestId('error'), /-40000 InvalidParam/);
    await byTestId('subject-id').fill('console-subject');
    await byTestId('subject-lookup').click();
    await assertText(byTestId('subject-summary'), /^2 faces held for console-subject in 2 group/);
    await waitForCount(byTestId('subject-face-row'), 2);
    assert.deepEqual((await byTestId('subject-consent-ref').allTextContents()).sort(), ['form-42', '—']);
    assert.equal(await byTestId('error').count(), 0, 'the earlier error is gone');
    await shot('12-privacy-subject.png');

    const [download] = await Promise.all([page.waitForEvent('download'), byTestId('subject-csv').click()]);
    assert.equal(download.suggestedFilename(), 'subject-console-subject.csv');
    const { readFileSync } = await import('node:fs');
    const csv = readFileSync((await download.path())!, 'utf8');
    assert.equal(csv.split('\r\n')[0], 'groupId,faceId,imageId,externalImageId,createTime,x0,y0,x1,y1,confidence,consentRef,purpose');
    assert.ok(csv.includes(',form-42,visitor badge\r\n'), csv);

    await byTestId('subject-erase').click();
    await assertText(byTestId('subject-erase'), /^really erase all 2\?$/);
    assert.equal((await api('GET', '/groups/visitors')).data.faceCount, 1, 'nothing erased before the confirmation');
    await byTestId('subject-erase').click();
    await assertText(byTestId('erase-summary'), /^Erased 2 faces of console-subject \((staff: 1, visitors: 1|visitors: 1, staff: 1)\)/);
    await assertText(byTestId('subject-summary'), /^0 faces held for console-subject/);
    assert.equal((await api('GET', '/groups/visitors')).data.faceCount, 0);
    await shot('13-privacy-erased.png');
  });

  test('the page only talked to this server: the console files, the v2.0 API and the privacy extension', () => {
    const outside = requests.filter((u) => !u.startsWith(`${server.origin}/console`) && !u.startsWith(`${server.origin}/v2.0/appkeys/`) && !u.startsWith(`${server.origin}/x/v1/appkeys/`) && !u.startsWith('blob:'));
    assert.deepEqual(outside, []);
    assert.ok(requests.some((u) => u.includes('/v2.0/appkeys/')));
    assert.ok(requests.some((u) => u.includes('/x/v1/appkeys/')));
    assert.deepEqual(pageErrors, [], 'no script errors or CSP violations');
  });
});

describe('API docs in Chromium', { skip: chromiumMissing }, () => {
  test('/docs shows every operation, with no CSP violation or other error in the console', async () => {
    const app = buildServer({ service: {} as never, apps: {} as never, maxImageBytes: 3_000_000 }, { metrics: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(e.message));
      // Swagger UI's policy must stay: the page is checked under it, not without it.
      const docs = await page.goto(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/docs`);
      assert.match(docs!.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
      assert.ok((await page.locator('.opblock').count()) > 20, 'the operations are listed');
      await page.locator('.topbar img').waitFor(); // the plugin's logo swap ran: the page is complete
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, '11-docs.png') });
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await app.close();
    }
  });
});
