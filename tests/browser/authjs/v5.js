// Entry for dist/next-auth-v5.js: the unmodified next-auth 5.x (beta) `next-auth/react` client.
import * as client from "next-auth-v5/react";

window.nextAuth = client;
window.nextAuthVersion = "5";
