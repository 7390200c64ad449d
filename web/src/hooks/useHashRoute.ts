import { useEffect, useState } from 'react';

/** Pages by URL hash, so the server only ever serves one index.html and links can be shared. */
export type Route = { page: 'detect' } | { page: 'compare' } | { page: 'groups' } | { page: 'group'; groupId: string } | { page: 'privacy' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'compare') return { page: 'compare' };
  if (parts[0] === 'groups' && parts[1]) return { page: 'group', groupId: decodeURIComponent(parts[1]) };
  if (parts[0] === 'groups') return { page: 'groups' };
  if (parts[0] === 'privacy') return { page: 'privacy' };
  return { page: 'detect' };
}

export const groupHref = (groupId: string) => `#/groups/${encodeURIComponent(groupId)}`;

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
