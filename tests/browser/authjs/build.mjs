// Bundles v4.js and v5.js into self-contained browser scripts (IIFE, no eval,
// no inline code needed) for the WebDriver tests: `npm ci && node build.mjs`.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

// Both clients read these at module load. With NEXTAUTH_URL (and the
// VERCEL_URL / NEXTAUTH_URL_INTERNAL fallbacks) undefined, parseUrl() falls
// back to "http://localhost:3000/api/auth" and, in a browser
// (typeof window !== "undefined"), apiBaseUrl() returns only its path:
// the relative "/api/auth" on the page's own origin. Note that a relative
// NEXTAUTH_URL such as "/api/auth" would NOT work: parseUrl turns it into
// "https:///api/auth", i.e. host "api", path "/auth".
const define = {
  "process.env.NEXTAUTH_URL": "undefined",
  "process.env.NEXTAUTH_URL_INTERNAL": "undefined",
  "process.env.VERCEL_URL": "undefined",
  "process.env.NODE_ENV": JSON.stringify("production"),
};

const bundles = [
  { entry: "v4.js", out: "dist/next-auth-v4.js" },
  { entry: "v5.js", out: "dist/next-auth-v5.js" },
];

let failed = false;
for (const { entry, out } of bundles) {
  const outfile = path.join(here, out);
  try {
    const result = await build({
      absWorkingDir: here,
      entryPoints: [path.join(here, entry)],
      outfile,
      bundle: true,
      format: "iife",
      platform: "browser",
      target: "es2020",
      minify: false,
      sourcemap: false,
      legalComments: "none",
      define,
      logLevel: "warning",
    });
    if (result.errors.length > 0) throw new Error(`${result.errors.length} error(s)`);
    // Anything left reading `process` would throw a ReferenceError in the page.
    const code = await readFile(outfile, "utf8");
    const leftover = code.match(/.{0,60}\bprocess\.env\b.{0,60}/);
    if (leftover) throw new Error(`unresolved process.env in ${out}: ${leftover[0]}`);
    console.log(`built ${out} (${code.length} bytes)`);
  } catch (err) {
    console.error(`failed to build ${out}: ${err?.message ?? err}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
