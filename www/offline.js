// Registers the service worker (../sw.js, scope: the folder holding index.html and embed.html), so that after the
// first visit the page works with the network off. Registration waits until the page is ready: the first visit's
// own requests never go through the worker, and the worker does not claim the page that registered it.
// The worker then caches, besides its own list, every file this page has already loaded.

/** Starts the registration; resolves to the registration, or null where service workers are unavailable. */
export async function registerOffline() {
  if (!('serviceWorker' in navigator) || !globalThis.isSecureContext) return null;
  try {
    const reg = await navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), {
      scope: new URL('../', import.meta.url).pathname,
      type: 'classic',
    });
    navigator.serviceWorker.ready.then((r) => {
      const urls = performance.getEntriesByType('resource').map((e) => e.name);
      urls.push(location.href.split('#')[0]);
      r.active?.postMessage({ op: 'cache', urls });
    });
    return reg;
  } catch {
    // Offline use is a bonus: a page without it still works online.
    return null;
  }
}
