import { useEffect, useState } from 'react';
import { groupPageHref, type GroupPage } from '../hooks/useHashRoute';
import { useAction } from '../hooks/useAction';
import { useApi } from '../session/keys';
import { ErrorBanner } from './ErrorBanner';

/** How many groups the chooser lists; a group beyond them can still be typed. */
const LISTED = 200;

/**
 * Persons, clustering and the gallery work inside one group: a select of the app's groups (and a
 * field for one not listed) that moves the page to that group's URL.
 */
export function GroupChooser({ page, groupId }: { page: GroupPage; groupId?: string }) {
  const api = useApi();
  const [groups, setGroups] = useState<string[]>([]);
  const [typed, setTyped] = useState('');
  const { run, error } = useAction();

  useEffect(() => {
    void run(() => api.listGroups(LISTED)).then((p) => p && setGroups(p.items));
  }, [api, run]);

  const go = (g: string) => {
    if (g) location.hash = groupPageHref(page, g);
  };
  const options = groupId && !groups.includes(groupId) ? [groupId, ...groups] : groups;
  return (
    <div className="toolbar">
      <label>
        group{' '}
        <select value={groupId ?? ''} onChange={(e) => go(e.target.value)} data-testid="group-select">
          <option value="" disabled>
            {groups.length ? 'choose a group' : 'no groups yet'}
          </option>
          {options.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
      </label>
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          go(typed.trim());
        }}
      >
        <input value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="or type a group id" data-testid="group-typed" />
      </form>
      <ErrorBanner error={error} />
    </div>
  );
}
