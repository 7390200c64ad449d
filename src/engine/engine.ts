import { decodeImage, DEFAULT_DECODE_LIMITS, type DecodeLimits, type ImageFormat } from './decode.js';
import { FaceDetector, DEFAULT_DETECTOR_OPTIONS, type DetectorOptions } from './detector.js';
import { LandmarkModel, fivePointsFrom68, type FivePoints } from './landmarks.js';
import { alignFace } from './align.js';
import { Embedder } from './embedder.js';
import { LivenessModel } from './liveness.js';
import { DEFAULT_MASK_MODEL, MaskClassifier, type MaskModel } from './mask.js';
import { estimatePose, type Pose } from './pose.js';
import { assessQuality, laplacianVariance, type Quality } from './quality.js';
import { ARCFACE_TEMPLATE } from './align.js';
import { flushDenormalsOnThisThread } from './denormal-probe.js';
import { DEFAULT_TUNING, loadCommittedSession, loadSession, MODEL_VERSION, ort, type SessionTuning } from './models.js';
import { DEFAULT_DETECTOR_SETTING, FaceFinder, type DetectorSetting, type FoundFace } from './face-finder.js';
import { YunetDetector } from './yunet.js';
import { soloOrShared, soloTuning, type RunCounts } from './solo.js';
import type { Point, RgbImage } from './image.js';
import { ImageError } from './errors.js';

export interface AnalyzeOptions {
  /** Compute the identity embedding of each returned face. */
  embed?: boolean;
  /** With `embed`: embed only the first N faces (register stores at most `limit`; the rest need no vector). */
  embedLimit?: number;
  /** Compute the liveness score of each returned face. */
  spoof?: boolean;
  /** Keep only the first N faces of the order described at `orderFaces`. */
  maxFaces?: number;
  /** Report per-stage wall time in milliseconds. */
  timings?: boolean;
  /**
   * The image is already an aligned 224×224 face crop (NHN spoofing `aligned=true`): skip
   * detection and score the whole image for liveness into `imageLiveScore`.
   */
  alignedFace?: boolean;
  /**
   * Also return each face's aligned 112×112 RGB crop (`EngineFace.aligned`): for the mask probe's
   * training and benches, so they read exactly the pixels the engine's mask flag reads.
   */
  alignedCrops?: boolean;
}

export interface FaceLandmarks {
  leftEye: Point;
  rightEye: Point;
  nose: Point;
  leftMouth: Point;
  rightMouth: Point;
}

/** One face, in pixels of the original image (after EXIF rotation). */
export interface EngineFace {
  box: { x: number; y: number; width: number; height: number };
  confidence: number;
  landmarks: FaceLandmarks;
  pose: Pose;
  quality: Quality;
  mask: { masked: boolean; probability: number };
  /** Probability that the face is live (not a print or a screen), when asked for. */
  liveScore?: number;
  /** L2-normalised identity embedding, when asked for. */
  embedding?: Float32Array;
  /** The aligned 112×112 RGB crop, with `alignedCrops`. */
  aligned?: Uint8Array;
}

/** A face whose embedding was asked for: the engine then always computes it. */
export type EmbeddedFace = EngineFace & { embedding: Float32Array };

export interface AnalyzeResult<Face extends EngineFace = EngineFace> {
  width: number;
  height: number;
  format: ImageFormat;
  modelVersion: string;
  faces: Face[];
  /** Liveness of the whole image, for `alignedFace` requests. */
  imageLiveScore?: number;
  timings?: Record<string, number>;
}

/**
 * What `analyze` returns for `options`: with `embed: true` every face carries its embedding, so
 * callers need no check. With `embedLimit` only the first faces do; `embeddedFaces` (analyzer.ts)
 * takes those.
 */
export type AnalyzeResultFor<O extends AnalyzeOptions> = O extends { embed: true }
  ? 'embedLimit' extends keyof O
    ? AnalyzeResult
    : AnalyzeResult<EmbeddedFace>
  : AnalyzeResult;

export const ALIGNED_FACE_SIZE = 224;

