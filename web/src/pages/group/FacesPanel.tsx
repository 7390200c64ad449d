import { useCallback, useEffect, useRef, useState } from 'react';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Pager } from '../../components/Pager';
import { useAction } from '../../hooks/useAction';
import { usePagedList } from '../../hooks/usePagedList';
import { formatBoxShare, formatConfidence, shortId } from '../../lib/format';
import { useApi } from '../../session/keys';

interface Props {
  groupId: string;
  /** Changes when faces were added elsewhere on the page: the list goes back to its first page. */
  version: number;
  onChanged(): void;
  onSearch(faceId: string): void;
  onVerify(faceId: string): void;
}

/** GET /groups/{id}/faces, newest first, paged; each face can be searched with, verified against or deleted. */
export function FacesPanel({ groupId, version, onChanged, onSearch, onVerify }: Props) {
  const api = useApi();
  const [limit, setLimit] = useState(10);
  const fetchPage = useCallback((l: number, token?: string) => api.listFaces(groupId, l, token), [api, groupId]);
  const list = usePagedList(fetchPage, limit);
  const remove = useAction();

  // A register elsewhere: show the newest faces (the first page) again.
  const { first } = list;
  const seenVersion = useRef(version);
  useEffect(() => {
    if (seenVersion.current === version) return;
    seenVersion.current = version;
    void first();
  }, [version, first]);

  const deleteFace = async (faceId: string) => {
    if (await remove.attempt(() => api.deleteFace(groupId, faceId))) {
      await list.reload();
      onChanged();
    }
  };

  return (
    <section className="card" id="faces">
      <h3>Faces</h3>
      <p className="muted small">The server keeps feature vectors only, never images: faces are listed by id, without pictures.</p>
      <ErrorBanner error={remove.error ?? list.error} />
      <table className="list" data-testid="faces-table">
        <thead>
          <tr>
            <th>faceId</th>
            <th>imageId</th>
            <th>externalImageId</th>
            <th>confidence</th>
            <th>box</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((f) => (
            <tr key={f.faceId} data-testid="stored-face-row">
              <td>
                <code title={f.faceId} data-testid="face-id">
                  {f.faceId}
                </code>
              </td>
              <td>
                <code title={f.imageId}>{shortId(f.imageId)}…</code>
              </td>
              <td>{f.externalImageId ?? <span className="muted">—</span>}</td>
              <td className="num">{formatConfidence(f.confidence)}</td>
              <td>{formatBoxShare(f.bbox)}</td>
              <td className="actions">
                <button type="button" onClick={() => onSearch(f.faceId)} data-testid="search-by-face">
                  search similar
                </button>
                <button type="button" onClick={() => onVerify(f.faceId)} data-testid="verify-face">
                  verify…
                </button>
                <ConfirmButton label="delete" onConfirm={() => void deleteFace(f.faceId)} disabled={remove.busy} testId="delete-face" />
              </td>
            </tr>
          ))}
          {list.loaded && list.items.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No faces {list.pageIndex === 0 ? 'yet — register some above.' : 'on this page.'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager testId="faces-pager" list={list} limit={limit} onLimit={setLimit} />
    </section>
  );
}
