import { useCallback, useState } from 'react';
import { GroupChooser } from '../components/GroupChooser';
import { PersonPanel } from './persons/PersonPanel';
import { PersonsListPanel } from './persons/PersonsListPanel';
import { RegisterPersonPanel } from './persons/RegisterPersonPanel';

/**
 * Persons of a group (docs/persons.md): list, create, rename, delete; one person's faces, with
 * faceIds associated and disassociated; a new person registered from photos chosen here.
 */
export function PersonsPage({ groupId, personId }: { groupId?: string; personId?: string }) {
  // Bumped after any change so the list and the open person show it.
  const [version, setVersion] = useState(0);
  const changed = useCallback(() => setVersion((v) => v + 1), []);
  return (
    <>
      <section className="card">
        <h2>Persons</h2>
        <p className="muted small">
          A person is a set of faces of one group (a face belongs to at most one person). Persons live under <code>/x/v1</code>, with the same keys.
        </p>
        <GroupChooser page="persons" groupId={groupId} />
      </section>
      {groupId && (
        <>
          <PersonsListPanel key={groupId} groupId={groupId} openPersonId={personId} version={version} onChanged={changed} />
          {personId && <PersonPanel key={`${groupId}/${personId}`} groupId={groupId} personId={personId} version={version} onChanged={changed} />}
          <RegisterPersonPanel groupId={groupId} onRegistered={changed} />
        </>
      )}
    </>
  );
}
