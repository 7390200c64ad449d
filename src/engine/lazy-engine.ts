import type { FaceAnalyzer } from './analyzer.js';
import { FaceEngine, type AnalyzeOptions, type EngineConfig } from './engine.js';
import { MODEL_VERSION } from './models.js';

/**
 * The engine on the caller's own thread, loaded on first use: a CLI command that never looks at
 * an image (`groups list` and friends) starts at once, and only image work pays the model load
 * (~1–2 s).
 */
export class LazyEngine implements FaceAnalyzer {
  readonly modelVersion = MODEL_VERSION;
  private engine?: Promise<FaceEngine>;
  constructor(private readonly config: Partial<EngineConfig> = {}) {}
  async analyze<O extends AnalyzeOptions = {}>(bytes: Uint8Array, options?: O) {
    this.engine ??= FaceEngine.create(this.config);
    return (await this.engine).analyze(bytes, options);
  }
}
