import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Pager } from '../../components/Pager';
import { useAction } from '../../hooks/useAction';
import { groupPageHref } from '../../hooks/useHashRoute';
import { usePagedList } from '../../hooks/usePagedList';
import { useApi } from '../../session/keys';

interface Props {
  groupId: string;
  openPersonId?: string;
  /** Changes when persons changed elsewhere on the page: the list is read again. */
  version: number;
  onChanged(): void;
}

/** GET /persons (oldest first, paged), POST /persons, DELETE /persons/{id} (its faces too when asked). */
export function PersonsListPanel({ groupId, openPersonId, version, onChanged }: Props) {
  const api = useApi();
  const [limit, setLimit] = useState(20);
  const fetchPage = useCallback((l: number, token?: string) => api.listPersons(groupId, l, token), [api, groupId]);
  const list = usePagedList(fetchPage, limit);
  const change = useAction();
  const [name, setName] = useState('');
  const [deleteFaces, setDeleteFaces] = useState(false);

  const { reload } = list;
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    void reload();
  }, [version, reload]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    const p = await change.run(() => api.createPerson(groupId, trimmed ? { name: trimmed } : {}));
    if (p) {
      setName('');
      onChanged();
      location.hash = groupPageHref('persons', groupId, p.personId);
    }
  };
  const remove = async (personId: string) => {
    if (await change.attempt(() => api.deletePerson(groupId, personId, deleteFaces))) {
      if (personId === openPersonId) location.hash = groupPageHref('persons', groupId);
      onChanged();
    }
  };

  return (
    <section className="card" id="persons">
      <h3>Persons in {groupId}</h3>
      <form className="toolbar" onSubmit={create} data-testid="create-person-form">
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name (optional)" data-testid="new-person-name" />
        <button type="submit" disabled={change.busy} data-testid="create-person">
          Create person
        </button>
        <label className="muted">
          <input type="checkbox" checked={deleteFaces} onChange={(e) => setDeleteFaces(e.target.checked)} data-testid="delete-with-faces" /> delete removes the person's faces from the group too
        </label>
      </form>
      <ErrorBanner error={change.error ?? list.error} />
      <table className="list" data-testid="persons-table">
        <thead>
          <tr>
            <th>name</th>
            <th>personId</th>
            <th>faces</th>
            <th>updated (UTC)</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((p) => (
            <tr key={p.personId} data-testid="person-row" className={p.personId === openPersonId ? 'selected' : ''}>
              <td data-testid="person-name">{p.name ?? <span className="muted">—</span>}</td>
              <td>
                <code>{p.personId}</code>
              </td>
              <td className="num" data-testid="person-face-count">
                {p.faceCount}
              </td>
              <td>{p.updateTime}</td>
              <td className="actions">
                <a href={groupPageHref('persons', groupId, p.personId)} className="button" data-testid="open-person">
                  open
                </a>
                <a href={groupPageHref('gallery', groupId, p.personId)} className="button" data-testid="person-photos">
                  photos
                </a>
                <ConfirmButton label="delete" onConfirm={() => void remove(p.personId)} disabled={change.busy} testId="delete-person" />
              </td>
            </tr>
          ))}
          {list.loaded && list.items.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                {list.pageIndex === 0 ? 'No persons yet — create one, register one from photos below, or make one from a cluster.' : 'No more persons.'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager testId="persons-pager" list={list} limit={limit} onLimit={setLimit} />
    </section>
  );
}
