// GraphQL over HTTP and graphql-transport-ws, with the bearer token of the session.

import { lang } from "./i18n.js";

const TOKEN_KEY = "leadrouter.token";

export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code ?? "ERROR";
  }
}

export class NetworkError extends Error {}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  onExpired: () => {},
};

// The bearer token and the language of the screen, for a plain HTTP call.
export function authHeaders() {
  return {
    "accept-language": lang(),
    ...(session.token ? { authorization: `Bearer ${session.token}` } : {}),
  };
}

export async function gql(query, variables = {}) {
  let reply;
  try {
    reply = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        // The server's messages in the language of the screen (also the
        // amoCRM user's, in the widget).
        "accept-language": lang(),
        ...(session.token ? { authorization: `Bearer ${session.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  let body;
  try {
    body = await reply.json();
  } catch {
    throw new NetworkError(`HTTP ${reply.status}`);
  }
  if (body.errors?.length) {
    const error = new GraphQLError(body.errors);
    if (error.code === "UNAUTHENTICATED") session.onExpired(error);
    throw error;
  }
  return body.data;
}

// A GET of a CSV export with the bearer token, saved as a file.
export async function download(path, filename) {
  const reply = await fetch(path, { headers: authHeaders() });
  if (!reply.ok) {
    let message = `HTTP ${reply.status}`;
    try {
      const body = await reply.json();
      message = body.error ?? body.message ?? message;
    } catch {
      /* not JSON */
    }
    throw new Error(message);
  }
  const blob = await reply.blob();
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// graphql-transport-ws: one socket for every live view; reconnects with backoff.
class LiveSocket {
  constructor() {
    this.ws = null;
    this.acked = false;
    this.subs = new Map();
    this.next = 1;
    this.retry = 0;
    this.listeners = new Set();
    this.closedByUs = false;
  }

  status(connected) {
    for (const fn of this.listeners) fn(connected);
  }

  connect() {
    if (this.ws) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
    const ws = new WebSocket(url, "graphql-transport-ws");
    this.ws = ws;
    this.acked = false;
    ws.onopen = () => {
      ws.send(
        JSON.stringify({
          type: "connection_init",
          payload: session.token ? { Authorization: `Bearer ${session.token}` } : {},
        }),
      );
    };
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "connection_ack") {
        this.acked = true;
        this.retry = 0;
        this.status(true);
        for (const [id, sub] of this.subs) this.start(id, sub);
      } else if (msg.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      } else if (msg.type === "next") {
        this.subs.get(msg.id)?.onData(msg.payload);
      } else if (msg.type === "error") {
        this.subs.get(msg.id)?.onError?.(new GraphQLError(msg.payload));
      } else if (msg.type === "complete") {
        this.subs.delete(msg.id);
      }
    };
    ws.onclose = () => {
      this.ws = null;
      this.acked = false;
      this.status(false);
      if (this.closedByUs || this.subs.size === 0) return;
      const delay = Math.min(30000, 1000 * 2 ** this.retry);
      this.retry += 1;
      setTimeout(() => this.connect(), delay);
    };
  }

  start(id, sub) {
    this.ws.send(
      JSON.stringify({
        id,
        type: "subscribe",
        payload: { query: sub.query, variables: sub.variables() },
      }),
    );
  }

  subscribe(query, variables, onData, onError) {
    const id = String(this.next++);
    // variables may be a function so a resubscription resumes where it left off.
    const sub = {
      query,
      variables: typeof variables === "function" ? variables : () => variables,
      onData,
      onError,
    };
    this.subs.set(id, sub);
    this.closedByUs = false;
    if (!this.ws) this.connect();
    else if (this.acked) this.start(id, sub);
    return () => {
      if (!this.subs.delete(id)) return;
      if (this.ws && this.acked) this.ws.send(JSON.stringify({ id, type: "complete" }));
      if (this.subs.size === 0 && this.ws) {
        this.closedByUs = true;
        this.ws.close();
      }
    };
  }

  onStatus(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  reset() {
    this.closedByUs = true;
    this.subs.clear();
    this.ws?.close();
    this.ws = null;
  }
}

export const live = new LiveSocket();
