import { useState, type FormEvent } from 'react';
import type { ErasureData, SubjectData } from '../api/types';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorBanner } from '../components/ErrorBanner';
import { useAction } from '../hooks/useAction';
import { formatBoxShare, formatConfidence } from '../lib/format';
import { useApi } from '../session/keys';

/**
 * A data subject's records (docs/privacy.md): every face held for an externalImageId in every
 * group of the app, with the consent it was registered under; CSV download; erasure after an
 * in-place confirmation. Each look-up is an `export` and each erasure an `erase` in the audit log.
 */
export function PrivacyPage() {
  const api = useApi();
  const [query, setQuery] = useState('');
  const [record, setRecord] = useState<SubjectData | null>(null);
  const [erased, setErased] = useState<ErasureData | null>(null);
  const action = useAction();

  const lookUp = async (e: FormEvent) => {
    e.preventDefault();
    setErased(null);
    const r = await action.run(() => api.subject(query.trim()));
    setRecord(r ?? null);
  };

  const download = async () => {
    if (!record) return;
    const blob = await action.run(() => api.subjectCsv(record.externalImageId));
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `subject-${record.externalImageId}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const erase = async () => {
    if (!record) return;
    const subject = record.externalImageId;
    const r = await action.run(() => api.eraseSubject(subject));
    if (!r) return;
    setErased(r);
    setRecord(await action.run(() => api.subject(subject)) ?? null);
  };

  return (
    <section className="card">
      <h2>Privacy</h2>
      <p className="muted small">
        What the app holds about one person, by the externalImageId their photos were registered with: see it, download it, erase it everywhere.
      </p>
      <form className="toolbar" onSubmit={lookUp} data-testid="subject-form">
        <input value={query} onChange={(e) => setQuery(e.target.value)} placeholder="externalImageId" required data-testid="subject-id" />
        <button type="submit" disabled={action.busy} data-testid="subject-lookup">
          Look up
        </button>
      </form>
      <ErrorBanner error={action.error} />
      {erased && (
        <p className="summary" data-testid="erase-summary">
          Erased <strong>{erased.deletedFaceCount}</strong> {erased.deletedFaceCount === 1 ? 'face' : 'faces'} of <code>{erased.externalImageId}</code>
          {erased.groups.length > 0 && ` (${erased.groups.map((g) => `${g.groupId}: ${g.deletedFaceCount}`).join(', ')})`}.
        </p>
      )}
      {record && (
        <>
          <p className="summary" data-testid="subject-summary">
            <strong>{record.faceCount}</strong> {record.faceCount === 1 ? 'face' : 'faces'} held for <code>{record.externalImageId}</code>
            {record.faceCount > 0 && ` in ${new Set(record.faces.map((f) => f.groupId)).size} group(s)`}
          </p>
          {record.faceCount > 0 && (
            <>
              <table className="list" data-testid="subject-table">
                <thead>
                  <tr>
                    <th>group</th>
                    <th>faceId</th>
                    <th>created (UTC)</th>
                    <th>confidence</th>
                    <th>box</th>
                    <th>consentRef</th>
                    <th>purpose</th>
                  </tr>
                </thead>
                <tbody>
                  {record.faces.map((f) => (
                    <tr key={f.faceId} data-testid="subject-face-row">
                      <td>{f.groupId}</td>
                      <td>
                        <code title={f.faceId}>{f.faceId}</code>
                      </td>
                      <td>{f.createTime}</td>
                      <td className="num">{formatConfidence(f.confidence)}</td>
                      <td>{formatBoxShare(f.bbox)}</td>
                      <td data-testid="subject-consent-ref">{f.consentRef ?? <span className="muted">—</span>}</td>
                      <td>{f.purpose ?? <span className="muted">—</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="toolbar below">
                <button type="button" onClick={() => void download()} disabled={action.busy} data-testid="subject-csv">
                  Download CSV
                </button>
                <ConfirmButton label={`erase all ${record.faceCount}`} onConfirm={() => void erase()} disabled={action.busy} testId="subject-erase" />
              </div>
            </>
          )}
        </>
      )}
    </section>
  );
}
