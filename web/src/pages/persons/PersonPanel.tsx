import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { PersonWithFaces } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { useAction } from '../../hooks/useAction';
import { groupPageHref } from '../../hooks/useHashRoute';
import { useApi } from '../../session/keys';
import { PersonFaceRow } from './PersonFaceRow';

interface Props {
  groupId: string;
  personId: string;
  version: number;
  onChanged(): void;
}

/** faceIds typed or pasted: separated by spaces, commas or new lines. */
const parseFaceIds = (text: string) => [...new Set(text.split(/[\s,;]+/).filter(Boolean))];

/** One person: rename (PATCH), its faces (with disassociate), and faces associated by id. */
export function PersonPanel({ groupId, personId, version, onChanged }: Props) {
  const api = useApi();
  const [person, setPerson] = useState<PersonWithFaces | null>(null);
  const [name, setName] = useState('');
  const [toAssociate, setToAssociate] = useState('');
  const load = useAction();
  const change = useAction();

  const read = useCallback(async () => {
    const p = await load.run(() => api.getPerson(groupId, personId));
    if (p) {
      setPerson(p);
      setName(p.name ?? '');
    }
  }, [api, groupId, personId, load.run]);
  useEffect(() => {
    void read();
  }, [read, version]);

  const rename = async (e: FormEvent) => {
    e.preventDefault();
    if (await change.attempt(() => api.updatePerson(groupId, personId, { name: name.trim() }))) onChanged();
  };
  const associate = async (e: FormEvent) => {
    e.preventDefault();
    const faceIds = parseFaceIds(toAssociate);
    if (faceIds.length && (await change.attempt(() => api.associate(groupId, personId, faceIds)))) {
      setToAssociate('');
      onChanged();
    }
  };
  const disassociate = async (faceId: string) => {
    if (await change.attempt(() => api.disassociate(groupId, personId, [faceId]))) onChanged();
  };

  return (
    <section className="card" id="person" data-testid="person-panel">
      <p className="crumbs">
        <a href={groupPageHref('persons', groupId)}>Persons</a> /
      </p>
      <h3 data-testid="person-title">{person?.name ?? (person ? 'unnamed person' : personId)}</h3>
      <ErrorBanner error={load.error ?? change.error} />
      {person && (
        <>
          <p className="summary muted small">
            <code>{person.personId}</code> · <strong data-testid="person-panel-face-count">{person.faceCount}</strong> {person.faceCount === 1 ? 'face' : 'faces'} · created {person.createTime} UTC
            {person.metadata && (
              <>
                {' '}
                · metadata <code>{JSON.stringify(person.metadata)}</code>
              </>
            )}
          </p>
          <div className="toolbar">
            <form className="toolbar inline" onSubmit={rename}>
              <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name (empty clears it)" data-testid="person-rename-input" />
              <button type="submit" disabled={change.busy} data-testid="person-rename">
                Rename
              </button>
            </form>
            <a href={groupPageHref('gallery', groupId, personId)} className="button" data-testid="person-find-photos">
              find every photo →
            </a>
          </div>
          <table className="list" data-testid="person-faces-table">
            <thead>
              <tr>
                <th>faceId</th>
                <th>externalImageId</th>
                <th>confidence</th>
                <th>box</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {person.faceIds.map((faceId) => (
                <PersonFaceRow key={faceId} groupId={groupId} faceId={faceId} busy={change.busy} onDisassociate={() => void disassociate(faceId)} />
              ))}
              {person.faceIds.length === 0 && (
                <tr>
                  <td colSpan={5} className="muted">
                    No faces yet — associate faceIds below (from the group's face list or a search).
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <form className="toolbar below" onSubmit={associate} data-testid="associate-form">
            <textarea value={toAssociate} onChange={(e) => setToAssociate(e.target.value)} placeholder="faceIds to associate, separated by spaces, commas or lines" rows={2} className="wide" data-testid="associate-face-ids" />
            <button type="submit" disabled={change.busy || !toAssociate.trim()} data-testid="associate-run">
              Associate
            </button>
            <span className="muted small">all or none: a face of another person refuses the call (-40090)</span>
          </form>
        </>
      )}
    </section>
  );
}