export interface EngineConfig {
  decode: DecodeLimits;
  detector: DetectorOptions;
  /** Which detectors find faces (face-finder.ts, FACEREC_DETECTOR). */
  detectors: DetectorSetting;
  /** Which probe sets the mask flag (mask.ts, FACEREC_MASK_MODEL). */
  maskModel: MaskModel;
  flipAverage: boolean;
  tuning: SessionTuning;
  /** Which face comes first (orderFaces). */
  leadFace: LeadFaceRule;
  /**
   * Intra-op threads of a second session per model, used while `alone()` says this engine's
   * request is the only one in flight (solo.ts); 1: no second sessions.
   */
  soloThreads: number;
  /** Whether the current request is alone in the pool (the pool's worker answers it). */
  alone?: () => boolean;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  decode: DEFAULT_DECODE_LIMITS,
  detector: DEFAULT_DETECTOR_OPTIONS,
  detectors: DEFAULT_DETECTOR_SETTING,
  maskModel: DEFAULT_MASK_MODEL,
  // Measured neutral to slightly negative on every accuracy figure, at twice the cost (docs/engine.md).
  flipAverage: false,
  tuning: DEFAULT_TUNING,
  leadFace: 'largest',
  // An engine outside a pool has nobody to ask whether it is alone; the pool turns this on.
  soloThreads: 1,
};

