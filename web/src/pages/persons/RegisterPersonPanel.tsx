import { useState } from 'react';
import type { RegisterPersonData } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { MultiImagePicker } from '../../components/MultiImagePicker';
import { useAction } from '../../hooks/useAction';
import { groupPageHref } from '../../hooks/useHashRoute';
import { useApi } from '../../session/keys';

/** What POST /persons/register takes at once (PERSON_LIMITS.maxImagesPerRegister). */
const MAX_IMAGES = 10;

/** POST /persons/register: the largest face of each chosen photo becomes a face of one new person. */
export function RegisterPersonPanel({ groupId, onRegistered }: { groupId: string; onRegistered(): void }) {
  const api = useApi();
  const [files, setFiles] = useState<File[]>([]);
  const [name, setName] = useState('');
  const [externalImageId, setExternalImageId] = useState('');
  const [result, setResult] = useState<{ data: RegisterPersonData; names: string[] } | null>(null);
  const { run, busy, error } = useAction();

  const register = async () => {
    const fields = { ...(name.trim() ? { name: name.trim() } : {}), ...(externalImageId.trim() ? { externalImageId: externalImageId.trim() } : {}) };
    const names = files.map((f) => f.name);
    const data = await run(() => api.registerPerson(groupId, files, fields));
    if (data) {
      setResult({ data, names });
      setFiles([]);
      onRegistered();
    }
  };

  return (
    <section className="card" id="register-person">
      <h3>Register a person from photos</h3>
      <div className="toolbar">
        <MultiImagePicker label="Photos of one person" files={files} onChange={(f) => (setFiles(f), setResult(null))} max={MAX_IMAGES} testId="register-person-picker" />
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name (optional)" data-testid="register-person-name" />
        <input value={externalImageId} onChange={(e) => setExternalImageId(e.target.value)} placeholder="externalImageId for all (optional)" data-testid="register-person-external-id" />
        <button type="button" disabled={busy || files.length === 0} onClick={() => void register()} data-testid="register-person-run">
          {busy ? 'Registering…' : 'Register person'}
        </button>
      </div>
      <ErrorBanner error={error} />
      {result && (
        <>
          <p className="summary" data-testid="register-person-summary">
            {result.data.person.name ?? 'The person'} now has {result.data.person.faceCount} {result.data.person.faceCount === 1 ? 'face' : 'faces'}{' '}
            <a href={groupPageHref('persons', groupId, result.data.person.personId)} data-testid="registered-person-link">
              open
            </a>
          </p>
          <table className="list" data-testid="register-person-images">
            <tbody>
              {result.data.images.map((im) => (
                <tr key={im.index} data-testid="register-person-image">
                  <td>{result.names[im.index]}</td>
                  <td>
                    {'faceId' in im ? (
                      <>
                        <span className="badge good">registered</span> <code>{im.faceId}</code>
                      </>
                    ) : (
                      <>
                        <span className="badge bad">no face</span> {im.error.resultCode} {im.error.resultMessage} — {im.error.detail}
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
