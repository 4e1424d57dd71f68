/** A tiny hash router: `#/gallery`, `#/annotate/12`. Hash routes work under file:// (Electron) and http. */
export interface Route {
  name: string;
  param?: string;
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const [pathPart = '', queryPart = ''] = hash.replace(/^#\/?/, '').split('?');
  const [name = '', param] = pathPart.split('/');
  return {
    name: name || 'home',
    ...(param ? { param: decodeURIComponent(param) } : {}),
    query: new URLSearchParams(queryPart),
  };
}

class Router {
  route = $state<Route>(parse(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => (this.route = parse(location.hash)));
  }

  go(path: string): void {
    location.hash = `#/${path}`;
  }
}

export const router = new Router();
