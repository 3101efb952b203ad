// Talking to the server: JSON requests whose errors become exceptions with the server's message,
// file uploads, and the session's WebSocket.

export async function request(method, path, body) {
  const options = { method, headers: {} };
  if (body instanceof FormData) {
    options.body = body;
  } else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch (error) {
    throw new Error(`the server answered ${response.status} without JSON`);
  }
  if (!response.ok) throw new Error(payload.error || `request failed (${response.status})`);
  return payload;
}

export function upload(path, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  return request("POST", path, form);
}

// Open the session's push channel. onMessage gets every parsed message (a message that is not
// JSON becomes an error message rather than an exception that would stop the page); onClose is
// called once with the close event.
export function connect(sessionId, onMessage, onClose, onOpen) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/sessions/${sessionId}/socket`);
  socket.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      message = { type: "error", error: `the server sent a message the page cannot read (${error.message})` };
    }
    onMessage(message);
  });
  // A message sent before the socket opens (Play clicked as the page appears) waits for it;
  // dropping it lost the click, and the first frame then showed the button paused again.
  const pending = [];
  socket.addEventListener("open", () => {
    for (const text of pending.splice(0)) socket.send(text);
    if (onOpen) onOpen();
  });
  socket.addEventListener("close", (event) => onClose(event));
  return {
    send(type, extra = {}) {
      const text = JSON.stringify({ type, ...extra });
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else if (socket.readyState === WebSocket.CONNECTING) pending.push(text);
    },
    get open() {
      return socket.readyState === WebSocket.OPEN;
    },
    close() {
      socket.close();
    },
  };
}
