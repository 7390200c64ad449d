/**
 * What counts as a good answer to a hostile request, and a runner that sends a corpus and keeps
 * the outcome by result code. Shared by `test/fuzz.test.ts` (in-process, fastify inject) and
 * `scripts/fuzz.ts` (real HTTP on loopback).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RESULT_CODES } from '../../src/domain/errors.js';
import type { FuzzCase, FuzzTarget, HttpCall } from './fuzz-corpus.js';

export interface Answer {
  status: number;
  body: string;
}

/** Sends one call; should give up when `signal` aborts (the runner also stops waiting on its own). */
export type Send = (call: HttpCall, signal: AbortSignal) => Promise<Answer>;

/** code → NHN name, for every documented result code. */
export const DOCUMENTED_CODES: ReadonlyMap<number, string> = new Map(Object.entries(RESULT_CODES).map(([name, code]) => [code, name]));

/**
 * Problems with one answer; empty when it is acceptable. The rules: HTTP 200 (404 only where the
 * case expects an unknown path), the NHN envelope, a documented code whose name and success flag
 * agree with it, never -50000 (hostile input is the client's fault, not the server's), and a code
 * the case allows.
 */
export function judge(c: FuzzCase, a: Answer): { code?: number; problems: string[] } {
  const problems: string[] = [];
  const wantStatus = c.status ?? 200;
  if (a.status !== wantStatus) problems.push(`HTTP ${a.status}, expected ${wantStatus}`);
  let envelope: any;
  try {
    envelope = JSON.parse(a.body);
  } catch {
    problems.push(`body is not JSON: ${a.body.slice(0, 120)}`);
    return { problems };
  }
  const h = envelope?.header;
  if (typeof h !== 'object' || h === null || typeof h.resultCode !== 'number' || typeof h.isSuccessful !== 'boolean' || typeof h.resultMessage !== 'string') {
    problems.push(`no NHN envelope: ${a.body.slice(0, 120)}`);
    return { problems };
  }
  const code: number = h.resultCode;
  const name = DOCUMENTED_CODES.get(code);
  if (name === undefined) problems.push(`undocumented resultCode ${code}`);
  else if (h.resultMessage !== name) problems.push(`resultMessage ${h.resultMessage} does not name ${code} (${name})`);
  if (h.isSuccessful !== code >= 0) problems.push(`isSuccessful=${h.isSuccessful} with resultCode ${code}`);
  if (code === RESULT_CODES.InternalServerError) problems.push('-50000 InternalServerError on client input');
  else if (c.expect && !c.expect.includes(code)) problems.push(`resultCode ${code} (${name}), expected one of ${c.expect.join(', ')}`);
  return { code, problems };
}

export interface Outcome {
  name: string;
  category: string;
  /** The result code, or undefined when there was no usable answer. */
  code?: number;
  ms: number;
  problems: string[];
}

/**
 * Outcomes by category and result code, the failures, and the slowest answers. Only counts and
 * latencies are kept for good answers, so a long run's own bookkeeping stays small next to the
 * memory growth it measures.
 */
export class FuzzReport {
  total = 0;
  readonly failures: Outcome[] = [];
  /** category → result code ("none" without a usable answer) → count */
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly latencies: number[] = [];
  private slowest: Outcome[] = [];

  add(o: Outcome): void {
    this.total++;
    if (o.problems.length > 0) this.failures.push(o);
    const byCode = this.counts.get(o.category) ?? new Map<string, number>();
    this.counts.set(o.category, byCode);
    const key = o.code === undefined ? 'none' : String(o.code);
    byCode.set(key, (byCode.get(key) ?? 0) + 1);
    this.latencies.push(o.ms);
    if (this.slowest.length < 3 || o.ms > this.slowest[2].ms) this.slowest = [...this.slowest, o].sort((a, b) => b.ms - a.ms).slice(0, 3);
  }

  merge(other: FuzzReport): void {
    this.total += other.total;
    this.failures.push(...other.failures);
    for (const [category, byCode] of other.counts) {
      const mine = this.counts.get(category) ?? new Map<string, number>();
      this.counts.set(category, mine);
      for (const [code, n] of byCode) mine.set(code, (mine.get(code) ?? 0) + n);
    }
    this.latencies.push(...other.latencies);
    this.slowest = [...this.slowest, ...other.slowest].sort((a, b) => b.ms - a.ms).slice(0, 3);
  }

