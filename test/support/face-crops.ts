// Small single-face photos cut from the fixture photos: quick to analyse, and each registers
// exactly one face, which lets tests count faces exactly.
import sharp from 'sharp';
import { engine } from './api-helpers.js';
import { fixture } from './fixtures.js';

const PHOTOS = ['sample1.jpg', 'sample2.jpg', 'sample3.jpg', 'sample4.jpg', 'sample5.jpg', 'sample6.jpg'];

/**
 * Up to `count` JPEG crops, each one face with 40% margin, scaled to `width` px (the face stays
 * well above the 60 px NHN needs for recognition). Crops that a fresh detection does not see as
 * exactly one recognisable face are skipped.
 */
export async function faceCrops(count = 8, width = 200): Promise<Uint8Array[]> {
  const e = await engine();
  const crops: Uint8Array[] = [];
  for (const name of PHOTOS) {
    const photo = fixture(name);
    const { width: W, height: H } = await sharp(photo).metadata();
    for (const f of (await e.analyze(photo)).faces) {
      const margin = 0.4 * Math.max(f.box.width, f.box.height);
      const left = Math.max(0, Math.round(f.box.x - margin));
      const top = Math.max(0, Math.round(f.box.y - margin));
      const right = Math.min(W!, Math.round(f.box.x + f.box.width + margin));
      const bottom = Math.min(H!, Math.round(f.box.y + f.box.height + margin));
      const crop = await sharp(photo).extract({ left, top, width: right - left, height: bottom - top }).resize(width).jpeg({ quality: 85 }).toBuffer();
      const check = await e.analyze(crop);
      if (check.faces.length === 1 && check.faces[0].quality.recognizable) crops.push(new Uint8Array(crop));
      if (crops.length === count) return crops;
    }
  }
  return crops;
}

/** The three-person fixture photo at a size where all three faces are recognisable. */
export async function groupPhoto(width = 800): Promise<Uint8Array> {
  return new Uint8Array(await sharp(fixture('sample1.jpg')).resize(width).jpeg({ quality: 85 }).toBuffer());
}
