import { useState } from 'react';
import { MIN_THRESHOLD } from '../api/client';
import type { CompareData, DetailOptions, ScoredFaceDetail } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { FaceCrop } from '../components/FaceCrop';
import { FaceDetailsTable } from '../components/FaceDetailsTable';
import { FaceOverlay } from '../components/FaceOverlay';
import { ImagePicker } from '../components/ImagePicker';
import { SpoofingOptions } from '../components/SpoofingOptions';
import { ThresholdSlider } from '../components/ThresholdSlider';
import { useAction } from '../hooks/useAction';
import { useObjectUrl } from '../hooks/useObjectUrl';
import { faceColor, MATCH_COLOR, NO_MATCH_COLOR } from '../lib/colors';
import { formatSimilarity } from '../lib/format';
import { useApi } from '../session/keys';

/**
 * POST /faces/compare: the largest face of the source against every face of the target.
 * The request uses the lowest threshold the API accepts (1), so every target face comes back
 * with its similarity; the slider then splits matched/unmatched here, without another request.
 */
export function ComparePage() {
  const api = useApi();
  const [source, setSource] = useState<File | null>(null);
  const [target, setTarget] = useState<File | null>(null);
  const [options, setOptions] = useState<DetailOptions>({ spoofing: false, spoofingCondition: 'balanced' });
  const [threshold, setThreshold] = useState(70);
  const [result, setResult] = useState<CompareData | null>(null);
  const { run, busy, error } = useAction();
  const sourceUrl = useObjectUrl(source);
  const targetUrl = useObjectUrl(target);

  const compare = async () => {
    if (!source || !target) return;
    setResult(null);
    const r = await run(() => api.compare(source, target, MIN_THRESHOLD, options));
    if (r) setResult(r);
  };

  // Everything the server returned, best first; "matched" by the server's rule, similarity ≥ threshold.
  const scored: ScoredFaceDetail[] = result ? [...result.matchedFaceDetails, ...result.unmatchedFaceDetails].sort((a, b) => b.similarity - a.similarity) : [];
  const isMatch = (s: ScoredFaceDetail) => s.similarity >= threshold;
  const matched = scored.filter(isMatch).length;

  return (
    <section className="card">
      <h2>Compare two images</h2>
      <div className="toolbar">
        <SpoofingOptions value={options} onChange={setOptions} />
        <button type="button" disabled={!source || !target || busy} onClick={() => void compare()} data-testid="compare-run">
          {busy ? 'Comparing…' : 'Compare'}
        </button>
        <ThresholdSlider value={threshold} onChange={setThreshold} testId="compare-threshold" />
      </div>
      <ErrorBanner error={error} />
      {result && (
        <p className="summary" data-testid="compare-summary">
          {matched} of {scored.length} target {scored.length === 1 ? 'face' : 'faces'} match at threshold {threshold}
          <span className="muted"> · the slider re-splits the similarities of one request (sent with threshold {MIN_THRESHOLD})</span>
        </p>
      )}
      <div className="side-by-side">
        <div>
          <ImagePicker label="Source (its largest face is compared)" file={source} testId="compare-source" onChange={(f) => (setSource(f), setResult(null))} />
          {sourceUrl && (
            <FaceOverlay
              src={sourceUrl}
              alt="source image"
              testId="compare-source-overlay"
              faces={result ? [{ bbox: result.sourceFace.bbox, landmarks: result.sourceFace.landmarks, color: faceColor(0), label: 'source' }] : []}
            />
          )}
        </div>
        <div>
          <ImagePicker label="Target (every face is scored)" file={target} testId="compare-target" onChange={(f) => (setTarget(f), setResult(null))} />
          {targetUrl && (
            <FaceOverlay
              src={targetUrl}
              alt="target image"
              testId="compare-target-overlay"
              faces={scored.map((s) => ({
                bbox: s.faceDetail.bbox,
                landmarks: s.faceDetail.landmarks,
                color: isMatch(s) ? MATCH_COLOR : NO_MATCH_COLOR,
                dashed: !isMatch(s),
                label: formatSimilarity(s.similarity),
              }))}
            />
          )}
        </div>
      </div>
      {targetUrl && (
        <FaceDetailsTable
          testId="compare-table"
          extraHeader={
            <>
              <th>crop</th>
              <th>similarity</th>
              <th>verdict</th>
            </>
          }
          rows={scored.map((s, i) => ({
            detail: s.faceDetail,
            color: isMatch(s) ? MATCH_COLOR : NO_MATCH_COLOR,
            label: `#${i + 1}`,
            extra: (
              <>
                <td>
                  <FaceCrop src={targetUrl} bbox={s.faceDetail.bbox} size={56} />
                </td>
                <td className="num">{formatSimilarity(s.similarity)}</td>
                <td>{isMatch(s) ? <span className="badge good">matched</span> : <span className="badge">unmatched</span>}</td>
              </>
            ),
          }))}
        />
      )}
    </section>
  );
}
