import { useCallback, useState, type FormEvent } from 'react';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorBanner } from '../components/ErrorBanner';
import { Pager } from '../components/Pager';
import { useAction } from '../hooks/useAction';
import { groupHref } from '../hooks/useHashRoute';
import { usePagedList } from '../hooks/usePagedList';
import { useApi } from '../session/keys';

/** Groups of the app: GET /groups with limit + nextToken, POST /groups, DELETE /groups/{id}. */
export function GroupsPage() {
  const api = useApi();
  const [limit, setLimit] = useState(10);
  const fetchPage = useCallback((l: number, token?: string) => api.listGroups(l, token), [api]);
  const list = usePagedList(fetchPage, limit);
  const change = useAction();

  const [newId, setNewId] = useState('');
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const groupId = newId.trim();
    if (await change.attempt(() => api.createGroup(groupId))) {
      setNewId('');
      await list.reload();
    }
  };
  const remove = async (groupId: string) => {
    if (await change.attempt(() => api.deleteGroup(groupId))) await list.reload();
  };

  return (
    <section className="card">
      <h2>Groups</h2>
      <form className="toolbar" onSubmit={create} data-testid="create-group-form">
        <input value={newId} onChange={(e) => setNewId(e.target.value)} placeholder="new group id (a-z, 0-9, -)" required data-testid="new-group-id" />
        <button type="submit" disabled={change.busy} data-testid="create-group">
          Create group
        </button>
      </form>
      <ErrorBanner error={change.error ?? list.error} />
      <table className="list" data-testid="groups-table">
        <thead>
          <tr>
            <th>groupId</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((groupId) => (
            <tr key={groupId} data-testid="group-row">
              <td>
                <a href={groupHref(groupId)} data-testid="group-link">
                  {groupId}
                </a>
              </td>
              <td className="actions">
                <a href={groupHref(groupId)} className="button">
                  open
                </a>
                <ConfirmButton label="delete" onConfirm={() => void remove(groupId)} disabled={change.busy} testId="delete-group" />
              </td>
            </tr>
          ))}
          {list.loaded && list.items.length === 0 && (
            <tr>
              <td colSpan={2} className="muted">
                {list.pageIndex === 0 ? 'No groups yet — create one above.' : 'No more groups.'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager testId="groups-pager" list={list} limit={limit} onLimit={setLimit} />
    </section>
  );
}
