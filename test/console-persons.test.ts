// The console's person-layer pages (issue 17) in headless Chromium against a real server with
// real faces: Persons (create, associate, disassociate, rename, register from photos chosen in the
// browser), Clustering (a job to completion, a cluster made a person) and the Gallery (every
// photo of a person, by person and by probe image, shown from local files with the face outlined).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Locator, Page } from 'playwright-core';
import { b64, ok } from './support/api-helpers.js';
import { assertText, chromiumMissing, ensureBuilt, launchChromium, PROJECT, startConsoleServer, waitForCount, type ConsoleServer } from './support/console-browser.js';
import { faceCrops } from './support/face-crops.js';

/** Apart from test/console.test.ts's folder, which that test empties when it starts. */
const SCREENSHOTS = join(PROJECT, 'test-output', 'screenshots-persons');

describe('console in Chromium: persons, clustering, gallery', { skip: chromiumMissing }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let work: string;
  /** The user's album folder, as the browser's folder picker would give it. */
  let albumDir: string;
  let crops: Uint8Array[];
  /** Photos of one person as far as recognition goes: a crop, its mirror image, a brighter smaller copy. */
  let alice: Uint8Array[];
  const faceIds: Record<string, string> = {};
  const requests: string[] = [];
  const pageErrors: string[] = [];

  const byTestId = (id: string, within: Page | Locator = page) => within.locator(`[data-testid="${id}"]`);
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
  const call = async (api: 'v2.0' | 'x/v1', method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.origin}/${api}/appkeys/${server.appKey}${path}`, {
      method,
      headers: { authorization: server.secretKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await res.json()) as any;
  };
  const register = async (groupId: string, image: Uint8Array, externalImageId: string, limit = 1): Promise<string[]> => {
    const r = await call('v2.0', 'POST', `/groups/${groupId}/faces`, { image: { bytes: b64(image) }, limit, externalImageId });
    assert.ok(ok(r), JSON.stringify(r.header));
    return r.data.addedFaces.map((f: any) => f.faceId);
  };
  const file = (dir: string, name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  before(async () => {
    ensureBuilt();
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'facerec-console-persons-'));
    albumDir = join(work, 'album');
    mkdirSync(albumDir);
    server = await startConsoleServer();

    crops = await faceCrops(4);
    assert.ok(crops.length >= 3, 'the fixtures give at least three single-face crops');
    alice = [
      crops[0],
      new Uint8Array(await sharp(crops[0]).flop().jpeg({ quality: 90 }).toBuffer()),
      new Uint8Array(await sharp(crops[0]).resize(260).modulate({ brightness: 1.1 }).jpeg({ quality: 80 }).toBuffer()),
    ];
    // A holiday photo: Alice on the left, someone else on the right.
    const { width, height } = await sharp(crops[0]).metadata();
    const stranger = await sharp(crops[2]).resize(width, height, { fit: 'cover' }).toBuffer();
    const holiday = new Uint8Array(
      await sharp({ create: { width: width! * 2, height: height!, channels: 3, background: '#808080' } })
        .composite([{ input: Buffer.from(crops[0]), left: 0, top: 0 }, { input: stranger, left: width!, top: 0 }])
        .jpeg({ quality: 90 })
        .toBuffer(),
    );

    // The album, indexed as `facerec index ./album --external-id-from filename` would: file names as externalImageIds.
    for (const g of ['album', 'to-cluster']) assert.ok(ok(await call('v2.0', 'POST', '/groups', { groupId: g })));
    [faceIds.alice1] = await register('album', alice[0], 'alice-1.jpg');
    [faceIds.alice2] = await register('album', alice[1], 'alice-2.jpg');
    const holidayFaces = await register('album', holiday, 'holiday.jpg', 2);
    assert.equal(holidayFaces.length, 2, 'both faces of the holiday photo are registered');
    await register('album', crops[2], 'someone-else.jpg');
    file(albumDir, 'alice-1.jpg', alice[0]);
    file(albumDir, 'alice-2.jpg', alice[1]);
    file(albumDir, 'holiday.jpg', holiday);
    file(albumDir, 'someone-else.jpg', crops[2]);
    file(albumDir, 'notes.txt', new TextEncoder().encode('not a photo'));

    // A group to cluster: three photos of Alice, and two other people.
    for (const [i, v] of alice.entries()) [faceIds[`c-a${i}`]] = await register('to-cluster', v, `a${i}.jpg`);
    await register('to-cluster', crops[1], 'b.jpg');
    await register('to-cluster', crops[2], 'c.jpg');

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

    await page.goto(`${server.origin}/console/`);
    await byTestId('app-key').fill(server.appKey);
    await byTestId('secret-key').fill(server.secretKey);
    await byTestId('connect').click();
    await byTestId('tab-persons').waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('persons: create one, associate faces and see them listed, disassociate, rename', async () => {
    await byTestId('tab-persons').click();
    await byTestId('group-select').selectOption('album');
    await page.waitForURL(/#\/persons\/album$/);
    await assertText(byTestId('persons-table'), /No persons yet/);

    await byTestId('new-person-name').fill('Alice');
    await byTestId('create-person').click();
    await page.waitForURL(/#\/persons\/album\/[0-9a-f-]{36}$/);
    await assertText(byTestId('person-title'), /^Alice$/);
    await assertText(byTestId('person-panel-face-count'), /^0$/);
    await waitForCount(byTestId('person-row'), 1);

    await byTestId('associate-face-ids').fill(`${faceIds.alice1},\n${faceIds.alice2}`);
    await byTestId('associate-run').click();
    await assertText(byTestId('person-panel-face-count'), /^2$/);
    await waitForCount(byTestId('person-face-row'), 2);
    await assertText(byTestId('person-face-count'), /^2$/);
    const rows = await byTestId('person-faces-table').locator('tbody').textContent();
    assert.match(rows!, /alice-1\.jpg/);
    assert.match(rows!, /alice-2\.jpg/);
    await shot('01-person-with-faces.png');

    // Disassociate the mirror image; the face stays in the group.
    await byTestId('person-face-row').filter({ hasText: faceIds.alice2 }).locator('[data-testid="disassociate-face"]').click();
    await assertText(byTestId('person-panel-face-count'), /^1$/);
    await waitForCount(byTestId('person-face-row'), 1);

    await byTestId('person-rename-input').fill('Alice B.');
    await byTestId('person-rename').click();
    await assertText(byTestId('person-name'), /^Alice B\.$/);

    const personId = decodeURIComponent(page.url().split('/').pop()!);
    const stored = await call('x/v1', 'GET', `/groups/album/persons/${personId}`);
    assert.equal(stored.data.name, 'Alice B.');
    assert.deepEqual(stored.data.faceIds, [faceIds.alice1]);
  });

  test('persons: a person registered from photos chosen in the browser, one of which has no face', async () => {
    const bob = join(work, 'bob');
    mkdirSync(bob);
    const photos = [
      file(bob, 'bob-1.jpg', crops[1]),
      file(bob, 'bob-2.jpg', new Uint8Array(await sharp(crops[1]).flop().jpeg({ quality: 90 }).toBuffer())),
      file(bob, 'wall.png', new Uint8Array(await sharp({ create: { width: 200, height: 200, channels: 3, background: '#b0a090' } }).png().toBuffer())),
    ];
    await byTestId('register-person-picker').locator('input[type=file]').setInputFiles(photos);
    await assertText(byTestId('register-person-picker-count'), /^3 photos: bob-1\.jpg, bob-2\.jpg, wall\.png$/);
    await byTestId('register-person-name').fill('Bob');
    await byTestId('register-person-run').click();
    await assertText(byTestId('register-person-summary'), /^Bob now has 2 faces/);
    const images = byTestId('register-person-image');
    await waitForCount(images, 3);
    assert.match((await images.nth(0).textContent())!, /bob-1\.jpg.*registered/);
    assert.match((await images.nth(2).textContent())!, /wall\.png.*no face/);
    await waitForCount(byTestId('person-row'), 2);
    await assertText(byTestId('person-row').filter({ hasText: 'Bob' }).locator('[data-testid="person-face-count"]'), /^2$/);
    await shot('02-person-registered.png');
  });

  test('clustering: a job runs to completion with progress, and a cluster becomes a person', async () => {
    await byTestId('tab-clustering').click();
    await byTestId('group-select').selectOption('to-cluster');
    await page.waitForURL(/#\/clusters\/to-cluster$/);
    await byTestId('cluster-start').click();
    await page.waitForURL(/#\/clusters\/to-cluster\/[0-9a-f-]{36}$/);
    await assertText(byTestId('cluster-state'), /^succeeded$/);
    await assertText(byTestId('cluster-percent'), /^100%$/);
    await assertText(byTestId('cluster-summary'), /^5 faces → 1 cluster, 2 unclustered$/);
    const row = byTestId('cluster-row');
    await waitForCount(row, 1);
    await assertText(byTestId('cluster-face-count', row), /^3$/);
    // The representative face's details, read by id: one of Alice's photos.
    await assertText(byTestId('cluster-representative', row), /a[012]\.jpg · confidence \d\.\d{3}/);
    await shot('03-clusters.png');

    await byTestId('cluster-person-name', row).fill('Carol');
    await byTestId('cluster-to-person', row).click();
    await assertText(byTestId('cluster-person-link', row), /^Carol \(3 faces\) →$/);
    const persons = await call('x/v1', 'GET', '/groups/to-cluster/persons');
    assert.equal(persons.data.personCount, 1);
    assert.equal(persons.data.persons[0].name, 'Carol');
    const carol = await call('x/v1', 'GET', `/groups/to-cluster/persons/${persons.data.persons[0].personId}`);
    assert.deepEqual([...carol.data.faceIds].sort(), [faceIds['c-a0'], faceIds['c-a1'], faceIds['c-a2']].sort());

    // The link opens the person on the Persons page.
    await byTestId('cluster-person-link', row).click();
    await assertText(byTestId('person-title'), /^Carol$/);
    await waitForCount(byTestId('person-face-row'), 3);
  });

  /** The photos the gallery shows, with the on-screen rectangles of the picture and its face boxes. */
  const galleryPhotos = async () => {
    const shown: Record<string, { img: { x: number; width: number }; boxes: { x: number; width: number }[] }> = {};
    for (const photo of await byTestId('gallery-photo').all()) {
      const id = (await photo.getAttribute('data-external-image-id'))!;
      const overlay = byTestId('gallery-overlay', photo);
      const img = (await overlay.locator('img').boundingBox())!;
      await waitForCount(byTestId('face-box', overlay), 1);
      const boxes = await Promise.all((await byTestId('face-box', overlay).locator('rect').all()).map(async (r) => (await r.boundingBox())!));
      shown[id] = { img, boxes };
    }
    return shown;
  };

  test('gallery: every photo of a person, from the album folder chosen in the browser, with the face outlined', async () => {
    await byTestId('tab-gallery').click();
    await page.waitForURL(/#\/gallery\/to-cluster$/, { timeout: 5000 }).catch(() => undefined); // the tab keeps the group it was in
    await byTestId('group-select').selectOption('album');
    await page.waitForURL(/#\/gallery\/album$/);
    await byTestId('album-folder').locator('input[type=file]').setInputFiles(albumDir);
    await assertText(byTestId('album-summary'), /^4 photos from your album/);

    const persons = await call('x/v1', 'GET', '/groups/album/persons');
    const aliceId = persons.data.persons.find((p: any) => p.name === 'Alice B.').personId;
    await byTestId('gallery-person').selectOption(aliceId);
    await page.waitForURL(new RegExp(`#/gallery/album/${aliceId}$`));
    await byTestId('gallery-search').click();
    // Her own face (alice-1), her mirror image (alice-2, no longer hers but alike) and the holiday photo; not someone-else.
    await assertText(byTestId('gallery-summary'), /^3 photos found, 3 shown from your album$/);
    await waitForCount(byTestId('gallery-photo'), 3);
    const shown = await galleryPhotos();
    assert.deepEqual(Object.keys(shown).sort(), ['alice-1.jpg', 'alice-2.jpg', 'holiday.jpg']);
    for (const { img, boxes } of Object.values(shown)) {
      for (const b of boxes) assert.ok(b.x >= img.x - 2 && b.x + b.width <= img.x + img.width + 2 && b.width > 10, 'the box is on the picture');
    }
    // On the holiday photo only Alice, on the left half, is outlined.
    const holiday = shown['holiday.jpg'];
    assert.equal(holiday.boxes.length, 1);
    assert.ok(holiday.boxes[0].x + holiday.boxes[0].width <= holiday.img.x + holiday.img.width / 2 + 2, 'the outlined face is the left one');
    assert.equal(await byTestId('gallery-no-file').count(), 0);
    await shot('04-gallery-by-person.png');

    // By a probe image chosen in the browser: the same photos.
    const probe = file(work, 'probe.jpg', alice[2]);
    await byTestId('gallery-mode-image').click();
    await byTestId('gallery-probe').locator('input[type=file]').setInputFiles(probe);
    await assertText(byTestId('gallery-probe'), /probe\.jpg/);
    const answer = page.waitForResponse((r) => r.url().endsWith('/photos/search'));
    await byTestId('gallery-search').click();
    const data = (await (await answer).json()).data;
    assert.deepEqual(data.photos.map((p: any) => p.externalImageId).sort(), ['alice-1.jpg', 'alice-2.jpg', 'holiday.jpg'], JSON.stringify(data));
    await assertText(byTestId('gallery-summary'), /^3 photos found, 3 shown from your album$/);
    assert.deepEqual(Object.keys(await galleryPhotos()).sort(), ['alice-1.jpg', 'alice-2.jpg', 'holiday.jpg']);
    await shot('05-gallery-by-image.png');
  });

  test('the pages only talked to this server, and the album files never left the browser', () => {
    const outside = requests.filter((u) => !u.startsWith(`${server.origin}/console`) && !u.startsWith(`${server.origin}/v2.0/appkeys/`) && !u.startsWith(`${server.origin}/x/v1/appkeys/`) && !u.startsWith('blob:'));
    assert.deepEqual(outside, []);
    assert.ok(requests.some((u) => u.includes('/photos/search')));
    assert.deepEqual(pageErrors, [], 'no script errors or CSP violations');
  });
});