/** The model stages the start-up self-check times (decode and the mask rule are not models). */
export const MODEL_STAGES = ['detect', 'landmarks', 'align', 'embed', 'liveness'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

/** Image bytes in, faces out. Runs in whichever thread creates it (see pool.ts for workers). */
export class FaceEngine {
  readonly modelVersion = MODEL_VERSION;

  private constructor(
    /** Model runs through the lone-request and the single-threaded sessions (solo.ts). */
    readonly runs: RunCounts,
    private readonly config: EngineConfig,
    private readonly finder: FaceFinder,
    private readonly landmarks: LandmarkModel,
    private readonly embedder: Embedder,
    private readonly liveness: LivenessModel,
    private readonly mask: MaskClassifier,
  ) {}

  static async create(config: Partial<EngineConfig> = {}): Promise<FaceEngine> {
    const cfg = { ...DEFAULT_ENGINE_CONFIG, ...config };
    // In a pool's worker this thread already flushes (inherited); an engine made anywhere else
    // (the CLI, a bench) puts its own thread into flush mode here, before its sessions exist.
    if (cfg.tuning.flushDenormals) await flushDenormalsOnThisThread();
    const useRfb = cfg.detectors !== 'yunet';
    const useYunet = cfg.detectors !== 'rfb320';
    const alone = cfg.alone;
    const solo = cfg.soloThreads > 1 && alone ? soloTuning(cfg.tuning, cfg.soloThreads) : undefined;
    const runs: RunCounts = { solo: 0, shared: 0 };
    // Each model: its single-threaded session, and with `solo` a second one for lone requests.
    const both = async (load: (t: SessionTuning) => Promise<ort.InferenceSession>) => {
      const [shared, lone] = await Promise.all([load(cfg.tuning), solo ? load(solo) : undefined]);
      return soloOrShared(shared, lone, alone ?? (() => false), runs);
    };
    const [det, yunet, lm, emb, live] = await Promise.all([
      useRfb ? both((t) => loadSession('detector', t)) : undefined,
      useYunet ? both((t) => loadCommittedSession('yunet', t)) : undefined,
      both((t) => loadSession('landmarks', t)),
      both((t) => loadSession('embedder', t)),
      both((t) => loadSession('liveness', t)),
    ]);
    return new FaceEngine(
      runs,
      cfg,
      new FaceFinder(cfg.detectors, det && new FaceDetector(det, cfg.detector), yunet && new YunetDetector(yunet)),
      new LandmarkModel(lm),
      new Embedder(emb, cfg.flipAverage),
      new LivenessModel(live),
      MaskClassifier.forModel(cfg.maskModel),
    );
  }

  async analyze<O extends AnalyzeOptions = {}>(bytes: Uint8Array, options?: O): Promise<AnalyzeResultFor<O>> {
    const opts: AnalyzeOptions = options ?? {};
    const clock = new StageClock(opts.timings === true);
    const decoded = await decodeImage(bytes, this.config.decode);
    clock.lap('decode');
    if (opts.alignedFace) return (await this.analyzeAlignedFace(decoded)) as AnalyzeResultFor<O>;
    const scale = { x: decoded.originalWidth / decoded.image.width, y: decoded.originalHeight / decoded.image.height };
    // Every face is embedded when asked for, up to embedLimit (analyzeDecoded): the typing holds.
    const faces = await this.analyzeDecoded(decoded.image, opts, clock, scale);
    const result: AnalyzeResult = {
      width: decoded.originalWidth,
      height: decoded.originalHeight,
      format: decoded.format,
      modelVersion: this.modelVersion,
      faces,
      ...(opts.timings ? { timings: clock.result() } : {}),
    };
    return result as AnalyzeResultFor<O>;
  }

  /** The identity embedding of an aligned 112×112 RGB crop (benches that alter a crop before embedding it). */
  embedAligned(aligned: Uint8Array): Promise<Float32Array> {
    return this.embedder.embed(aligned);
  }

  private async analyzeAlignedFace(decoded: Awaited<ReturnType<typeof decodeImage>>): Promise<AnalyzeResult> {
    const { image, originalWidth: width, originalHeight: height, format } = decoded;
    if (width !== ALIGNED_FACE_SIZE || height !== ALIGNED_FACE_SIZE) {
      throw new ImageError('not-aligned-size', `with aligned=true the image must be a ${ALIGNED_FACE_SIZE}×${ALIGNED_FACE_SIZE} px face crop; it is ${width}×${height} px`);
    }
    const whole = { x1: 0, y1: 0, x2: image.width, y2: image.height };
    const imageLiveScore = await this.liveness.liveScore(image, whole);
    return { width, height, format, modelVersion: this.modelVersion, faces: [], imageLiveScore };
  }

  /**
   * Median wall time (ms) of each model stage over `runs` warm runs on a synthetic 640×480 image
   * with a fixed face-sized box: a stage's cost does not depend on what the pixels show, so the
   * self-check needs no photo and its figures compare with bench:latency's single-face column.
   */
  async timeStages(runs = 5): Promise<Record<ModelStage, number>> {
    const width = 640;
    const height = 480;
    const pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251; // texture, not a flat field
    const image: RgbImage = { data: pixels, width, height };
    const box = { x1: 220, y1: 140, x2: 420, y2: 340 };
    const five = ARCFACE_TEMPLATE.map((p) => ({ x: box.x1 + (p.x * 200) / 112, y: box.y1 + (p.y * 200) / 112 })) as FivePoints;
    const samples: Record<ModelStage, number[]> = { detect: [], landmarks: [], align: [], embed: [], liveness: [] };
    const timed = async <T>(stage: ModelStage, work: () => Promise<T> | T): Promise<T> => {
      const t0 = performance.now();
      const result = await work();
      samples[stage].push(performance.now() - t0);
      return result;
    };
    for (let i = 0; i <= runs; i++) {
      await timed('detect', () => this.finder.firstPass(image));
      await timed('landmarks', () => this.landmarks.predict(image, box));
      const aligned = await timed('align', () => alignFace(image, five));
      await timed('embed', () => this.embedder.embed(aligned));
      await timed('liveness', () => this.liveness.liveScore(image, box));
      if (i === 0) for (const k of MODEL_STAGES) samples[k].length = 0; // the first round only warms up
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return Object.fromEntries(MODEL_STAGES.map((k) => [k, median(samples[k])])) as Record<ModelStage, number>;
  }

  /** For callers that already hold decoded pixels (benchmarks, tests); `scale` maps to original pixels. */
  async analyzeDecoded(image: RgbImage, options: AnalyzeOptions = {}, clock = new StageClock(false), scale = { x: 1, y: 1 }): Promise<EngineFace[]> {
    let dets = await this.finder.find(image);
    clock.lap('detect');
    dets = orderFaces(dets, image.width, image.height, this.config.leadFace);
    if (options.maxFaces !== undefined) dets = dets.slice(0, options.maxFaces);

    const found: { det: FoundFace; five: FivePoints; aligned: Uint8Array; pose: Pose; quality: Quality }[] = [];
    for (const det of dets) {
      // YuNet's own five points where it found the face: the 68-point model needs an upright face
      // with a visible mouth, which a YuNet-only face (masked, turned, cut) often is not.
      const five = det.five ?? fivePointsFrom68(await this.landmarks.predict(image, det.box));
      clock.lap('landmarks');
      const aligned = alignFace(image, five);
      const pose = estimatePose(five);
      const faceSize = Math.min((det.box.x2 - det.box.x1) * scale.x, (det.box.y2 - det.box.y1) * scale.y);
      const quality = assessQuality(faceSize, laplacianVariance(aligned, 112, 112), pose);
      clock.lap('align');
      found.push({ det, five, aligned, pose, quality });
    }
    // The photo's faces through the embedder together: one batch is cheaper than one run a face.
    const wanted = (i: number) => options.embed === true && i < (options.embedLimit ?? Infinity);
    const embedIndexes = found.flatMap((_, i) => (wanted(i) || this.mask.needsEmbedding ? [i] : []));
    const computed = await this.embedder.embedAll(embedIndexes.map((i) => found[i].aligned));
    const embeddings = new Map(embedIndexes.map((i, n) => [i, computed[n]]));
    clock.lap('embed');

    const faces: EngineFace[] = [];
    for (const [i, { det, five, aligned, pose, quality }] of found.entries()) {
      const wantEmbedding = wanted(i);
      const embedding = embeddings.get(i);
      const mask = this.mask.classify({ aligned, embedding });
      clock.lap('mask');
      const liveScore = options.spoof ? await this.liveness.liveScore(image, det.box) : undefined;
      clock.lap('liveness');
      faces.push({
        box: { x: det.box.x1 * scale.x, y: det.box.y1 * scale.y, width: (det.box.x2 - det.box.x1) * scale.x, height: (det.box.y2 - det.box.y1) * scale.y },
        confidence: det.score,
        landmarks: toLandmarks(five, scale),
        pose,
        quality,
        mask,
        ...(liveScore !== undefined ? { liveScore } : {}),
        ...(wantEmbedding && embedding ? { embedding } : {}),
        ...(options.alignedCrops ? { aligned } : {}),
      });
    }
    return faces;
  }
}

type Corners = { x1: number; y1: number; x2: number; y2: number };

/** Pixels of the box inside the image: the area of the box the API returns (clamped to the image). */
export function visibleArea(b: Corners, width: number, height: number): number {
  return Math.max(0, Math.min(b.x2, width) - Math.max(b.x1, 0)) * Math.max(0, Math.min(b.y2, height) - Math.max(b.y1, 0));
}

/**
 * Which face leads (is "the face" of compare, search by image and verify). 'largest' is NHN's
 * rule; 'central' gives the lead to the face nearest the centre among those at least
 * LEAD_FACE_AREA_RATIO as large as the largest (insightface's habit; see docs/engine.md for what
 * it is worth on LFW).
 */
export type LeadFaceRule = 'largest' | 'central';

/** Faces whose visible area is at least this share of the largest one count as "as large" for 'central'. */
export const LEAD_FACE_AREA_RATIO = 0.8;

/**
 * Largest first by the area of the box as returned — clipped to the image — as NHN specifies for
 * detect, register's `limit` and the source face of compare/search/verify; equal areas go to the
 * more confident face. Clipping is what keeps a neighbour cut by the frame (whose full box may be
 * larger) behind the photo's subject. With the 'central' rule only the first place changes.
 */
export function orderFaces<T extends { box: Corners; score: number }>(faces: T[], width: number, height: number, rule: LeadFaceRule = 'largest'): T[] {
  const visible = (f: T) => visibleArea(f.box, width, height);
  const sorted = [...faces].sort((a, b) => visible(b) - visible(a) || b.score - a.score);
  if (rule === 'largest' || sorted.length < 2) return sorted;
  const cut = visible(sorted[0]) * LEAD_FACE_AREA_RATIO;
  const offCentre = (f: T) => Math.hypot((f.box.x1 + f.box.x2) / 2 - width / 2, (f.box.y1 + f.box.y2) / 2 - height / 2);
  let lead = 0;
  for (let i = 1; i < sorted.length && visible(sorted[i]) >= cut; i++) {
    if (offCentre(sorted[i]) < offCentre(sorted[lead])) lead = i;
  }
  if (lead > 0) sorted.unshift(...sorted.splice(lead, 1));
  return sorted;
}

function toLandmarks(p: FivePoints, s: { x: number; y: number }): FaceLandmarks {
  const sc = (q: Point) => ({ x: q.x * s.x, y: q.y * s.y });
  return { leftEye: sc(p[0]), rightEye: sc(p[1]), nose: sc(p[2]), leftMouth: sc(p[3]), rightMouth: sc(p[4]) };
}

/** Accumulates wall time per named stage (summed over faces). */
export class StageClock {
  private last = performance.now();
  private readonly totals: Record<string, number> = {};
  constructor(private readonly on: boolean) {}
  lap(stage: string): void {
    if (!this.on) return;
    const now = performance.now();
    this.totals[stage] = (this.totals[stage] ?? 0) + (now - this.last);
    this.last = now;
  }
  result(): Record<string, number> {
    return { ...this.totals };
  }
}
