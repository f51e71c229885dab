"""A scripted OpenAI chat-completions server on loopback, for tests of the OpenAI path.

    with ChatStub([tool_call("list_problems", {}), text("done")]) as stub:
        model = ChatOpenAI(base_url=stub.base_url, api_key="k", model="stub")

Each POST /v1/chat/completions takes the next item of the script: a dict made by `text`,
`tool_call`, `tool_calls` or `status`, or a callable `f(request_body) -> item`. The bodies
received are kept in `stub.requests`. Streaming requests (`"stream": true`) get the same
answer as server-sent events. Runs on 127.0.0.1 at a free port, in a daemon thread.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["ChatStub", "text", "tool_call", "tool_calls", "status", "last_tool_result"]


def text(content: str) -> dict:
    return {"kind": "message", "content": content, "tool_calls": []}


def tool_call(name: str, args, call_id: str | None = None) -> dict:
    """One tool call; `args` is a dict, or a string sent as is (e.g. malformed JSON)."""
    return tool_calls((name, args, call_id))


def tool_calls(*calls) -> dict:
    out = []
    for i, (name, args, call_id) in enumerate(calls):
        out.append({"id": call_id or f"call_{time.monotonic_ns()}_{i}", "type": "function",
                    "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}})
    return {"kind": "message", "content": None, "tool_calls": out}


def status(code: int, message: str = "stub error", headers: dict | None = None) -> dict:
    return {"kind": "status", "code": code, "message": message, "headers": headers or {}}


def last_tool_result(body: dict) -> dict:
    """The JSON content of the last tool message in a request (what the tool returned)."""
    for m in reversed(body.get("messages", [])):
        if m.get("role") == "tool":
            try:
                return json.loads(m.get("content") or "null")
            except ValueError:
                return {"text": m.get("content")}
    return {}


class ChatStub:
    def __init__(self, script=(), default=None):
        self.script = list(script)
        self.default = default if default is not None else text("(the stub has no more answers)")
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict) -> dict:
        with self._lock:
            self.requests.append(body)
            item = self.script.pop(0) if self.script else self.default
        return item(body) if callable(item) else item

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, code: int, payload: dict, headers: dict | None = None):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, str(v))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "stub", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found", "type": "not_found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                stub.headers.append(dict(self.headers))
                item = stub._next(body)
                if item["kind"] == "status":
                    self._send(item["code"], {"error": {"message": item["message"], "type": "stub_error",
                                                        "code": str(item["code"])}}, item["headers"])
                    return
                message = {"role": "assistant", "content": item["content"]}
                if item["tool_calls"]:
                    message["tool_calls"] = item["tool_calls"]
                finish = "tool_calls" if item["tool_calls"] else "stop"
                if body.get("stream"):
                    self._stream(body, message, finish)
                    return
                self._send(200, {
                    "id": f"chatcmpl-{len(stub.requests)}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "stub"),
                    "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})

            def _stream(self, body, message, finish):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                base = {"id": f"chatcmpl-{len(stub.requests)}", "object": "chat.completion.chunk",
                        "created": int(time.time()), "model": body.get("model", "stub")}
                deltas = [{"role": "assistant", "content": ""}]
                if message.get("content"):
                    deltas += [{"content": message["content"][i:i + 8]} for i in range(0, len(message["content"]), 8)]
                for i, call in enumerate(message.get("tool_calls") or []):
                    args = call["function"]["arguments"]
                    deltas.append({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                                   "function": {"name": call["function"]["name"], "arguments": ""}}]})
                    deltas += [{"tool_calls": [{"index": i, "function": {"arguments": args[j:j + 10]}}]}
                               for j in range(0, len(args), 10)]
                for d in deltas:
                    chunk = {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                chunk = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n")
                self.wfile.flush()

        return Handler
