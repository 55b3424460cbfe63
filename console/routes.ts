// Where the console is: the part of the URL after '#', so the server serves one page for all of them. Only ids
// appear here (never a key): `#/projects/<project>/branches/<branch>/auth`, or `#/` to pick one.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  projectId?: string;
  branchId?: string;
}

const AUTH_PAGE = /^#\/projects\/([a-z0-9-]{1,60})\/branches\/([a-z0-9-]{1,60})\/auth$/;

export function parseRoute(hash: string): Route {
  const m = AUTH_PAGE.exec(hash);
  return m ? { projectId: m[1], branchId: m[2] } : {};
}

export function authPageHash(projectId: string, branchId: string): string {
  return `#/projects/${projectId}/branches/${branchId}/auth`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
