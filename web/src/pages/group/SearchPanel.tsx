import { useEffect, useState } from 'react';
import type { SearchData } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { FaceCrop } from '../../components/FaceCrop';
import { FaceDetailsTable } from '../../components/FaceDetailsTable';
import { ImagePicker } from '../../components/ImagePicker';
import { MatchTable } from '../../components/MatchTable';
import { ThresholdSlider } from '../../components/ThresholdSlider';
import { useAction } from '../../hooks/useAction';
import { useObjectUrl } from '../../hooks/useObjectUrl';
import { faceColor } from '../../lib/colors';
import { useApi } from '../../session/keys';

/** A "search similar" click in the face list; the timestamp makes a repeated click search again. */
export interface FaceIdQuery {
  faceId: string;
  requestedAt: number;
}

type Mode = 'image' | 'faceId';

/**
 * 1:N search: POST /groups/{id}/faces/search (the largest face of an image) or
 * GET /groups/{id}/faces/{faceId}/search (a stored face; itself is never in the results).
 * limit and threshold are sent to the server, which returns only faces at or above it.
 */
export function SearchPanel({ groupId, faceIdQuery }: { groupId: string; faceIdQuery: FaceIdQuery | null }) {
  const api = useApi();
  const [mode, setMode] = useState<Mode>('image');
  const [file, setFile] = useState<File | null>(null);
  const [faceId, setFaceId] = useState('');
  const [limit, setLimit] = useState(10);
  const [threshold, setThreshold] = useState(70);
  // The image URL the result belongs to, so the query crop is cut from the right picture.
  const [result, setResult] = useState<{ data: SearchData; mode: Mode; query: string; threshold: number } | null>(null);
  const { run, busy, error } = useAction();
  const url = useObjectUrl(file);

  const searchByImage = async () => {
    if (!file || !url) return;
    const data = await run(() => api.searchByImage(groupId, file, limit, threshold, {}));
    if (data) setResult({ data, mode: 'image', query: url, threshold });
  };
  const searchByFaceId = async (id: string) => {
    const data = await run(() => api.searchByFaceId(groupId, id, limit, threshold));
    if (data) setResult({ data, mode: 'faceId', query: id, threshold });
  };

  // From the face list: switch to faceId mode and search at once.
  useEffect(() => {
    if (!faceIdQuery) return;
    setMode('faceId');
    setFaceId(faceIdQuery.faceId);
    void searchByFaceId(faceIdQuery.faceId);
    // Only a new click should search, not a change of limit or threshold.
  }, [faceIdQuery]);

  const source = result?.data.sourceFace;
  return (
    <section className="card" id="search">
      <h3>Search the group</h3>
      <div className="toolbar">
        <span className="segmented">
          <button type="button" className={mode === 'image' ? 'on' : ''} onClick={() => setMode('image')} data-testid="search-mode-image">
            by image
          </button>
          <button type="button" className={mode === 'faceId' ? 'on' : ''} onClick={() => setMode('faceId')} data-testid="search-mode-face-id">
            by faceId
          </button>
        </span>
        {mode === 'image' ? (
          <ImagePicker label="Query image (its largest face)" file={file} onChange={(f) => (setFile(f), setResult(null))} testId="search-picker" />
        ) : (
          <input value={faceId} onChange={(e) => setFaceId(e.target.value)} placeholder="faceId" className="wide" data-testid="search-face-id" />
        )}
        <label>
          limit <input type="number" min={1} max={4096} value={limit} onChange={(e) => setLimit(Number(e.target.value))} className="narrow" data-testid="search-limit" />
        </label>
        <ThresholdSlider value={threshold} onChange={setThreshold} testId="search-threshold" />
        <button
          type="button"
          disabled={busy || (mode === 'image' ? !file : !faceId.trim())}
          onClick={() => void (mode === 'image' ? searchByImage() : searchByFaceId(faceId.trim()))}
          data-testid="search-run"
        >
          {busy ? 'Searching…' : 'Search'}
        </button>
      </div>
      <ErrorBanner error={error} />
      {result && (
        <div className="search-result" data-testid="search-result">
          <div className="query">
            {result.mode === 'image' && source ? (
              <>
                <FaceCrop src={result.query} bbox={source.bbox} size={128} color={faceColor(0)} title="the face that was searched for" />
                <p className="muted small">
                  query face, cut from your image
                  <br />
                  (stored faces have no pictures: the server keeps vectors only)
                </p>
              </>
            ) : (
              <p className="small">
                query faceId
                <br />
                <code>{result.query}</code>
              </p>
            )}
          </div>
          <div className="matches">
            <p className="summary" data-testid="search-summary">
              {result.data.matchFaceCount} {result.data.matchFaceCount === 1 ? 'match' : 'matches'} at threshold ≥ {result.threshold}, best first
            </p>
            <MatchTable matches={result.data.matchFaces} />
            {source && (
              <>
                <p className="caption">the query face as detected in your image</p>
                <FaceDetailsTable rows={[{ detail: source, color: faceColor(0), label: 'query' }]} />
              </>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
