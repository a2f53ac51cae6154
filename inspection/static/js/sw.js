/* The service worker (served as /sw.js with CONFIG written in front by views/pwa.py).
 *
 * Caches:
 * - "static": CSS, JS, icons, by their content-hashed URLs. Shared by every release; an
 *   old file is removed only once no kept page refers to it.
 * - "pages": the inspector's pages (home, start, each visit's checklist and signatures,
 *   the blank checklist of each unit), network first, the kept copy when offline.
 * A new worker only adds to these: it never touches IndexedDB, where the answers,
 * photos and signatures waiting to be sent live, and never drops a kept page.
 */
"use strict";

const STATIC = "static";
const PAGES = "pages";
const NETWORK_TIMEOUT_MS = 8000;
const REFRESH_AFTER_MS = 30 * 60 * 1000;
const FORGET_AFTER_MS = 7 * 24 * 3600 * 1000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(STATIC);
      await cache.addAll(CONFIG.shell);
      const pages = await caches.open(PAGES);
      const offline = await fetch(CONFIG.offline_url, { credentials: "same-origin" }).catch(() => null);
      if (offline && offline.ok && !offline.redirected) await pages.put(CONFIG.offline_url, offline);
      // Nothing queued lives here: the new worker can take over at once.
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== STATIC && name !== PAGES) await caches.delete(name);
      }
      await pruneStatic();
      await self.clients.claim();
    })(),
  );
});

/* The static files a page refers to (content-hashed URLs), as absolute URLs. */
function staticUrls(html) {
  return [...html.matchAll(/\/static\/[^"'\s<>]+\?v=[0-9a-f]+/g)].map(
    (m) => new URL(m[0].replace(/&amp;/g, "&"), self.location.origin).href,
  );
}

/* Drop static files that neither this release's shell nor any kept page uses. */
async function pruneStatic() {
  const used = new Set(CONFIG.shell.map((url) => new URL(url, self.location.origin).href));
  const pages = await caches.open(PAGES);
  for (const request of await pages.keys()) {
    const response = await pages.match(request);
    for (const url of staticUrls(await response.text())) used.add(url);
  }
  const cache = await caches.open(STATIC);
  for (const request of await cache.keys()) {
    if (!used.has(request.url)) await cache.delete(request);
  }
}

function pageKey(url) {
  // A blank checklist opened for a visit started offline carries ?client=…: one copy.
  const u = new URL(url, self.location.origin);
  if (/^\/inspector\/units\/\d+\/new/.test(u.pathname)) u.search = "";
  u.hash = "";
  return u.href;
}

function keepable(url) {
  const u = new URL(url);
  return u.origin === self.location.origin && u.pathname.startsWith("/inspector/");
}

/* The network's answer; with a kept copy to fall back on, give up after ``timeout`` ms
 * (a signal that carries nothing). A navigation request cannot take an AbortSignal. */
function fromNetwork(request, timeout) {
  const network = fetch(request);
  if (!timeout) return network;
  let timer;
  const slow = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), timeout);
  });
  return Promise.race([network, slow]).finally(() => clearTimeout(timer));
}

async function keepResponse(url, response) {
  const type = response.headers.get("Content-Type") || "";
  if (!response.ok || response.redirected || !type.startsWith("text/html")) return;
  const body = response.clone(); // now: the page starts reading the original at once
  const cache = await caches.open(PAGES);
  const copy = new Response(await body.blob(), {
    status: response.status,
    headers: { "Content-Type": type, "X-Kept-At": String(Date.now()) },
  });
  await cache.put(pageKey(url), copy);
}

/* ``later`` receives the work to finish after the answer (keeping the page's copy). */
async function page(request, later) {
  const cache = await caches.open(PAGES);
  const kept = await cache.match(pageKey(request.url));
  try {
    const response = await fromNetwork(request, kept ? NETWORK_TIMEOUT_MS : 0);
    if (response.status >= 500 && kept) return kept;
    if (response.redirected && new URL(response.url).pathname === "/login") {
      // Logged out: what this phone kept of the last inspector's pages goes.
      await caches.delete(PAGES);
    } else if (keepable(request.url)) {
      later(keepResponse(request.url, response));
    }
    return response;
  } catch (_) {
    if (kept) return kept;
    return offlinePage();
  }
}

async function offlinePage() {
  const cache = await caches.open(PAGES);
  const offline = await cache.match(CONFIG.offline_url);
  return offline || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
}

async function staticFile(request) {
  const cache = await caches.open(STATIC);
  const hit = await cache.match(request);
  if (hit) return hit;
  try {
    const response = await fetch(request);
    if (response.ok && new URL(request.url).searchParams.has("v")) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    // An older (or newer) version of the same file is better than none.
    const any = await cache.match(request, { ignoreSearch: true });
    if (any) return any;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && ["/logout", "/logout-everywhere"].includes(url.pathname)) {
    event.respondWith(caches.delete(PAGES).then(() => fetch(request)));
    return;
  }
  if (request.method !== "GET") {
    // A form sent with no connection: say so on a page of ours, not the browser's error.
    if (request.mode === "navigate") event.respondWith(fetch(request).catch(offlinePage));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(staticFile(request));
  } else if (request.mode === "navigate" || (keepable(request.url) && request.headers.get("Accept")?.includes("text/html"))) {
    // waitUntil must be called now, not once the answer is there: hand it a promise.
    let finish;
    let work = null;
    event.waitUntil(new Promise((resolve) => { finish = resolve; }));
    const answer = page(request, (later) => { work = later; });
    answer.finally(() => Promise.resolve(work).catch(() => {}).finally(finish));
    event.respondWith(answer);
  }
  // Everything else (the API, files, the manifest) goes to the network as usual.
});

/* The pages keep themselves up to date: fetch those asked for that are missing or old,
 * and let go of visits and units no longer asked for once they are a week old. */
async function keep(urls) {
  const cache = await caches.open(PAGES);
  const wanted = new Set(urls.map((url) => pageKey(url)));
  for (const request of await cache.keys()) {
    if (wanted.has(request.url) || !/^\/inspector\/(visits|units)\//.test(new URL(request.url).pathname)) continue;
    const kept = await cache.match(request);
    if (Date.now() - Number(kept.headers.get("X-Kept-At") || 0) > FORGET_AFTER_MS) await cache.delete(request);
  }
  for (const url of urls) {
    if (!keepable(new URL(url, self.location.origin).href)) continue;
    const kept = await cache.match(pageKey(url));
    const age = kept ? Date.now() - Number(kept.headers.get("X-Kept-At") || 0) : Infinity;
    if (age < REFRESH_AFTER_MS) continue;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      await keepResponse(new URL(url, self.location.origin).href, response);
      // Its static files too, so the page works offline.
      const text = kept ? "" : await response.clone().text().catch(() => "");
      for (const url of staticUrls(text)) await staticFile(new Request(url)).catch(() => {});
    } catch (_) {
      return; // offline again: try next time
    }
  }
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep" && Array.isArray(data.urls)) event.waitUntil(keep(data.urls));
});
