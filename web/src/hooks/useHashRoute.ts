import { useEffect, useState } from 'react';

/** Pages by URL hash, so the server only ever serves one index.html and links can be shared. */
export type Route =
  | { page: 'detect' }
  | { page: 'compare' }
  | { page: 'groups' }
  | { page: 'group'; groupId: string }
  | { page: 'privacy' }
  // The pages of the person layer work inside one group; without one they ask which.
  | { page: 'persons'; groupId?: string; personId?: string }
  | { page: 'clusters'; groupId?: string; jobId?: string }
  | { page: 'gallery'; groupId?: string; personId?: string };

export type GroupPage = 'persons' | 'clusters' | 'gallery';

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const part = (i: number) => (parts[i] ? safeDecode(parts[i]) : undefined);
  if (parts[0] === 'compare') return { page: 'compare' };
  if (parts[0] === 'groups' && parts[1]) return { page: 'group', groupId: decodeURIComponent(parts[1]) };
  if (parts[0] === 'groups') return { page: 'groups' };
  if (parts[0] === 'privacy') return { page: 'privacy' };
  if (parts[0] === 'persons') return { page: 'persons', groupId: part(1), personId: part(2) };
  if (parts[0] === 'clusters') return { page: 'clusters', groupId: part(1), jobId: part(2) };
  if (parts[0] === 'gallery') return { page: 'gallery', groupId: part(1), personId: part(2) };
  return { page: 'detect' };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export const groupHref = (groupId: string) => `#/groups/${encodeURIComponent(groupId)}`;

/** A page of the person layer, in a group, optionally at one item (a person, a clustering job, the person whose photos to find). */
export const groupPageHref = (page: GroupPage, groupId?: string, item?: string) =>
  `#/${page}${groupId ? `/${encodeURIComponent(groupId)}` : ''}${groupId && item ? `/${encodeURIComponent(item)}` : ''}`;

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
