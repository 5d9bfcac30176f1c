import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router, type RequestHandler, type Response } from 'express';
import { buildOpenApiDocument } from '../../docs/openapi.js';

/**
 * The viewers run from this origin only: no CDN, no inline script. Styles may be inline because both
 * viewers set style attributes from script (ReDoc through styled-components); ReDoc's search runs
 * in a Web Worker it builds from a blob: URL.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SWAGGER_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png'];
/**
 * ReDoc 2 shows a logo from its CDN in the sidebar footer, with no option to turn it off. The CSP
 * would block it, but the attempt still costs a console error; a blank inline image takes its place.
 */
const REDOC_CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const BLANK_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";

const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>ComfyGate API</title>
    <link rel="icon" type="image/png" href="/gate/docs/ui/favicon-32x32.png">
    <link rel="stylesheet" href="/gate/docs/ui/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/gate/docs/ui/swagger-ui-bundle.js"></script>
    <script src="/gate/docs/init.js"></script>
  </body>
</html>
`;

// validatorUrl: null — Swagger UI would otherwise send the spec to validator.swagger.io for a badge.
// BaseLayout has no top bar, so the page cannot be pointed at another spec; queryConfigEnabled stays off.
const SWAGGER_INIT = `'use strict';
window.ui = SwaggerUIBundle({
  url: '/gate/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  deepLinking: true,
  validatorUrl: null,
  queryConfigEnabled: false,
  persistAuthorization: false,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
});
`;

// The standalone bundle starts itself on a <redoc spec-url> element, so the page needs no script of its own.
const REDOC_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>ComfyGate API reference</title>
    <link rel="icon" type="image/png" href="/gate/docs/ui/favicon-32x32.png">
  </head>
  <body>
    <redoc spec-url="/gate/openapi.json" hide-hostname="true" path-in-middle-panel="true"></redoc>
    <script src="/gate/redoc/ui/redoc.standalone.js"></script>
  </body>
</html>
`;

/**
 * `GET /gate/openapi.json`, `GET /gate/docs` (Swagger UI) and `GET /gate/redoc` (ReDoc), public: the
 * docs describe the API, they expose no data. The viewers are served from their npm packages; the
 * pages and the init script are strings here, so a build that copies only compiled .js still has them.
 * Mount it before the gate's auth guards; it answers only its own paths and passes everything else on.
 */
export function docsRouter(): Router {
  const router = Router();
  const documentJson = JSON.stringify(buildOpenApiDocument());
  const swaggerDir = packageDir('swagger-ui-dist');
  const redoc = offlineRedocBundle(join(packageDir('redoc'), 'bundles', 'redoc.standalone.js'));

  router.get('/gate/openapi.json', (_req, res) => {
    res.set({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' }).send(documentJson);
  });

  router.get('/gate/docs', (_req, res) => sendPage(res, SWAGGER_PAGE));
  router.get('/gate/docs/init.js', (_req, res) => {
    res.set({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }).send(SWAGGER_INIT);
  });
  router.use('/gate/docs/ui', onlyFiles(swaggerDir, SWAGGER_FILES));

  router.get('/gate/redoc', (_req, res) => sendPage(res, REDOC_PAGE));
  router.get('/gate/redoc/ui/redoc.standalone.js', (_req, res) => {
    // res.send answers 304 itself when If-None-Match matches the ETag.
    res
      .set({
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=86400',
        etag: redoc.etag,
      })
      .send(redoc.body);
  });

  return router;
}

function sendPage(res: Response, html: string): void {
  res
    .set({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': DOCS_CSP,
    })
    .send(html);
}

/**
 * Serves the listed files of a package folder and nothing else: the folders also hold demo pages
 * (swagger-ui-dist's index.html loads the Petstore spec from the internet) that must not be reachable.
 */
function onlyFiles(dir: string, files: readonly string[]): RequestHandler {
  const allowed = new Set(files.map((file) => `/${file}`));
  const serve = express.static(dir, { index: false, redirect: false, maxAge: '1d', fallthrough: true });
  return function docsAsset(req, res, next) {
    if ((req.method === 'GET' || req.method === 'HEAD') && allowed.has(req.path)) {
      void serve(req, res, next);
    } else {
      next();
    }
  };
}

/** Read once at startup (about 1 MB), with the CDN logo replaced. */
function offlineRedocBundle(file: string): { body: Buffer; etag: string } {
  const body = Buffer.from(readFileSync(file, 'utf8').replaceAll(REDOC_CDN_LOGO, BLANK_IMAGE), 'utf8');
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** Resolved at startup, so a missing package fails when the gate starts, not on the first visit. */
function packageDir(name: string): string {
  return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
}
