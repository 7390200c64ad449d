import { KeysForm } from './components/KeysForm';
import { groupPageHref, useHashRoute, type GroupPage as GroupPageName, type Route } from './hooks/useHashRoute';
import { ClustersPage } from './pages/ClustersPage';
import { ComparePage } from './pages/ComparePage';
import { DetectPage } from './pages/DetectPage';
import { GalleryPage } from './pages/GalleryPage';
import { GroupPage } from './pages/GroupPage';
import { GroupsPage } from './pages/GroupsPage';
import { PersonsPage } from './pages/PersonsPage';
import { PrivacyPage } from './pages/PrivacyPage';
import { useKeys } from './session/keys';

/** The group the current page is in, so that the person-layer tabs stay in it. */
const groupOf = (r: Route) => ('groupId' in r ? r.groupId : undefined);
const inGroup = (page: GroupPageName) => (r: Route) => groupPageHref(page, groupOf(r));

const TABS: { href: string | ((r: Route) => string); label: string; active(r: Route): boolean }[] = [
  { href: '#/detect', label: 'Detect', active: (r) => r.page === 'detect' },
  { href: '#/compare', label: 'Compare', active: (r) => r.page === 'compare' },
  { href: '#/groups', label: 'Groups', active: (r) => r.page === 'groups' || r.page === 'group' },
  { href: inGroup('persons'), label: 'Persons', active: (r) => r.page === 'persons' },
  { href: inGroup('clusters'), label: 'Clustering', active: (r) => r.page === 'clusters' },
  { href: inGroup('gallery'), label: 'Gallery', active: (r) => r.page === 'gallery' },
  { href: '#/privacy', label: 'Privacy', active: (r) => r.page === 'privacy' },
];

export function App() {
  const { keys, forget } = useKeys();
  const route = useHashRoute();

  return (
    <div className="app">
      <header className="topbar">
        <h1>
          facerec <span className="muted">console</span>
        </h1>
        {keys && (
          <nav>
            {TABS.map((t) => (
              <a key={t.label} href={typeof t.href === 'string' ? t.href : t.href(route)} className={t.active(route) ? 'active' : ''} data-testid={`tab-${t.label.toLowerCase()}`}>
                {t.label}
              </a>
            ))}
          </nav>
        )}
        {keys && (
          <span className="who">
            appKey <code data-testid="current-app-key">{keys.appKey}</code>
            <button type="button" className="link" onClick={forget} data-testid="forget-keys">
              forget keys
            </button>
          </span>
        )}
      </header>
      <main>{keys ? <Page route={route} /> : <KeysForm />}</main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'detect':
      return <DetectPage />;
    case 'compare':
      return <ComparePage />;
    case 'groups':
      return <GroupsPage />;
    case 'group':
      // keyed so that switching groups starts every panel afresh
      return <GroupPage key={route.groupId} groupId={route.groupId} />;
    case 'privacy':
      return <PrivacyPage />;
    case 'persons':
      return <PersonsPage key={route.groupId} groupId={route.groupId} personId={route.personId} />;
    case 'clusters':
      return <ClustersPage key={route.groupId} groupId={route.groupId} jobId={route.jobId} />;
    case 'gallery':
      // not keyed by person: the chosen album stays while another person is looked for
      return <GalleryPage groupId={route.groupId} personId={route.personId} />;
  }
}
