// Entry for dist/next-auth-v4.js: the unmodified next-auth 4.x `next-auth/react` client.
import * as client from "next-auth-v4/react";

window.nextAuth = client;
window.nextAuthVersion = "4";