  /** count per result code, overall or for one category, in code order. */
  countsByCode(category?: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [c, byCode] of this.counts) {
      if (category !== undefined && c !== category) continue;
      for (const [code, n] of byCode) counts.set(code, (counts.get(code) ?? 0) + n);
    }
    return new Map([...counts].sort((a, b) => Number(a[0]) - Number(b[0])));
  }

  summary(): string {
    const categories = [...this.counts.keys()];
    const codes = [...this.countsByCode().keys()];
    const label = (k: string) => (k === 'none' ? 'none' : `${k} ${DOCUMENTED_CODES.get(Number(k)) ?? '?'}`);
    const lines = [`${this.total} requests, ${this.failures.length} failed`, ''];
    const width = Math.max(...codes.map((k) => label(k).length), 10);
    lines.push(['result code'.padEnd(width), ...categories.map((c) => c.padStart(9)), 'total'.padStart(7)].join(' '));
    for (const k of codes) {
      const row = categories.map((c) => String(this.countsByCode(c).get(k) ?? 0).padStart(9));
      lines.push([label(k).padEnd(width), ...row, String(this.countsByCode().get(k)).padStart(7)].join(' '));
    }
    const ms = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]?.toFixed(0);
    lines.push('', `latency ms: median ${at(0.5)}, p95 ${at(0.95)}, max ${at(1)}`);
    lines.push(`slowest: ${this.slowest.map((o) => `${o.name} (${o.ms.toFixed(0)} ms)`).join('; ')}`);
    for (const f of this.failures.slice(0, 30)) lines.push(`FAIL ${f.name}: ${f.problems.join('; ')}`);
    return lines.join('\n');
  }
}

export interface RunOptions {
  /** An answer later than this is a hang. */
  timeLimitMs: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Stop starting new cases after this time (performance.now() clock). */
  deadline?: number;
  onOutcome?: (o: Outcome, done: number) => void;
}

/** Sends every case (until the deadline) and judges each answer. */
export async function runCases(cases: FuzzCase[], send: Send, target: FuzzTarget, options: RunOptions): Promise<FuzzReport> {
  const report = new FuzzReport();
  let next = 0;
  const worker = async () => {
    while (next < cases.length && (options.deadline === undefined || performance.now() < options.deadline)) {
      const c = cases[next++];
      const outcome = await runOne(c, send, target, options.timeLimitMs);
      report.add(outcome);
      options.onOutcome?.(outcome, report.total);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker));
  return report;
}

async function runOne(c: FuzzCase, send: Send, target: FuzzTarget, timeLimitMs: number): Promise<Outcome> {
  const base = { name: c.name, category: c.category };
  let call: HttpCall;
  try {
    call = c.call(target);
  } catch (e) {
    return { ...base, ms: 0, problems: [`the case could not be built: ${(e as Error).message}`] };
  }
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeLimitMs);
  });
  const t0 = performance.now();
  try {
    const answer = await Promise.race([send(call, abort.signal), timedOut]);
    const ms = performance.now() - t0;
    if (answer === 'timeout') {
      abort.abort();
      return { ...base, ms, problems: [`no answer within ${timeLimitMs} ms`] };
    }
    const { code, problems } = judge(c, answer);
    return { ...base, code, ms, problems };
  } catch (e) {
    return { ...base, ms: performance.now() - t0, problems: [`request failed: ${(e as Error).message}`] };
  } finally {
    clearTimeout(timer);
  }
}

// ── memory ───────────────────────────────────────────────────────────────────

let gcFn: (() => void) | undefined;

/** `global.gc` when started with --expose-gc; otherwise switched on at run time. */
export function gc(): void {
  if (!gcFn) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gcFn = exposed;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

/** Memory after full collections, with a pause for native (sharp, ONNX) buffers to be released. */
export async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage();
}

export const mb = (bytes: number) => Math.round(bytes / 1048576);
