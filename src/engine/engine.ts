import { decodeImage, DEFAULT_DECODE_LIMITS, type DecodeLimits, type ImageFormat } from './decode.js';
import { FaceDetector, DEFAULT_DETECTOR_OPTIONS, type DetectorOptions } from './detector.js';
import { LandmarkModel, fivePointsFrom68, type FivePoints } from './landmarks.js';
import { alignFace } from './align.js';
import { Embedder } from './embedder.js';
import { LivenessModel } from './liveness.js';
import { MaskClassifier } from './mask.js';
import { estimatePose, type Pose } from './pose.js';
import { assessQuality, laplacianVariance, type Quality } from './quality.js';
import { loadSession, verifyModels, MODEL_VERSION } from './models.js';
import type { Point, RgbImage } from './image.js';
import { ImageError } from './errors.js';

export interface AnalyzeOptions {
  /** Compute the identity embedding of each returned face. */
  embed?: boolean;
  /** Compute the liveness score of each returned face. */
  spoof?: boolean;
  /** Keep only the largest N faces (after sorting by box area, largest first). */
  maxFaces?: number;
  /** Report per-stage wall time in milliseconds. */
  timings?: boolean;
  /**
   * The image is already an aligned 224×224 face crop (NHN spoofing `aligned=true`): skip
   * detection and score the whole image for liveness into `imageLiveScore`.
   */
  alignedFace?: boolean;
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
}

export interface AnalyzeResult {
  width: number;
  height: number;
  format: ImageFormat;
  modelVersion: string;
  faces: EngineFace[];
  /** Liveness of the whole image, for `alignedFace` requests. */
  imageLiveScore?: number;
  timings?: Record<string, number>;
}

export const ALIGNED_FACE_SIZE = 224;

export interface EngineConfig {
  decode: DecodeLimits;
  detector: DetectorOptions;
  flipAverage: boolean;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  decode: DEFAULT_DECODE_LIMITS,
  detector: DEFAULT_DETECTOR_OPTIONS,
  flipAverage: true,
};

/** Image bytes in, faces out. Runs in whichever thread creates it (see pool.ts for workers). */
export class FaceEngine {
  readonly modelVersion = MODEL_VERSION;

  private constructor(
    private readonly config: EngineConfig,
    private readonly detector: FaceDetector,
    private readonly landmarks: LandmarkModel,
    private readonly embedder: Embedder,
    private readonly liveness: LivenessModel,
    private readonly mask: MaskClassifier,
  ) {}

  static async create(config: Partial<EngineConfig> = {}): Promise<FaceEngine> {
    const cfg = { ...DEFAULT_ENGINE_CONFIG, ...config };
    verifyModels();
    const [det, lm, emb, live] = await Promise.all([
      loadSession('detector'),
      loadSession('landmarks'),
      loadSession('embedder'),
      loadSession('liveness'),
    ]);
    return new FaceEngine(
      cfg,
      new FaceDetector(det, cfg.detector),
      new LandmarkModel(lm),
      new Embedder(emb, cfg.flipAverage),
      new LivenessModel(live),
      MaskClassifier.load(),
    );
  }

  async analyze(bytes: Uint8Array, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    const clock = new StageClock(options.timings === true);
    const decoded = await decodeImage(bytes, this.config.decode);
    clock.lap('decode');
    if (options.alignedFace) return this.analyzeAlignedFace(decoded);
    const faces = await this.analyzeDecoded(decoded.image, options, clock, decoded.originalWidth / decoded.image.width);
    return {
      width: decoded.originalWidth,
      height: decoded.originalHeight,
      format: decoded.format,
      modelVersion: this.modelVersion,
      faces,
      ...(options.timings ? { timings: clock.result() } : {}),
    };
  }

  private async analyzeAlignedFace(decoded: Awaited<ReturnType<typeof decodeImage>>): Promise<AnalyzeResult> {
    const { image, originalWidth: width, originalHeight: height, format } = decoded;
    if (width !== ALIGNED_FACE_SIZE || height !== ALIGNED_FACE_SIZE) {
      throw new ImageError('not-aligned-size', `an aligned face must be ${ALIGNED_FACE_SIZE}x${ALIGNED_FACE_SIZE} px, got ${width}x${height}`);
    }
    const whole = { x1: 0, y1: 0, x2: image.width, y2: image.height };
    const imageLiveScore = await this.liveness.liveScore(image, whole);
    return { width, height, format, modelVersion: this.modelVersion, faces: [], imageLiveScore };
  }

  /** For callers that already hold decoded pixels (benchmarks, tests); `scale` maps to original pixels. */
  async analyzeDecoded(image: RgbImage, options: AnalyzeOptions = {}, clock = new StageClock(false), scale = 1): Promise<EngineFace[]> {
    let dets = await this.detector.detect(image);
    clock.lap('detect');
    dets.sort((a, b) => area(b.box) - area(a.box));
    if (options.maxFaces !== undefined) dets = dets.slice(0, options.maxFaces);

    const faces: EngineFace[] = [];
    for (const det of dets) {
      const pts68 = await this.landmarks.predict(image, det.box);
      const five = fivePointsFrom68(pts68);
      clock.lap('landmarks');
      const aligned = alignFace(image, five);
      clock.lap('align');
      const pose = estimatePose(five);
      const faceSize = Math.min(det.box.x2 - det.box.x1, det.box.y2 - det.box.y1) * scale;
      const quality = assessQuality(faceSize, laplacianVariance(aligned, 112, 112), pose);
      const needEmbedding = options.embed === true || this.mask.needsEmbedding;
      const embedding = needEmbedding ? await this.embedder.embed(aligned) : undefined;
      clock.lap('embed');
      const mask = this.mask.classify({ aligned, embedding });
      clock.lap('mask');
      const liveScore = options.spoof ? await this.liveness.liveScore(image, det.box) : undefined;
      clock.lap('liveness');
      faces.push({
        box: { x: det.box.x1 * scale, y: det.box.y1 * scale, width: (det.box.x2 - det.box.x1) * scale, height: (det.box.y2 - det.box.y1) * scale },
        confidence: det.score,
        landmarks: toLandmarks(five, scale),
        pose,
        quality,
        mask,
        ...(liveScore !== undefined ? { liveScore } : {}),
        ...(options.embed && embedding ? { embedding } : {}),
      });
    }
    return faces;
  }
}

const area = (b: { x1: number; y1: number; x2: number; y2: number }) => (b.x2 - b.x1) * (b.y2 - b.y1);

function toLandmarks(p: FivePoints, s: number): FaceLandmarks {
  const sc = (q: Point) => ({ x: q.x * s, y: q.y * s });
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
