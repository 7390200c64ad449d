import type { SearchMatch } from '../api/types';
import { formatConfidence, formatSimilarity } from '../lib/format';

/** Search results: stored faces by id (the server has no pictures of them) with their similarity. */
export function MatchTable({ matches }: { matches: SearchMatch[] }) {
  return (
    <table className="list" data-testid="match-table">
      <thead>
        <tr>
          <th>#</th>
          <th>faceId</th>
          <th>externalImageId</th>
          <th>confidence</th>
          <th>similarity</th>
        </tr>
      </thead>
      <tbody>
        {matches.map((m, i) => (
          <tr key={m.face.faceId} data-testid="match-row">
            <td>{i + 1}</td>
            <td>
              <code data-testid="match-face-id">{m.face.faceId}</code>
            </td>
            <td>{m.face.externalImageId ?? <span className="muted">—</span>}</td>
            <td className="num">{formatConfidence(m.face.confidence)}</td>
            <td className="similarity">
              <span className="bar" style={{ width: `${m.similarity}%` }} />
              <span data-testid="match-similarity">{formatSimilarity(m.similarity)}</span>
            </td>
          </tr>
        ))}
        {matches.length === 0 && (
          <tr>
            <td colSpan={5} className="muted">
              No face reaches the threshold.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
